"""Title-classification throughput: prints figures, asserts nothing.

    .venv/bin/python bench/classify_bench.py [--titles 1000000] [--baseline-titles 2000]

Generates realistic job titles (seniority x function x modifiers, a multilingual sprinkle,
deterministic seed) and rule sets of 100, 1,000 and 10,000 rules (the seniority starter pack,
realistic function phrases, synthetic phrases). For each rule set: compile time, the compiled
set's memory, titles/s on all-distinct titles (no cache) and on titles with realistic repetition
(the LRU cache on). At 10,000 rules it times a naive baseline (one compiled regex per rule, on a
subset) and prints the speed-up.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
import tracemalloc
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classification.engine import (  # noqa: E402
    DEPARTMENT,
    SENIORITY,
    Rule,
    RuleSet,
    load_rulepack,
    phrase_key,
)

SEED = 20240611

LEVELS_EN = [
    "",
    "",
    "",
    "Senior",
    "Sr.",
    "Junior",
    "Lead",
    "Principal",
    "Staff",
    "Head of",
    "Director of",
    "Director,",
    "VP",
    "VP,",
    "Vice President of",
    "SVP",
    "Chief",
    "Associate",
    "Assistant",
]
FUNCTIONS_EN = [
    "Sales",
    "Marketing",
    "Finance",
    "Engineering",
    "Software Engineering",
    "Product",
    "Product Marketing",
    "Customer Success",
    "Customer Service",
    "Operations",
    "Sales Operations",
    "Revenue Operations",
    "Information Systems",
    "Information Technology",
    "IT",
    "Human Resources",
    "People",
    "Talent Acquisition",
    "Legal",
    "Procurement",
    "Supply Chain",
    "Business Development",
    "Partnerships",
    "Data Science",
    "Security",
    "Design",
    "Solutions",
    "Technical",
    "Professional Services",
    "Demand Generation",
]
ROLES_EN = [
    "",
    "",
    "Manager",
    "Engineer",
    "Analyst",
    "Specialist",
    "Consultant",
    "Representative",
    "Coordinator",
    "Architect",
    "Lead",
    "Director",
    "Associate",
    "Administrator",
    "Officer",
    "Partner",
]
SUFFIXES = ["", "", "", "", " II", " III", ", EMEA", ", North America", " (Remote)", " - DACH"]
MULTILINGUAL = [
    "Geschäftsführer",
    "Leiter Vertrieb",
    "Teamleiterin Marketing",
    "Vertriebsleiter DACH",
    "Ingenieur Qualitätssicherung",
    "Vizepräsident Finanzen",
    "Directeur Général",
    "Directrice Commerciale",
    "Responsable Marketing Digital",
    "Ingénieur d'affaires",
    "Chef de Projet Informatique",
    "Director de Ventas",
    "Gerente de Cuentas",
    "Ingeniero de Software",
    "Vicepresidenta de Finanzas",
    "代表取締役社長",
    "営業部長",
    "シニアマネージャー",
    "開発課長",
    "営業担当",
    "销售总监",
    "技术经理",
    "软件工程师",
    "首席执行官",
    "ＣＥＯ",
    "Straße Projektleiter",
]


def make_titles(n: int, rng: random.Random) -> list[str]:
    """Titles with realistic repetition: a skewed choice among plausible combinations."""
    titles = []
    choice = rng.choice
    random_ = rng.random
    for _ in range(n):
        if random_() < 0.08:
            titles.append(choice(MULTILINGUAL))
            continue
        level = choice(LEVELS_EN)
        # a skew towards the first functions, as in real CRMs
        function = FUNCTIONS_EN[min(int(rng.expovariate(0.12)), len(FUNCTIONS_EN) - 1)]
        role = choice(ROLES_EN)
        title = " ".join(p for p in (level, function, role) if p) + choice(SUFFIXES)
        titles.append(title)
    return titles


def make_distinct(titles: list[str]) -> list[str]:
    """The same titles made all distinct with a number no rule matches ("Sales Manager #12")."""
    return [f"{t} #{i}" for i, t in enumerate(titles)]


SYLLABLES = [
    "ka",
    "to",
    "ri",
    "mi",
    "so",
    "ne",
    "lu",
    "va",
    "ze",
    "po",
    "qui",
    "dra",
    "fen",
    "gor",
    "hal",
    "ix",
    "jor",
    "kel",
    "mun",
    "nor",
    "ost",
]


def pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def make_rules(size: int, rng: random.Random) -> list[Rule]:
    """Starter pack + realistic function phrases + synthetic phrases, ``size`` rules in all."""
    rules: list[Rule] = [
        Rule.from_mapping({**r, "id": i}) for i, r in enumerate(load_rulepack("seniority_starter"))
    ][: size // 2]
    seen = {(r.dimension, r.words) for r in rules}

    def add(keyword: str, dimension: str, value: str, priority: int = 0) -> None:
        key = (dimension, phrase_key(keyword))
        if key[1] and key not in seen and len(rules) < size:
            seen.add(key)
            rules.append(Rule(keyword, dimension, value, priority, id=len(rules)))

    for function in FUNCTIONS_EN:
        add(function, DEPARTMENT, function)
    vocab = [w for f in FUNCTIONS_EN + ROLES_EN + LEVELS_EN for w in f.split() if w.isalpha()]
    values = ["Sales", "Marketing", "Engineering", "IT", "Finance", "Operations", "HR", "Legal"]
    while len(rules) < size:
        r = rng.random()
        if r < 0.3:  # realistic combinations of title words: they match and compete
            keyword = " ".join(rng.choice(vocab) for _ in range(rng.randint(2, 3)))
        elif r < 0.4:  # CJK phrases of 2-4 characters
            keyword = "".join(
                rng.choice("営業部長課技術経理销售总监开发財務人事") for _ in range(2, 5)
            )
        else:  # synthetic: pseudo-words, sometimes glued to a real word
            words = [pseudo_word(rng) for _ in range(rng.randint(1, 3))]
            if rng.random() < 0.3:
                words.insert(0, rng.choice(vocab))
            keyword = " ".join(words)
        add(
            keyword,
            DEPARTMENT if rng.random() < 0.7 else SENIORITY,
            rng.choice(values),
            rng.randint(0, 3),
        )
    return rules


_CJK = ("CJK", "HIRAGANA", "KATAKANA")


class NaiveBaseline:
    """One compiled regex per rule over the normalised title; winner by the same order."""

    def __init__(self, rules: list[Rule]) -> None:
        self.compiled = []
        for rule in rules:
            words = rule.words
            if not words:
                continue
            # words of scripts without spaces (one character each) match inside the text
            cjk = [len(w) == 1 and unicodedata.name(w, "").startswith(_CJK) for w in words]
            body = re.escape(words[0])
            for i in range(1, len(words)):
                sep = r"[\W_]*" if cjk[i - 1] and cjk[i] else r"[\W_]+"
                body += sep + re.escape(words[i])
            before = "" if cjk[0] else r"(?<![^\W_])"
            after = "" if cjk[-1] else r"(?![^\W_])"
            self.compiled.append((re.compile(before + body + after), len(words), rule))

    def classify(self, title: str) -> dict[str, Rule | None]:
        text = unicodedata.normalize("NFKC", title).casefold()
        best: dict[str, tuple] = {}
        for pattern, n, rule in self.compiled:
            m = pattern.search(text)
            if m is not None:
                score = (n, rule.priority, -m.start())
                if rule.dimension not in best or score > best[rule.dimension][0]:
                    best[rule.dimension] = (score, rule)
        return {dim: best[dim][1] if dim in best else None for dim in (DEPARTMENT, SENIORITY)}


def rate(fn, items) -> float:
    start = time.perf_counter()
    fn(items)
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--titles", type=int, default=1_000_000)
    parser.add_argument("--baseline-titles", type=int, default=2_000)
    args = parser.parse_args()

    rng = random.Random(SEED)
    t0 = time.perf_counter()
    titles = make_titles(args.titles, rng)
    distinct = make_distinct(titles)
    print(
        f"titles: {len(titles):,} generated in {time.perf_counter() - t0:.1f}s; "
        f"{len(set(titles)):,} distinct among them (repetition as in real CRMs); "
        f"all-distinct variant: {len(set(distinct)):,} distinct"
    )
    print(f"python {sys.version.split()[0]}")
    header = (
        f"{'rules':>7} {'phrases':>8} {'compile':>9} {'memory':>9} "
        f"{'distinct/s':>12} {'repeat+cache/s':>15} {'hit rate':>9}"
    )
    print(header)
    print("-" * len(header))
    figures = {}
    rulesets = {}
    for size in (100, 1_000, 10_000):
        rules = make_rules(size, random.Random(SEED + size))
        tracemalloc.start()
        start = time.perf_counter()
        RuleSet.compile(rules, cache_size=0)
        compile_s = time.perf_counter() - start
        current, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        # timed compile without tracemalloc's overhead
        start = time.perf_counter()
        uncached = RuleSet.compile(rules, cache_size=0)
        compile_s = time.perf_counter() - start
        cached = RuleSet.compile(rules)  # default LRU cache (65,536 titles)
        distinct_rate = rate(uncached.classify_many, distinct)
        repeat_rate = rate(cached.classify_many, titles)
        info = cached.cache_info()
        hit_rate = info.hits / max(1, info.hits + info.misses)
        figures[size] = (distinct_rate, repeat_rate)
        rulesets[size] = (rules, uncached)
        print(
            f"{size:>7,} {uncached.phrase_count:>8,} {compile_s * 1000:>7.1f}ms "
            f"{current / 1e6:>7.2f}MB {distinct_rate:>12,.0f} {repeat_rate:>15,.0f} "
            f"{hit_rate:>8.1%}"
        )

    d100, r100 = figures[100]
    d10k, r10k = figures[10_000]
    print(
        f"10,000 vs 100 rules: all-distinct {d100 / d10k:.2f}x slower, "
        f"with cache {r100 / r10k:.2f}x slower (target: within 1.5x)"
    )

    rules, engine = rulesets[10_000]
    subset = distinct[: args.baseline_titles]
    baseline = NaiveBaseline(rules)
    start = time.perf_counter()
    naive_results = [baseline.classify(t) for t in subset]
    naive_rate = len(subset) / (time.perf_counter() - start)
    agree = sum(
        (n[DEPARTMENT], n[SENIORITY]) == tuple(engine.classify(t))
        for n, t in zip(naive_results, subset, strict=True)
    )
    print(
        f"naive baseline at 10,000 rules (one regex per rule, {len(subset):,} titles, "
        f"extrapolated): {naive_rate:,.0f} titles/s; engine all-distinct is "
        f"{d10k / naive_rate:,.0f}x faster, with cache {r10k / naive_rate:,.0f}x "
        f"(baseline agrees with the engine on {agree / len(subset):.1%} of the subset)"
    )
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole bench process (titles included): {maxrss:,.0f} MB")


if __name__ == "__main__":
    main()
