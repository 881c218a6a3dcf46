"""The title-classification engine (pure Python: no database)."""

import pytest

from classification.engine import (
    DIMENSIONS,
    Classification,
    Rule,
    RuleSet,
    load_rulepack,
    normalize_words,
    phrase_key,
    shadowed_rules,
)

EX, VP, DI, MA, IC = (
    "Executive",
    "Vice President",
    "Director",
    "Manager",
    "Individual Contributor",
)


@pytest.fixture(scope="module")
def product_rules():
    """PRODUCT.md's eight example department rules."""
    return RuleSet.compile(load_rulepack("department_examples"))


@pytest.fixture(scope="module")
def starter():
    return RuleSet.compile(load_rulepack("seniority_starter"))


def dept(*rules):
    return [Rule(keyword, "department", value, id=i) for i, (keyword, value) in enumerate(rules)]


# -- words --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Technical-Consultant", ("technical", "consultant")),
        ("Sr. Solutions Engineer", ("sr", "solutions", "engineer")),
        ("Nontechnical", ("nontechnical",)),
        ("VP, Sales & Marketing (EMEA)/APAC", ("vp", "sales", "marketing", "emea", "apac")),
        ("ＣＥＯ", ("ceo",)),  # full-width letters: NFKC
        ("ﬁnance", ("finance",)),  # ligature: NFKC
        ("Straße", ("strasse",)),  # casefold, not lower()
        ("STRASSE", ("strasse",)),
        ("Ingénieur d'affaires", ("ingénieur", "d", "affaires")),
        ("Ingénieur", ("ingénieur",)),  # decomposed é is composed by NFKC
        ("営業部長", ("営", "業", "部", "長")),
        ("ｼﾆｱﾏﾈｰｼﾞｬｰ", tuple("シニアマネージャー")),  # half-width katakana widened
        ("営業・マーケティング", tuple("営業") + tuple("マーケティング")),  # ・ separates
        ("Head of 营销 Dept.", ("head", "of", "营", "销", "dept")),
        ("Team Lead #2", ("team", "lead", "2")),
        ("C++ Developer", ("c", "developer")),
        ("", ()),
        (None, ()),
        (" -- / ", ()),
    ],
)
def test_it_splits_titles_into_normalised_words(text, words):
    assert normalize_words(text) == words


def test_phrase_key_rejects_empty_and_punctuation_only_keywords():
    assert phrase_key("") == ()
    assert phrase_key("  ") == ()
    assert phrase_key("--/&.") == ()
    assert phrase_key("・、。") == ()
    assert phrase_key("Technical-Consultant") == phrase_key("technical consultant")
    assert phrase_key("Vice-President") == phrase_key("VICE PRESIDENT")


# -- PRODUCT.md examples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "department"),
    [
        ("Technical Project Manager II", "Operations"),
        ("Technical Lead", "Engineering"),
        ("Sr. Technical Consultant", "Customer Service"),
        ("Technical Consultant", "Customer Service"),
        ("Technical-Consultant", "Customer Service"),
        ("TECHNICAL CONSULTANT", "Customer Service"),
        ("Consultant", "Customer Service"),
        ("Nontechnical Staff", None),
        ("Chief Information Officer", "IT"),
        ("Information Systems Manager", "IT"),
        ("Director of Marketing", "Marketing"),
        ("VP Finance", "Finance"),
        ("Account Executive", None),
        ("", None),
        (None, None),
    ],
)
def test_it_classifies_product_examples(product_rules, title, department):
    result = product_rules.classify(title)
    assert result.department_value == department
    assert result.seniority is None
    assert product_rules.classify_uncached(title) == result


def test_solutions_engineer_rule_covers_senior_variant():
    rules = RuleSet.compile(dept(("Solutions Engineer", "Sales Engineering")))
    assert rules.classify("Solutions Engineer").department_value == "Sales Engineering"
    assert rules.classify("Sr. Solutions Engineer").department_value == "Sales Engineering"
    assert rules.classify("Solutions Architect").department_value is None
    assert rules.classify("Engineer, Solutions").department_value is None


def test_it_folds_case_with_unicode_rules():
    rules = RuleSet.compile(dept(("STRASSE", "Roads"), ("ΣΟΦΊΑ", "Greek")))
    assert rules.classify("Leiter Straße").department_value == "Roads"
    assert rules.classify("σοφία").department_value == "Greek"
    assert rules.classify("ΣΟΦΙΑ").department_value is None  # accents matter, case does not


