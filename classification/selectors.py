"""Reads of title classification: the compiled active rule set, queues and engagement.

``active_ruleset()`` costs one small query (the rule-set version) per call and none per title:
the compiled ``RuleSet`` is cached per process, keyed by version, and rebuilt only when a rule
change (``classification.services``) bumped the version.
"""

import threading
from datetime import timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from .engine import Rule, RuleSet, shadowed_rules
from .models import (
    ClassificationRule,
    ClassificationSettings,
    ClassificationValue,
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


def values_for(*, dimension: str) -> list[str]:
    return list(
        ClassificationValue.objects.filter(dimension=dimension)
        .order_by("value")
        .values_list("value", flat=True)
    )


def unclassified_titles(*, dimension: str, limit: int = 100, search: str = "") -> list[dict]:
    """Distinct Contact titles with no value for `dimension`, most frequent first.

    Each item: {"title", "contacts"}. Deleted contacts and empty titles are left out.
    """
    if dimension not in Dimension.values:
        raise ValueError(f"unknown dimension {dimension!r}")
    from accounts.models import Contact

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
    from accounts.models import Contact

    empty = Q(**{f"{dimension}__isnull": True}) | Q(**{dimension: ""})
    found = (
        Contact.objects.filter(empty, is_deleted=False)
        .exclude(title="")
        .aggregate(titles=Count("title", distinct=True), contacts=Count("pk"))
    )
    return found["titles"], found["contacts"]


def executive_engaged(*, account_ids=None, opportunity_ids=None, now=None) -> dict:
    """Executives engaged per Account and per Opportunity.

    An executive is a Contact whose seniority is one of the configured executive values
    (ClassificationSettings, default "Vice President" and "Executive"); engaged when the contact
    took part in an activity (activities.Participant.contact) in the last `engaged_days` days.
    Per Account: the contact's own Account. Per Opportunity: the activity's Opportunity.
    `account_ids` / `opportunity_ids` limit the answer (None: all). Two queries at most.

    Returns {"accounts": {account_id: {"count", "contacts"}}, "opportunities": {...},
    "since": datetime, "executive_values": [...]}; each contact is
    {"id", "name", "title", "seniority", "last_activity_at"}, most recent first.
    """
    from activities.models import Participant

    config = ClassificationSettings.load()
    executive_values = config.executive_values
    since = (now or timezone.now()) - timedelta(days=config.engaged_days)
    base = Participant.objects.filter(
        contact__isnull=False,
        contact__is_deleted=False,
        contact__seniority__in=executive_values,
        activity__occurred_at__gte=since,
    )
    contact_fields = (
        "contact_id",
        "contact__first_name",
        "contact__last_name",
        "contact__title",
        "contact__seniority",
    )

    def group(qs, key):
        out: dict = {}
        rows = qs.values(key, *contact_fields).annotate(last=Max("activity__occurred_at"))
        for row in rows.order_by(key, "-last", "contact_id"):
            entry = out.setdefault(row[key], {"count": 0, "contacts": []})
            entry["count"] += 1
            name = " ".join(p for p in (row["contact__first_name"], row["contact__last_name"]) if p)
            entry["contacts"].append(
                {
                    "id": row["contact_id"],
                    "name": name,
                    "title": row["contact__title"],
                    "seniority": row["contact__seniority"],
                    "last_activity_at": row["last"],
                }
            )
        return out

    accounts: dict = {}
    opportunities: dict = {}
    if account_ids is None or account_ids:
        qs = base.filter(contact__account__isnull=False)
        if account_ids is not None:
            qs = qs.filter(contact__account_id__in=list(account_ids))
        accounts = group(qs, "contact__account_id")
    if opportunity_ids is None or opportunity_ids:
        qs = base.filter(activity__opportunity__isnull=False)
        if opportunity_ids is not None:
            qs = qs.filter(activity__opportunity_id__in=list(opportunity_ids))
        opportunities = group(qs, "activity__opportunity_id")
    return {
        "accounts": accounts,
        "opportunities": opportunities,
        "since": since,
        "executive_values": executive_values,
    }


IMPACT_EXAMPLES = 20


def impact_of(*, draft: dict) -> dict:
    """How many existing Contacts a draft rule would change, with examples before/after.

    The draft replaces the active rule with the same id (or is added). Compares, for the draft's
    dimension, each contact's value under the active rules with its value under the draft set.
    """
    from accounts.models import Contact  # noqa: PLC0415 - accounts imports classification

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
