"""Title classification engine: keyword rules -> department and seniority of a job title.

Pure Python: no Django, no database, no I/O while classifying. The Django layer loads the rules
of one rule-set version, compiles them once with ``RuleSet.compile`` and reuses the result.

API
---
``Rule(keyword, dimension, value, priority=0, id=None)``
    Frozen dataclass. ``dimension`` is ``"department"`` or ``"seniority"``; ``id`` is any hashable
    (``None`` for a draft rule that is being previewed).
``normalize_words(text) -> tuple[str, ...]``
    NFKC, then ``str.casefold``, then split into words (see "Words" below).
``phrase_key(keyword) -> tuple[str, ...]``
    The normalised words of a rule's keyword. Two rules of one dimension with the same key are the
    same phrase; an empty tuple means the keyword is empty or punctuation only (invalid).
``RuleSet.compile(rules, *, version=None, cache_size=65536) -> RuleSet``
    ``rules`` are ``Rule`` objects or mappings with the same keys (extra keys such as ``note`` are
    ignored). Rules whose keyword has no words can never match: they are kept in
    ``ruleset.unmatchable`` and otherwise ignored.
``ruleset.classify(title) -> Classification``
    ``Classification(department, seniority)``: the winning ``Rule`` per dimension or ``None``;
    ``.department_value`` / ``.seniority_value`` (``None`` = unclassified, never a guess),
    ``.rule(dimension)``, ``.value(dimension)``. ``title`` may be ``None`` (no match).
``ruleset.classify_many(titles) -> list[Classification]``
``ruleset.explain(title) -> Explanation``
    Per dimension (``explanation.department`` / ``.seniority`` / ``.dimension(name)``): every
    matching rule with its start (0-based word index) and word count, best first, each loser with
    the reason it lost, and a one-sentence ``reason`` for the winner.
``shadowed_rules(rules) -> list[Shadowed]``
    Rules that can never win, each with the rule that beats it and a short reason.
``load_rulepack(name) -> list[dict]``
    A JSON rule pack from ``classification/rulepacks/<name>.json``.

Words
-----
After NFKC and case folding, a word is a maximal run of letters, digits and combining marks
(Unicode categories L, N, M). Everything else -- spaces, punctuation, hyphens, symbols -- separates
words: "Technical-Consultant" is ``technical, consultant``, "Sr. Solutions Engineer" is
``sr, solutions, engineer``, and "Nontechnical" is one word that does not contain "technical".
Consequences worth knowing: "C++" and "C#" are the word ``c``; variation selectors and zero-width
joiners separate words.

Scripts written without spaces between words (Han, Hiragana, Katakana, Bopomofo, Thai, Lao, Khmer,
Myanmar, Tibetan) make every character its own word, so a phrase matches anywhere inside the text:
"部長" matches "営業部長", "マネージャー" matches "シニアマネージャー". For such phrases "number of
words" is therefore the number of characters ("代表取締役" is 5 words and beats "取締役", 3 words,
in the same title), which keeps "the longer phrase is the more specific" true. Hangul is written
with spaces and is treated like Latin.

Who wins
--------
Among the rules of one dimension whose phrase occurs in the title (as consecutive words):

1. the phrase with more words;
2. then the higher ``priority``;
3. then the phrase that starts earlier in the title (its first occurrence counts);
4. then -- only possible between rules with the same phrase and priority -- the lowest ``id``
   (rules without an id come after rules with one; ids of different types are ordered by type
   name), then the value, then the keyword as written.

Performance
-----------
Compiling builds a trie over phrase words; each trie node that ends a phrase holds, per dimension,
the rule that wins among rules with that phrase (steps 2 and 4 are settled at compile time). A title
is tokenised once and walked through the trie from each word, so the cost per title depends on the
title's length, not on the number of rules. ``classify`` keeps an LRU cache of recent titles
(``cache_size=0`` disables it); ``classify_uncached`` bypasses it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from .words import normalize_words, phrase_key, words_list

__all__ = [
    "DEPARTMENT",
    "DIMENSIONS",
    "SENIORITY",
    "Classification",
    "DimensionExplanation",
    "Explanation",
    "Match",
    "Rule",
    "RuleSet",
    "Shadowed",
    "load_rulepack",
    "normalize_words",
    "phrase_key",
    "shadowed_rules",
]

DEPARTMENT = "department"
SENIORITY = "seniority"
DIMENSIONS = (DEPARTMENT, SENIORITY)

RULEPACK_DIR = Path(__file__).resolve().parent / "rulepacks"


# --------------------------------------------------------------------------------------------
# Rules and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    keyword: str
    dimension: str
    value: str
    priority: int = 0
    id: Hashable = None

    def __post_init__(self) -> None:
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"dimension must be one of {DIMENSIONS}, not {self.dimension!r}")
        if not isinstance(self.priority, int) or isinstance(self.priority, bool):
            raise TypeError(f"priority must be an int, not {self.priority!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Rule:
        return cls(
            keyword=data["keyword"],
            dimension=data["dimension"],
            value=data["value"],
            priority=int(data.get("priority") or 0),
            id=data.get("id"),
        )

    @property
    def words(self) -> tuple[str, ...]:
        return phrase_key(self.keyword)


def _as_rule(rule: Rule | Mapping[str, Any]) -> Rule:
    return rule if isinstance(rule, Rule) else Rule.from_mapping(rule)


def _id_key(rule: Rule) -> tuple:
    """Final tie-break between rules with the same phrase and priority: smaller key wins.

    Lowest id first; rules without an id last; ids of different types ordered by type name;
    then value, then keyword as written.
    """
    rid = rule.id
    id_part = (1, "", 0) if rid is None else (0, type(rid).__name__, rid)
    return (id_part, rule.value, rule.keyword)


def _rank_key(rule: Rule) -> tuple:
    """Order of rules sharing one phrase in one dimension: best first."""
    return (-rule.priority, _id_key(rule))


class Classification(NamedTuple):
    """The winning rule per dimension; ``None`` when no rule of that dimension matches."""

    department: Rule | None = None
    seniority: Rule | None = None

    @property
    def department_value(self) -> str | None:
        return None if self.department is None else self.department.value

    @property
    def seniority_value(self) -> str | None:
        return None if self.seniority is None else self.seniority.value

    def rule(self, dimension: str) -> Rule | None:
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dimension!r}")
        return getattr(self, dimension)

    def value(self, dimension: str) -> str | None:
        rule = self.rule(dimension)
        return None if rule is None else rule.value


_UNCLASSIFIED = Classification()


class Match(NamedTuple):
    """One rule whose phrase occurs in the title."""

    rule: Rule
    start: int  # 0-based index of the phrase's first word (first occurrence) in the title
    words: int  # number of words in the phrase
    lost_because: str | None  # None for the winner


class DimensionExplanation(NamedTuple):
    dimension: str
    winner: Rule | None
    matches: tuple[Match, ...]  # best first
    reason: str

    @property
    def value(self) -> str | None:
        return None if self.winner is None else self.winner.value


class Explanation(NamedTuple):
    title: str | None
    words: tuple[str, ...]
    department: DimensionExplanation
    seniority: DimensionExplanation

    def dimension(self, dimension: str) -> DimensionExplanation:
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dimension!r}")
        return getattr(self, dimension)

    @property
    def classification(self) -> Classification:
        return Classification(self.department.winner, self.seniority.winner)


class Shadowed(NamedTuple):
    rule: Rule
    by: Rule | None  # the rule that always beats it (None: it can never match at all)
    reason: str


# --------------------------------------------------------------------------------------------
# Compiled rule set
# --------------------------------------------------------------------------------------------

_END = ""  # trie key of a node's terminal record; never a word
_NO_SCORE = (0, float("-inf"))


def _plural(n: int, word: str = "word") -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _describe(rule: Rule) -> str:
    return repr(rule.keyword)


def _beats(winner: Match, loser: Match) -> str:
    """Why ``winner`` ranks above ``loser`` (both of one dimension), as a short sentence."""
    w, lo = winner, loser
    if w.words != lo.words:
        return (
            f"{_describe(w.rule)} ({_plural(w.words)}) beats {_describe(lo.rule)} "
            f"({_plural(lo.words)}): more specific"
        )
    if w.rule.priority != lo.rule.priority:
        return (
            f"{_describe(w.rule)} (priority {w.rule.priority}) beats {_describe(lo.rule)} "
            f"(priority {lo.rule.priority}): same number of words, higher priority"
        )
    if w.start != lo.start:
        return (
            f"{_describe(w.rule)} (word {w.start + 1}) beats {_describe(lo.rule)} "
            f"(word {lo.start + 1}): same words and priority, starts earlier in the title"
        )
    return (
        f"{_describe(w.rule)} (id {w.rule.id!r}) beats {_describe(lo.rule)} "
        f"(id {lo.rule.id!r}): same phrase and priority, lowest id wins"
    )


class RuleSet:
    """Rules compiled for fast classification. Build once per rule-set version, then reuse.

    Immutable after ``compile``; safe to share between threads.
    """

    def __init__(
        self,
        rules: tuple[Rule, ...],
        *,
        version: Hashable = None,
        cache_size: int = 65536,
    ) -> None:
        self.rules = rules
        self.version = version
        self.unmatchable: tuple[Rule, ...] = tuple(r for r in rules if not r.words)
        # phrase key -> {dimension: [rules best first]}
        by_phrase: dict[tuple[str, ...], dict[str, list[Rule]]] = {}
        for rule in rules:
            key = rule.words
            if key:
                by_phrase.setdefault(key, {}).setdefault(rule.dimension, []).append(rule)
        self._by_phrase: dict[tuple[str, ...], dict[str, tuple[Rule, ...]]] = {
            key: {dim: tuple(sorted(rs, key=_rank_key)) for dim, rs in dims.items()}
            for key, dims in by_phrase.items()
        }
        root: dict[str, Any] = {}
        for key, dims in self._by_phrase.items():
            node = root
            for word in key:
                node = node.setdefault(word, {})
            n = len(key)
            dep = dims.get(DEPARTMENT, ())
            sen = dims.get(SENIORITY, ())
            node[_END] = (
                (n, dep[0].priority) if dep else None,
                dep[0] if dep else None,
                (n, sen[0].priority) if sen else None,
                sen[0] if sen else None,
                key,
            )
        self._root = root
        self.phrase_count = len(self._by_phrase)
        self.max_phrase_words = max((len(k) for k in self._by_phrase), default=0)
        self.cache_size = cache_size
        if cache_size > 0:
            self._cached = lru_cache(maxsize=cache_size)(self.classify_uncached)
        else:
            self._cached = self.classify_uncached

    @classmethod
    def compile(
        cls,
        rules: Iterable[Rule | Mapping[str, Any]],
        *,
        version: Hashable = None,
        cache_size: int = 65536,
    ) -> RuleSet:
        return cls(tuple(_as_rule(r) for r in rules), version=version, cache_size=cache_size)

    def __repr__(self) -> str:
        return (
            f"<RuleSet version={self.version!r} rules={len(self.rules)} "
            f"phrases={self.phrase_count}>"
        )

    # -- classification ------------------------------------------------------------------------

    def classify(self, title: str | None) -> Classification:
        """The winning rule per dimension for ``title`` (cached)."""
        return self._cached(title)

    def classify_many(self, titles: Iterable[str | None]) -> list[Classification]:
        return list(map(self._cached, titles))

    def classify_uncached(self, title: str | None) -> Classification:
        if not title:
            return _UNCLASSIFIED
        words = words_list(title)
        root = self._root
        n = len(words)
        dep = sen = None
        dep_score = sen_score = _NO_SCORE
        for i in range(n):
            node = root.get(words[i])
            if node is None:
                continue
            j = i + 1
            while True:
                term = node.get(_END)
                if term is not None:
                    # strictly better only: on a tie the earlier start (already seen) stays
                    score = term[0]
                    if score is not None and score > dep_score:
                        dep_score = score
                        dep = term[1]
                    score = term[2]
                    if score is not None and score > sen_score:
                        sen_score = score
                        sen = term[3]
                if j >= n:
                    break
                node = node.get(words[j])
                if node is None:
                    break
                j += 1
        if dep is None and sen is None:
            return _UNCLASSIFIED
        return Classification(dep, sen)

    def cache_info(self):
        """``functools`` cache statistics, or ``None`` when the cache is disabled."""
        return self._cached.cache_info() if self.cache_size > 0 else None

    # -- explanation ---------------------------------------------------------------------------

    def _occurrences(self, words: tuple[str, ...]) -> dict[tuple[str, ...], int]:
        """Phrase key -> start of its first occurrence, for every phrase in ``words``."""
        found: dict[tuple[str, ...], int] = {}
        n = len(words)
        for i in range(n):
            node = self._root.get(words[i])
            j = i + 1
            while node is not None:
                term = node.get(_END)
                if term is not None and term[4] not in found:
                    found[term[4]] = i
                if j >= n:
                    break
                node = node.get(words[j])
                j += 1
        return found

    def explain(self, title: str | None) -> Explanation:
        """Every matching rule per dimension, best first, and why the winner won."""
        words = normalize_words(title)
        found = self._occurrences(words)
        per_dim = {}
        for dim in DIMENSIONS:
            candidates = [
                (rule, start, len(key))
                for key, start in found.items()
                for rule in self._by_phrase[key].get(dim, ())
            ]
            candidates.sort(key=lambda c: (-c[2], -c[0].priority, c[1], _id_key(c[0])))
            if not candidates:
                per_dim[dim] = DimensionExplanation(
                    dim, None, (), f"no {dim} rule matches: unclassified"
                )
                continue
            best = Match(*candidates[0], None)
            matches = [best]
            for rule, start, n in candidates[1:]:
                loser = Match(rule, start, n, None)
                matches.append(loser._replace(lost_because=_beats(best, loser)))
            if len(matches) == 1:
                reason = f"{_describe(best.rule)} is the only matching {dim} rule"
            else:
                reason = _beats(best, matches[1])
            per_dim[dim] = DimensionExplanation(dim, best.rule, tuple(matches), reason)
        return Explanation(title, words, per_dim[DEPARTMENT], per_dim[SENIORITY])


# --------------------------------------------------------------------------------------------
# Rule hygiene
# --------------------------------------------------------------------------------------------


def shadowed_rules(rules: Iterable[Rule | Mapping[str, Any]]) -> list[Shadowed]:
    """Rules that can never win, in input order, each with the rule that beats it and why.

    A rule can only lose to a rule of its dimension with the same phrase key: any title that
    contains its phrase contains the other's at the same position with the same word count, so
    priority, then the final tie-break, always decide the same way. A different phrase never
    shadows a rule completely (some title contains one phrase and not the other). A keyword with
    no words can never match at all.
    """
    rules = [_as_rule(r) for r in rules]
    groups: dict[tuple[str, tuple[str, ...]], list[Rule]] = {}
    out: dict[int, Shadowed] = {}
    for index, rule in enumerate(rules):
        key = rule.words
        if not key:
            out[index] = Shadowed(rule, None, "keyword has no words: it can never match")
            continue
        groups.setdefault((rule.dimension, key), []).append(rule)
    index_of = {id(r): i for i, r in enumerate(rules)}
    for (dim, _key), group in groups.items():
        if len(group) < 2:
            continue
        ranked = sorted(group, key=_rank_key)
        best = ranked[0]
        for rule in ranked[1:]:
            same_value = " (same value)" if rule.value == best.value else ""
            if rule.priority < best.priority:
                why = (
                    f"same {dim} phrase as {best.keyword!r} (id {best.id!r}) with higher "
                    f"priority ({best.priority} > {rule.priority}){same_value}"
                )
            else:
                why = (
                    f"same {dim} phrase and priority as {best.keyword!r} (id {best.id!r}), "
                    f"which wins the final tie-break (lowest id){same_value}"
                )
            out[index_of[id(rule)]] = Shadowed(rule, best, why)
    return [out[i] for i in sorted(out)]


# --------------------------------------------------------------------------------------------
# Rule packs
# --------------------------------------------------------------------------------------------


def load_rulepack(name: str) -> list[dict[str, Any]]:
    """Rules of ``classification/rulepacks/<name>.json``: dicts with keyword, dimension, value,
    priority and note. ``RuleSet.compile`` accepts them as they are."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"invalid rule pack name {name!r}")
    path = RULEPACK_DIR / f"{name}.json"
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, list):
        raise ValueError(f"{path.name}: expected a list of rules")
    return data