def test_it_applies_nfkc_to_titles_and_keywords():
    rules = RuleSet.compile([Rule("CEO", "seniority", EX), Rule("ﬁnance", "department", "F")])
    result = rules.classify("ＣＥＯ／Ｆｉｎａｎｃｅ")
    assert (result.seniority_value, result.department_value) == (EX, "F")


@pytest.mark.parametrize(
    ("title", "department"),
    [
        ("Leiter Vertrieb", "Sales"),  # de
        ("Geschäftsführer Finanzen", "Finance"),
        ("Responsable Marketing Digital", "Marketing"),  # fr
        ("Directrice des Ressources Humaines", "HR"),
        ("Director de Finanzas", "Finance"),  # es
        ("Gerente de Recursos Humanos", "HR"),
        ("営業部長", "Sales"),  # ja, inside the text
        ("マーケティング部 シニアマネージャー", "Marketing"),
        ("财务总监", "Finance"),  # zh
        ("人力资源经理", "HR"),
        ("销售代表", "Sales"),
    ],
)
def test_it_classifies_titles_in_many_languages(title, department):
    rules = RuleSet.compile(
        dept(
            ("Vertrieb", "Sales"),
            ("Finanzen", "Finance"),
            ("Marketing", "Marketing"),
            ("Ressources Humaines", "HR"),
            ("Finanzas", "Finance"),
            ("Recursos Humanos", "HR"),
            ("営業", "Sales"),
            ("マーケティング", "Marketing"),
            ("财务", "Finance"),
            ("人力资源", "HR"),
            ("销售", "Sales"),
        )
    )
    assert rules.classify(title).department_value == department


def test_cjk_phrases_match_inside_the_text():
    rules = RuleSet.compile(
        [
            Rule("部長", "seniority", DI, id=1),
            Rule("マネージャー", "seniority", MA, id=2),
            Rule("经理", "seniority", MA, id=3),
            Rule("总经理", "seniority", EX, id=4),
        ]
    )
    assert rules.classify("営業部長").seniority_value == DI
    assert rules.classify("シニアマネージャー").seniority_value == MA
    assert rules.classify("技术经理").seniority_value == MA
    assert rules.classify("总经理").seniority_value == EX  # 3 characters beat 2
    assert rules.classify("部").seniority_value is None
    assert rules.classify("マネージ").seniority_value is None


# -- who wins ------------------------------------------------------------------------------------


def test_more_words_beats_priority():
    rules = RuleSet.compile(
        [
            Rule("Manager", "seniority", MA, priority=100, id=1),
            Rule("Account Manager", "seniority", IC, priority=0, id=2),
        ]
    )
    assert rules.classify("Senior Account Manager").seniority_value == IC


def test_priority_beats_earlier_start():
    rules = RuleSet.compile(
        [
            Rule("Engineer", "seniority", IC, priority=1, id=1),
            Rule("Director", "seniority", DI, priority=5, id=2),
        ]
    )
    assert rules.classify("Engineer turned Director").seniority_value == DI


def test_earlier_start_wins_on_equal_words_and_priority():
    rules = RuleSet.compile(dept(("Sales", "Sales"), ("Marketing", "Marketing")))
    assert rules.classify("Sales and Marketing Lead").department_value == "Sales"
    assert rules.classify("Marketing and Sales Lead").department_value == "Marketing"
    # the first occurrence of a phrase counts
    assert rules.classify("Sales, Marketing, Sales").department_value == "Sales"


def test_lowest_id_wins_between_same_phrase_and_priority():
    a = Rule("Sales", "department", "Sales A", id=7)
    b = Rule("sales", "department", "Sales B", id=3)
    draft = Rule("SALES", "department", "Sales C", id=None)
    assert RuleSet.compile([a, b, draft]).classify("Sales").department == b
    assert RuleSet.compile([draft, a, b]).classify("Sales").department == b
    assert RuleSet.compile([draft, a]).classify("Sales").department == a
    higher = Rule("Sales", "department", "Sales D", priority=1, id=99)
    assert RuleSet.compile([a, b, higher]).classify("Sales").department == higher


