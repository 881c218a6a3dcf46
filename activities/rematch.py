"""Matching activities again: after Accounts gain domains, and when a person sets the match
(Edit match). The first match happens at ingestion (activities.services)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from accounts.domain_services import account_domain_add
from accounts.models import Account
from crmbridge.people import display_name
from crmbridge.roles import ADMIN, has_role

from . import matching
from .models import Activity, MatchEdit, Participant
from .services import (
    ACTIVITY_MATCH_FIELDS,
    PARTICIPANT_MATCH_FIELDS,
    after_match,
    apply_activity_match,
    apply_participant_match,
    match_context_for,
)

REMATCH_DAYS = 90


def activities_rematch(*, activities) -> int:
    """Match these activities again (except those a person set with Edit match).
    Returns how many changed status or Account."""
    activities = [a for a in activities if not a.match_edited]
    if not activities:
        return 0
    by_activity = {}
    for participant in Participant.objects.filter(activity__in=activities).order_by("pk"):
        by_activity.setdefault(participant.activity_id, []).append(participant)
    ctx = match_context_for(emails={p.email for ps in by_activity.values() for p in ps})
    changed, all_parts = [], []
    for activity in activities:
        parts = by_activity.get(activity.pk, [])
        before = (activity.match_status, activity.account_id, activity.opportunity_id)
        outcome = matching.match_activity(
            emails=[p.email for p in parts], owner_sf_user_id=activity.owner_sf_user_id, ctx=ctx
        )
        apply_activity_match(activity, outcome)
        for participant, found in zip(parts, outcome.participants, strict=True):
            apply_participant_match(participant, found)
        all_parts.extend(parts)
        if before != (activity.match_status, activity.account_id, activity.opportunity_id):
            changed.append(activity)
    with transaction.atomic():
        Activity.objects.bulk_update(activities, ACTIVITY_MATCH_FIELDS, batch_size=500)
        Participant.objects.bulk_update(all_parts, PARTICIPANT_MATCH_FIELDS, batch_size=1000)
        if changed:
            after_match(changed)
    return len(changed)


def activities_rematch_domains_announced(sender, *, domains, background=False, **kwargs) -> int:
    """Accounts gained `domains` (accounts.signals.account_domains_added): re-match their recent
    unmatched activity, in a task when the change came from a person's request."""
    if background:
        async_task("activities.tasks.activities_rematch_domains", list(domains))
        return 0
    return activities_rematch_for_domains(domains=domains)


def activities_rematch_for_domains(*, domains, days=REMATCH_DAYS, chunk=500) -> int:
    """Re-match the unmatched (and ambiguous) activities of the last `days` days that have a
    participant on one of `domains`. Returns how many changed."""
    domains = sorted({d.lower() for d in domains if d})
    if not domains:
        return 0
    since = timezone.now() - dt.timedelta(days=days)
    ids = list(
        Activity.objects.filter(
            match_status__in=[Activity.MatchStatus.UNMATCHED, Activity.MatchStatus.AMBIGUOUS],
            match_edited=False,
            occurred_at__gte=since,
            participants__domain__in=domains,
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    changed = 0
    for start in range(0, len(ids), chunk):
        batch = Activity.objects.filter(pk__in=ids[start : start + chunk])
        changed += activities_rematch(activities=list(batch))
    return changed


def activity_match_candidates(*, activity) -> list:
    """The Accounts Edit match offers first: those matching names for the activity today (the
    Accounts sharing an ambiguous domain, those participants point at), then its current one.
    Each with its owner and domains, to tell same-named Accounts apart."""
    parts = list(activity.participants.order_by("pk").values_list("email", flat=True))
    outcome = matching.match_activity(
        emails=parts,
        owner_sf_user_id=activity.owner_sf_user_id,
        ctx=match_context_for(emails=set(parts)),
    )
    ids = []
    for found in outcome.participants:
        for account in [*found.candidates, found.account]:
            if account is not None and account.pk not in ids:
                ids.append(account.pk)
    if activity.account_id and activity.account_id not in ids:
        ids.append(activity.account_id)
    rows = Account.objects.filter(pk__in=ids, is_deleted=False).select_related("owner")
    by_pk = {a.pk: a for a in rows.prefetch_related("domains")}
    return [by_pk[pk] for pk in ids if pk in by_pk]


def match_snapshot(activity) -> dict:
    """What an activity's match is, as recorded in a MatchEdit."""
    return {
        "status": activity.match_status,
        "account": (
            {"sf_id": activity.account.sf_id, "name": activity.account.name}
            if activity.account_id
            else None
        ),
        "opportunity": (
            {"sf_id": activity.opportunity.sf_id, "name": activity.opportunity.name}
            if activity.opportunity_id
            else None
        ),
        "reason": activity.match_reason,
    }


@transaction.atomic
def activity_match_edit(
    *, activity, account, opportunity=None, user, add_domain: str = ""
) -> MatchEdit:
    """A person sets an activity's Account (and Opportunity). Recorded; re-matching keeps it.

    With `add_domain` (Admins only), the domain is also added to the Account.
    """
    if opportunity is not None and (account is None or opportunity.account_id != account.pk):
        raise ValidationError({"opportunity": "Choose an Opportunity of the chosen Account."})
    if add_domain and not has_role(user, ADMIN):
        raise ValidationError({"add_domain": "Only an Admin may add a domain to an Account."})
    if add_domain and account is None:
        raise ValidationError({"add_domain": "Choose an Account to add the domain to."})
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    before = match_snapshot(activity)
    added = ""
    if add_domain:
        added = account_domain_add(account=account, domain=add_domain, user=user).domain
    activity.account = account
    activity.opportunity = opportunity
    activity.match_status = (
        Activity.MatchStatus.MATCHED if account is not None else Activity.MatchStatus.UNMATCHED
    )
    activity.match_edited = True
    activity.match_reason_code = "edited"
    who = display_name(user)
    activity.match_reason = (
        f"Set by {who} with Edit match on {timezone.now():%Y-%m-%d %H:%M} UTC"
        + (f": {account.name}." if account is not None else ": no Account.")
    )
    activity.save(update_fields=[*ACTIVITY_MATCH_FIELDS, "match_edited"])
    edit = MatchEdit.objects.create(
        activity=activity,
        user=user,
        before=before,
        after=match_snapshot(activity),
        added_domain=added,
    )
    after_match([activity])
    return edit
