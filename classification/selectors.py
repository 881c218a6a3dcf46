"""Reads of title classification: the compiled active rule set, queues and engagement.

``active_ruleset()`` costs one small query (the rule-set version) per call and none per title:
the compiled ``RuleSet`` is cached per process, keyed by version, and rebuilt only when a rule
change (``classification.services``) bumped the version.
"""

import threading

from django.db.models import Count, Q

from accounts.models import Contact

from .engine import Rule, RuleSet, shadowed_rules
from .models import (
    ClassificationRule,
    Dimension,
    RuleSetVersion,
)

_cache_lock = threading.Lock()
_cache: dict = {"version": None, "ruleset": None}


def _version_key() -> tuple:
    row = (
        RuleSetVersion.objects.filter(pk=RuleSetVersion.SINGLETON_PK)
        .values_list("version", "changed_at")
        .first()
    )
    return row or (0, None)


def ruleset_version() -> int:
    return _version_key()[0]


def active_rules() -> list:
    """The active rules as engine ``Rule`` objects (one query)."""
    return [rule.as_engine_rule() for rule in ClassificationRule.objects.filter(active=True)]


def active_ruleset() -> RuleSet:
    """The compiled active rules; one query for the version, none for the rules when cached."""
    # Keyed by (version, changed_at): a version number alone could repeat if the row were
    # recreated (a restored database, or tests that roll back).
    key = _version_key()
    with _cache_lock:
        if _cache["ruleset"] is not None and _cache["version"] == key:
            return _cache["ruleset"]
    ruleset = RuleSet.compile(active_rules(), version=key[0])
    with _cache_lock:
        _cache["version"], _cache["ruleset"] = key, ruleset
    return ruleset


def active_ruleset_forget() -> None:
    """Drop this process's compiled rule set (the next call recompiles)."""
    with _cache_lock:
        _cache["version"], _cache["ruleset"] = None, None


def unclassified_titles(*, dimension: str, limit: int = 100, search: str = "") -> list[dict]:
    """Distinct Contact titles with no value for `dimension`, most frequent first.

    Each item: {"title", "contacts"}. Deleted contacts and empty titles are left out.
    """
    if dimension not in Dimension.values:
        raise ValueError(f"unknown dimension {dimension!r}")
    empty = Q(**{f"{dimension}__isnull": True}) | Q(**{dimension: ""})
    qs = Contact.objects.filter(empty, is_deleted=False).exclude(title="")
    if search:
        qs = qs.filter(title__icontains=search)
    rows = qs.values("title").annotate(contacts=Count("id")).order_by("-contacts", "title")[:limit]
    return [{"title": row["title"], "contacts": row["contacts"]} for row in rows]


def unclassified_count(*, dimension: str) -> int:
    return unclassified_summary(dimension=dimension)[0]


def unclassified_summary(*, dimension: str) -> tuple[int, int]:
    """(distinct titles, contacts) that no rule of `dimension` classifies. One query."""
    empty = Q(**{f"{dimension}__isnull": True}) | Q(**{dimension: ""})
    found = (
        Contact.objects.filter(empty, is_deleted=False)
        .exclude(title="")
        .aggregate(titles=Count("title", distinct=True), contacts=Count("pk"))
    )
    return found["titles"], found["contacts"]


IMPACT_EXAMPLES = 20


def impact_of(*, draft: dict) -> dict:
    """How many existing Contacts a draft rule would change, with examples before/after.

    The draft replaces the active rule with the same id (or is added). Compares, for the draft's
    dimension, each contact's value under the active rules with its value under the draft set.
    """
    dimension = draft["dimension"]
    current = active_rules()
    draft_id = draft.get("id")
    others = [r for r in current if draft_id is None or r.id != draft_id]
    replaced = [r for r in current if draft_id is not None and r.id == draft_id]
    if draft.get("delete") or not draft.get("active", True):
        draft_rules = others
        new_rule = None
    else:
        new_rule = Rule(
            draft["keyword"],
            dimension,
            draft["value"],
            draft.get("priority", 0),
            draft_id if draft_id is not None else "draft",
        )
        draft_rules = others + [new_rule]
    dims = {dimension} | {r.dimension for r in replaced}
    before_set = RuleSet.compile(current, cache_size=0)
    after_set = RuleSet.compile(draft_rules, cache_size=0)
    rows = (
        Contact.objects.filter(is_deleted=False)
        .exclude(title="")
        .values("title")
        .annotate(n=Count("id"))
        .order_by("-n", "title")
    )
    changed_contacts = 0
    changed_titles = 0
    examples = []
    for row in rows.iterator(chunk_size=5000):
        before = before_set.classify(row["title"])
        after = after_set.classify(row["title"])
        diff = {d: (before.value(d), after.value(d)) for d in dims}
        if all(b == a for b, a in diff.values()):
            continue
        changed_titles += 1
        changed_contacts += row["n"]
        if len(examples) < IMPACT_EXAMPLES:
            examples.append(
                {
                    "title": row["title"],
                    "contacts": row["n"],
                    "before": {d: b for d, (b, a) in diff.items()},
                    "after": {d: a for d, (b, a) in diff.items()},
                }
            )
    warnings = []
    if new_rule is not None:
        same_phrase = [r for r in draft_rules if r.dimension == dimension]
        warnings = [
            f"Rule {item.rule.keyword!r} can never win: {item.reason}."
            for item in shadowed_rules(same_phrase)
            if item.rule.id == new_rule.id or (item.by is not None and item.by.id == new_rule.id)
        ]
    return {
        "contacts_changing": changed_contacts,
        "titles_changing": changed_titles,
        "examples": examples,
        "warnings": warnings,
    }