def test_final_tie_break_is_deterministic_without_ids():
    x = Rule("Sales", "department", "Zeta")
    y = Rule("Sales", "department", "Alpha")
    assert RuleSet.compile([x, y]).classify("Sales").department == y
    assert RuleSet.compile([y, x]).classify("Sales").department == y


def test_dimensions_are_independent():
    rules = RuleSet.compile(
        [
            Rule("Technical Project Manager", "department", "Operations", id=1),
            Rule("Manager", "seniority", MA, id=2),
        ]
    )
    result = rules.classify("Technical Project Manager")
    assert result == Classification(rules.rules[0], rules.rules[1])
    assert result.value("department") == "Operations"
    assert result.rule("seniority").value == MA


def test_no_match_is_null_never_a_guess(product_rules):
    result = product_rules.classify("Barista")
    assert result == Classification(None, None)
    assert result.department_value is None and result.seniority_value is None


def test_classify_many_matches_classify(product_rules):
    titles = ["Technical Lead", "Barista", "Technical Lead", None, "Finance Director"]
    assert product_rules.classify_many(titles) == [product_rules.classify(t) for t in titles]


def test_the_cache_can_be_disabled(product_rules):
    uncached = RuleSet.compile(product_rules.rules, cache_size=0)
    assert uncached.cache_info() is None
    assert uncached.classify("Technical Lead") == product_rules.classify("Technical Lead")
    assert product_rules.cache_info().hits >= 0


def test_rules_without_words_never_match():
    empty = Rule("--", "department", "Nothing", id=1)
    rules = RuleSet.compile([empty, Rule("Sales", "department", "Sales", id=2)])
    assert rules.unmatchable == (empty,)
    assert rules.classify("-- Sales --").department_value == "Sales"


def test_it_rejects_unknown_dimensions():
    with pytest.raises(ValueError, match="dimension"):
        Rule("Sales", "region", "EMEA")


# -- explain -------------------------------------------------------------------------------------


def test_explain_lists_every_match_and_says_why_the_winner_won(product_rules):
    explanation = product_rules.explain("Technical Project Manager II")
    department = explanation.department
    assert department.value == "Operations"
    assert [(m.rule.keyword, m.start, m.words) for m in department.matches] == [
        ("Technical Project Manager", 0, 3),
        ("Technical", 0, 1),
    ]
    assert department.reason == (
        "'Technical Project Manager' (3 words) beats 'Technical' (1 word): more specific"
    )
    assert department.matches[0].lost_because is None
    assert department.matches[1].lost_because == department.reason
    assert explanation.seniority.winner is None
    assert "unclassified" in explanation.seniority.reason
    assert explanation.classification == product_rules.classify("Technical Project Manager II")


def test_explain_names_priority_start_and_tie_break_reasons():
    rules = RuleSet.compile(
        [
            Rule("Engineer", "seniority", IC, priority=1, id=1),
            Rule("Director", "seniority", DI, priority=5, id=2),
            Rule("Sales", "department", "Sales", id=3),
            Rule("Marketing", "department", "Marketing", id=4),
            Rule("sales", "department", "Sales 2", id=5),
        ]
    )
    explanation = rules.explain("Marketing Engineer, Sales Director")
    assert "higher priority" in explanation.seniority.reason
    assert explanation.department.winner.keyword == "Marketing"
    assert "starts earlier" in explanation.department.reason
    reasons = [m.lost_because for m in rules.explain("Sales").department.matches]
    assert reasons[0] is None and "lowest id" in reasons[1]
    only = rules.explain("Engineer").seniority.reason
    assert only == "'Engineer' is the only matching seniority rule"


# -- shadowed rules ------------------------------------------------------------------------------


def test_shadowed_rules_reports_rules_that_can_never_win():
    a = Rule("Sales", "department", "Sales", priority=0, id=1)
    b = Rule("SALES!", "department", "Revenue", priority=5, id=2)
    c = Rule("sales", "department", "Sales", priority=5, id=3)
    d = Rule("Sales", "seniority", IC, id=4)  # other dimension: not shadowed
    e = Rule("Sales Manager", "department", "Sales", id=5)  # longer phrase: not shadowed
    f = Rule("...", "department", "Nothing", id=6)
    shadowed = shadowed_rules([a, b, c, d, e, f])
    assert [(s.rule, s.by) for s in shadowed] == [(a, b), (c, b), (f, None)]
    assert "higher priority (5 > 0)" in shadowed[0].reason
    assert "tie-break" in shadowed[1].reason
    assert "never match" in shadowed[2].reason
    ruleset = RuleSet.compile([a, b, c, d, e, f])
    for title in ("Sales", "sales rep", "Head of Sales"):
        assert ruleset.classify(title).department == b


