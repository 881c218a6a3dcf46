"""Contacts from activities: for each external participant of a matched activity, log the activity
on the Contact or Lead it has, or create one when every gate holds, and record why
(ContactDecision). Called by activities.services after matching, inside its transaction.

Three steps: load what the decisions need (a fixed number of queries per call), decide for each
participant (`decisions.decide`, pure), then apply every decision in batched writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max

from accounts import services as account_services
from accounts.models import SalesforceUser
from accounts.selectors import contacts_by_email, leads_by_email
from classification.selectors import active_ruleset
from crmbridge.bulk import rows_insert, rows_update_values
from crmbridge.models import GlobalSettings
from crmbridge.selectors import profiles_for_users

from .decisions import Decision, Outcome, decide, participant_details
from .logs import activity_logs_create_many
from .models import Activity, ActivityLog, ContactAttributeChange, ContactDecision, Participant


@dataclass
class ProcessResult:
    contacts_created: int = 0
    leads_created: int = 0
    logged: int = 0
    attribute_changes: int = 0
    not_created: int = 0


def _owner_sf_users(activities) -> dict:
    missing = {a.owner_id for a in activities if a.owner_sf_user_id is None}
    found = {}
    if missing:
        for sf_user in SalesforceUser.objects.filter(user_id__in=missing, is_active=True):
            found[sf_user.user_id] = sf_user
    return found


def _newest_change_times(contact_ids) -> dict:
    if not contact_ids:
        return {}
    rows = (
        ContactAttributeChange.objects.filter(contact_id__in=contact_ids)
        .values("contact_id", "field")
        .annotate(newest=Max("activity__occurred_at"))
    )
    return {(r["contact_id"], r["field"]): r["newest"] for r in rows}


def contacts_process(*, activities=(), fresh=None) -> ProcessResult:
    """Decide, create, classify and log for the external participants of `activities`.
    Runs in the caller's transaction (or its own).

    `fresh` is what ingestion has in memory for activities it has just created (instead of
    `activities`): (activity, [participants]) pairs, the MatchContext it matched them with and
    the Global Settings it read, so nothing is read again (a new activity has no decisions or
    logs yet)."""
    result = ProcessResult()
    if fresh is not None:
        pairs, ctx, settings = fresh
        # No savepoint of its own: nothing here recovers from an error, which ends the
        # caller's transaction as a whole (a savepoint is two more round trips per call).
        with transaction.atomic(savepoint=False):
            _process(_from_memory(pairs, ctx, settings), result)
        return result
    ids = [a.pk if isinstance(a, Activity) else a for a in activities]
    if not ids:
        return result
    with transaction.atomic(savepoint=False):
        _process(_load(ids), result)
    return result


@dataclass
class _Loaded:
    """What the decisions of one call need, loaded with a fixed number of queries."""

    activities: list
    participants: dict  # activity pk -> [Participant]
    settings: object
    profiles: dict  # owner user pk -> ConfigurationProfile | None
    sf_owner_of_user: dict
    contacts: dict  # lower e-mail -> Contact (new ones join as they are decided)
    leads: dict
    decisions: dict  # participant pk -> pk of its existing ContactDecision
    logged: set
    ruleset: object
    change_times: dict
    new_activities: bool = False  # created in this transaction (ingestion's `fresh`)


def _load(ids) -> _Loaded | None:
    acts = list(
        Activity.objects.filter(pk__in=ids)
        .exclude(match_status=Activity.MatchStatus.PENDING)
        .select_related("owner", "owner_sf_user", "account", "opportunity")
        .order_by("occurred_at", "pk")
    )
    if not acts:
        return None
    by_activity = defaultdict(list)
    for p in (
        Participant.objects.filter(activity__in=acts, is_internal=False)
        .select_related("contact__account", "lead", "account")
        .order_by("pk")
    ):
        by_activity[p.activity_id].append(p)
    participants = [p for ps in by_activity.values() for p in ps]
    if not participants:
        return None
    emails = {p.email.lower() for p in participants if p.email}
    logged = set()
    for act_id, contact_id, lead_id in ActivityLog.objects.filter(activity__in=acts).values_list(
        "activity_id", "contact_id", "lead_id"
    ):
        logged.add((act_id, "c", contact_id) if contact_id else (act_id, "l", lead_id))
    return _loaded(
        acts,
        by_activity,
        settings=GlobalSettings.load(),
        contacts=contacts_by_email(emails=emails),
        leads=leads_by_email(emails=emails),
        decisions=dict(
            ContactDecision.objects.filter(
                participant__in=[p.pk for p in participants]
            ).values_list("participant_id", "pk")
        ),
        logged=logged,
    )


def _from_memory(pairs, ctx, settings) -> _Loaded | None:
    """_Loaded for activities just created (see contacts_process's `fresh`). The MatchContext's
    Leads leave out the addresses that have a Contact, which never need a Lead here."""
    acts = sorted(
        (a for a, _ in pairs if a.match_status != Activity.MatchStatus.PENDING),
        key=lambda a: (a.occurred_at, a.pk),
    )
    external = {a.pk: [p for p in ps if not p.is_internal] for a, ps in pairs}
    by_activity = {pk: sorted(ps, key=lambda p: p.pk) for pk, ps in external.items() if ps}
    if not acts or not by_activity:
        return None
    return _loaded(
        acts,
        by_activity,
        settings=settings,
        contacts=ctx.contacts,
        leads=ctx.leads,
        decisions={},
        logged=set(),
        new_activities=True,
    )


def _loaded(
    acts, by_activity, *, settings, contacts, leads, decisions, logged, new_activities=False
) -> _Loaded:
    """The rest of _Loaded: profiles, owners, rule set and change times."""
    profiles = profiles_for_users(user_ids=[a.owner_id for a in acts])
    first_contacts = {e: rows[0] for e, rows in contacts.items() if rows}
    return _Loaded(
        activities=acts,
        participants=by_activity,
        settings=settings,
        profiles=profiles,
        sf_owner_of_user=_owner_sf_users(acts),
        contacts=first_contacts,
        leads={e: rows[0] for e, rows in leads.items() if rows},
        decisions=decisions,
        logged=logged,
        ruleset=active_ruleset(),
        change_times=(
            _newest_change_times([c.pk for c in first_contacts.values()])
            if settings.auto_attribute_updates
            else {}
        ),
        new_activities=new_activities,
    )


@dataclass
class _Writes:
    """Every write of one call, applied together at the end (people first)."""

    # (existing pk or None, participant, activity, (email, outcome, checks, profile name),
    #  contact, lead)
    decisions: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    leads: list = field(default_factory=list)
    roles: list = field(default_factory=list)
    logs: list = field(default_factory=list)


def _process(loaded: _Loaded | None, result: ProcessResult) -> None:
    if loaded is None:
        return
    writes = _Writes()
    for activity in loaded.activities:
        owner = activity.owner_sf_user or loaded.sf_owner_of_user.get(activity.owner_id)
        profile = loaded.profiles[activity.owner_id]
        for p in loaded.participants.get(activity.pk, []):
            key = p.email.lower()
            contact = p.contact if p.contact and not p.contact.is_deleted else None
            contact = contact or loaded.contacts.get(key)
            lead = None if contact else (p.lead or loaded.leads.get(key))
            details = None
            # decide reads them for a gate (no one has the address) or an attribute update only
            if (contact is None and lead is None) or loaded.settings.auto_attribute_updates:
                details = participant_details(activity, p)
            decision = decide(
                settings=loaded.settings,
                profile=profile,
                activity=activity,
                participant=p,
                details=details,
                contact=contact,
                lead=lead,
                ruleset=loaded.ruleset,
                owner=owner,
                known=loaded.change_times,
            )
            _apply(decision, activity, p, profile, loaded, writes, result)
    account_services.contacts_create_many(contacts=writes.contacts)
    account_services.leads_create_many(leads=writes.leads)
    account_services.opportunity_contact_roles_create_many(pairs=writes.roles)
    made = activity_logs_create_many(entries=writes.logs, new_activities=loaded.new_activities)
    result.contacts_created += len(writes.contacts)
    result.leads_created += len(writes.leads)
    result.logged += len(made)
    _decisions_write(writes.decisions)


_DECISION_FIELDS = ["activity", "email", "outcome", "checks", "profile_name", "contact", "lead"]
_DECISION_COLUMNS = [
    "activity_id",
    "email",
    "outcome",
    "checks",
    "profile_name",
    "contact_id",
    "lead_id",
]


def _decisions_write(decisions) -> None:
    """Store the decisions as plain rows (no model instances): new ones inserted, the others
    updated in place. A person created in this call has its pk by now."""
    new, changed = [], []
    for pk, participant, activity, values, contact, lead in decisions:
        row = (activity.pk, *values, contact.pk if contact else None, lead.pk if lead else None)
        if pk is None:
            new.append(
                {"participant_id": participant.pk, **dict(zip(_DECISION_COLUMNS, row, strict=True))}
            )
        else:
            changed.append((pk, *row))
    rows_insert(model=ContactDecision, rows=new)
    rows_update_values(model=ContactDecision, fields=_DECISION_FIELDS, rows=changed)


def _apply(decision: Decision, activity, participant, profile, loaded, writes, result) -> None:
    """Turn one decision into rows to write (and make a new person known to later ones)."""
    contact, lead = decision.contact, decision.lead
    key = participant.email.lower()
    if decision.outcome == Outcome.CREATED_CONTACT:
        contact = account_services.contact_build(**decision.new_person)
        writes.contacts.append(contact)
        loaded.contacts[key] = contact
        if activity.opportunity_id:
            writes.roles.append((activity.opportunity, contact))
    elif decision.outcome == Outcome.CREATED_LEAD:
        lead = account_services.lead_build(**decision.new_person)
        writes.leads.append(lead)
        loaded.leads[key] = lead
    elif decision.outcome == Outcome.NOT_CREATED:
        result.not_created += 1
    if contact is not None or lead is not None:
        _log(writes.logs, activity, loaded.logged, contact=contact, lead=lead)
    if decision.attributes:
        result.attribute_changes += _update_attributes(
            contact, decision.attributes, activity, loaded.change_times
        )
    values = (
        participant.email,
        decision.outcome,
        decision.checks,
        profile.name if profile else "",
    )
    writes.decisions.append(
        (loaded.decisions.get(participant.pk), participant, activity, values, contact, lead)
    )


def _log(to_log: list, activity, logged: set, *, contact=None, lead=None) -> None:
    person = contact if contact is not None else lead
    key = (activity.pk, "c" if contact is not None else "l", person.pk or id(person))
    if key not in logged:
        logged.add(key)
        to_log.append((activity, contact, lead))


def _update_attributes(contact, values, activity, change_times) -> int:
    changes = account_services.contact_update_attributes(contact=contact, values=values)
    ContactAttributeChange.objects.bulk_create(
        ContactAttributeChange(
            contact=contact, activity=activity, field=name, old_value=old, new_value=new
        )
        for name, old, new in changes
    )
    for name, _, _ in changes:
        change_times[(contact.pk, name)] = activity.occurred_at
    return len(changes)
