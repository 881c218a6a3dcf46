"""The title-classification engine against a brute-force reference, on generated rules and titles
(Hypothesis): the winner, case, surrounding words, any text."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classification.engine import (
    DIMENSIONS,
    Classification,
    Rule,
    RuleSet,
    normalize_words,
    phrase_key,
)

# -- properties ----------------------------------------------------------------------------------

# Words whose case folding is stable under upper()/lower() (no Turkish dotless i, no final sigma).
VOCAB = [
    "sales",
    "Sales",
    "manager",
    "Senior",
    "vice",
    "president",
    "VP",
    "head",
    "of",
    "technical",
    "consultant",
    "Straße",
    "ingénieur",
    "Leiter",
    "部",
    "長",
    "営業",
    "マネージャー",
    "经理",
    "Ärztin",
    "x",
]
SEPARATORS = [" ", "-", ", ", " / ", ". ", " & ", "・"]

words_st = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=3)
rules_st = st.lists(
    st.builds(
        lambda words, dim, value, prio, rid: Rule(" ".join(words), dim, value, prio, rid),
        words_st,
        st.sampled_from(DIMENSIONS),
        st.sampled_from(["A", "B", "C"]),
        st.integers(-2, 2),
        st.one_of(st.none(), st.integers(0, 50)),
    ),
    max_size=12,
)


@st.composite
def titles(draw):
    words = draw(st.lists(st.sampled_from(VOCAB), max_size=8))
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(words), max_size=len(words)))
    return "".join(w + s for w, s in zip(words, seps, strict=True))


# Filler words share no word with any rule vocabulary (Latin letters other than those in VOCAB).
filler_st = st.lists(
    st.text(alphabet="qwyzQWYZ0123456789", min_size=1, max_size=6), min_size=1, max_size=3
).map(" ".join)


def occurs(key, words):
    n = len(key)
    return any(tuple(words[i : i + n]) == key for i in range(len(words) - n + 1))


def reference(rules, title):
    """Brute force: every rule against every position, sorted by the documented order."""
    words = normalize_words(title)
    winners = {}
    for dim in DIMENSIONS:
        candidates = []
        for rule in rules:
            key = phrase_key(rule.keyword)
            if rule.dimension != dim or not key:
                continue
            starts = [i for i in range(len(words) - len(key) + 1) if words[i : i + len(key)] == key]
            if starts:
                rid = rule.id
                id_key = (1, "", 0) if rid is None else (0, type(rid).__name__, rid)
                candidates.append(
                    ((-len(key), -rule.priority, starts[0], id_key, rule.value, rule.keyword), rule)
                )
        winners[dim] = min(candidates, key=lambda c: c[0])[1] if candidates else None
    return Classification(winners["department"], winners["seniority"])


PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


@PROPERTY_SETTINGS
@given(rules=rules_st, title=titles())
def test_property_engine_agrees_with_brute_force(rules, title):
    ruleset = RuleSet.compile(rules)
    assert ruleset.classify(title) == reference(rules, title)
    assert ruleset.explain(title).classification == ruleset.classify(title)


@PROPERTY_SETTINGS
@given(rules=rules_st, title=titles())
def test_property_the_winner_occurs_in_the_title(rules, title):
    result = RuleSet.compile(rules).classify(title)
    words = normalize_words(title)
    for dim in DIMENSIONS:
        winner = result.rule(dim)
        if winner is not None:
            assert winner.dimension == dim
            assert occurs(phrase_key(winner.keyword), words)
        else:
            assert not any(
                r.dimension == dim and occurs(phrase_key(r.keyword), words) for r in rules
            )


@PROPERTY_SETTINGS
@given(rules=rules_st, title=titles(), before=filler_st, after=filler_st)
def test_property_unmatched_words_around_a_title_change_nothing(rules, title, before, after):
    ruleset = RuleSet.compile(rules)
    expected = ruleset.classify(title)
    assert ruleset.classify(f"{before} {title}") == expected
    assert ruleset.classify(f"{title} {after}") == expected
    assert ruleset.classify(f"{before} {title} {after}") == expected


@PROPERTY_SETTINGS
@given(rules=rules_st, title=titles())
def test_property_case_does_not_matter(rules, title):
    ruleset = RuleSet.compile(rules, cache_size=0)
    expected = ruleset.classify(title)
    assert ruleset.classify(title.upper()) == expected
    assert ruleset.classify(title.lower()) == expected
    assert ruleset.classify(title.swapcase()) == expected


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_property_words_are_clean_and_stable_for_any_text(text):
    words = normalize_words(text)
    for word in words:
        assert word and not any(ch.isspace() for ch in word)
    # the words of a title, written with spaces, are the same words again
    assert normalize_words(" ".join(words)) == words