def test_shipped_rule_packs_have_no_shadowed_rules():
    for name in ("seniority_starter", "department_examples"):
        pack = load_rulepack(name)
        assert shadowed_rules(pack) == []
        assert all(phrase_key(r["keyword"]) for r in pack)
        assert {r["dimension"] for r in pack} <= set(DIMENSIONS)


def test_department_examples_pack_is_exactly_product_md():
    pack = load_rulepack("department_examples")
    assert [(r["keyword"], r["value"]) for r in pack] == [
        ("Information Systems", "IT"),
        ("Chief Information Officer", "IT"),
        ("Consultant", "Customer Service"),
        ("Marketing", "Marketing"),
        ("Technical Consultant", "Customer Service"),
        ("Technical Project Manager", "Operations"),
        ("Technical", "Engineering"),
        ("Finance", "Finance"),
    ]


def test_load_rulepack_rejects_paths():
    with pytest.raises(ValueError):
        load_rulepack("../engine")


# -- the seniority starter pack ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "seniority"),
    [
        ("Chief Executive Officer", EX),
        ("CEO & Co-Founder", EX),
        ("Chief Information Officer", EX),
        ("President", EX),
        ("Vice President of Engineering", VP),
        ("Senior Vice President, Sales", VP),
        ("SVP Marketing", VP),
        ("Vice President, Head of EMEA", VP),  # 2 words each: priority
        ("VP, Head of EMEA", VP),  # one word each: priority
        ("Chief Revenue Officer, Head of Sales", EX),
        ("Sales Head, APAC", DI),
        ("VP & General Manager", VP),
        ("General Manager", DI),
        ("Associate Vice President", VP),
        ("Lead Generation Specialist", IC),
        ("Director of Sales Engineering", DI),
        ("Senior Director, Product", DI),
        ("Head of Customer Success", DI),
        ("Engineering Manager", MA),
        ("Technical Lead", MA),
        ("Senior Software Engineer", IC),
        ("Account Executive", IC),
        ("Executive Assistant to the CEO", IC),
        ("Sales Development Representative", IC),
        ("Geschäftsführer", EX),
        ("Vorstand Finanzen", EX),
        ("Vizepräsident Vertrieb", VP),
        ("Leiter Marketing", DI),
        ("Teamleiterin Support", MA),
        ("Softwareentwickler", None),  # German compound not in the pack: unclassified
        ("Ingenieur Qualitätssicherung", IC),
        ("Président-Directeur Général", EX),
        ("PDG", EX),
        ("Directeur Général Adjoint", VP),
        ("Vice-Présidente Ventes", VP),
        ("Directrice Commerciale", DI),
        ("Responsable Marketing", MA),
        ("Ingénieur Commercial", IC),
        ("Director General", EX),
        ("Vicepresidente de Ventas", VP),
        ("Director de Ingeniería", DI),
        ("Gerente de Cuentas", MA),
        ("Ingeniero de Software", IC),
        ("代表取締役社長", EX),
        ("取締役副社長", EX),
        ("副社長", VP),
        ("営業部長", DI),
        ("シニアマネージャー", MA),
        ("開発課長", MA),
        ("営業担当", IC),
        ("首席执行官", EX),
        ("副总裁", VP),
        ("销售总监", DI),
        ("技术经理", MA),
        ("软件工程师", IC),
        ("Barista", None),
    ],
)
def test_starter_pack_classifies_realistic_titles(starter, title, seniority):
    assert starter.classify(title).seniority_value == seniority


def test_thai_matches_inside_the_text():
    rules = RuleSet.compile([Rule("ผู้จัดการ", "seniority", MA, id=1)])  # "manager"
    assert rules.classify("ผู้จัดการฝ่ายขาย").seniority_value == MA


def test_the_engine_imports_no_django():
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, classification.engine; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    root = Path(__file__).resolve().parent.parent
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0
