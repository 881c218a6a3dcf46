"""Writes of activities: ingestion (API and import), re-matching, and a person's Edit match.

Ingestion is batched: validating and matching are pure Python over data loaded with a fixed
number of queries per call (owners, existing activities, Contacts, Leads, Account domains, open
Opportunities, Global Settings), then one insert for the activities and one for participants.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower

from accounts import selectors as account_selectors
from accounts.models import SalesforceUser
from crmbridge.bulk import cycle_collection_paused, instance_build, objects_insert
from crmbridge.models import GlobalSettings
from crmbridge.roles import ADMIN, has_role
from crmbridge.transactions import atomic_with_retry

from . import matching
from .contacts import contacts_process
from .contract import activities_validate
from .models import Activity, Participant

MAX_BULK = 1000


CREATED, EXISTING, REJECTED = "created", "existing", "rejected"


@dataclass
class IngestResult:
    status: str  # created | existing | rejected
    activity: Activity | None = None
    errors: dict = field(default_factory=dict)
    # For an activity this call created: its participants as stored (pk order), so that the
    # answer needs no read back.
    participants: list | None = None


def _users_by_email(emails):
    User = get_user_model()
    found = {}
    rows = (
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in={e.lower() for e in emails}, is_active=True)
        .select_related("salesforce_user")
        .order_by("pk")
    )
    for user in rows:
        found.setdefault(user.email_lower, user)
    return found


def _sf_users_by_email(emails):
    found = {}
    if not emails:
        return found
    rows = (
        SalesforceUser.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in={e.lower() for e in emails}, is_deleted=False)
        .order_by("-is_active", "pk")
    )
    for row in rows:
        found.setdefault(row.email_lower, row)
    return found


def _owner_sf_user(user, sf_by_email):
    linked = getattr(user, "salesforce_user", None)
    return linked or sf_by_email.get(user.email.lower())


def match_context_for(*, emails, settings=None, owner_sf_user_ids=None) -> matching.MatchContext:
    """Load what matching needs for these participant e-mails: a fixed number of queries.
    With `owner_sf_user_ids` (the owners of the activities to match), only their Opportunities
    are read: matching links an activity only to one its owner owns."""
    settings = settings or GlobalSettings.load()
    emails = {e.lower() for e in emails}
    domains = {matching.participant_domain(e) for e in emails} - {""}
    by_pk = {}  # one Account object per row, shared by its domains and Contacts
    accounts = account_selectors.accounts_for_domains(domains=domains, known=by_pk)
    contacts = account_selectors.contacts_by_email(emails=emails, accounts=by_pk)
    leads = account_selectors.leads_by_email(emails=emails - set(contacts))
    opportunities = account_selectors.open_opportunities_for_accounts(
        account_ids=set(by_pk), owner_ids=owner_sf_user_ids
    )
    return matching.MatchContext(
        contacts=contacts,
        leads=leads,
        accounts=accounts,
        open_opportunities=opportunities,
        internal_domains=tuple(settings.internal_domains or ()),
        extra_personal_domains=tuple(settings.extra_personal_domains or ()),
    )


# field -> the match result's attribute that sets it
_ACTIVITY_MATCH = {
    "match_status": "status",
    "account": "account",
    "opportunity": "opportunity",
    "match_reason_code": "reason_code",
    "match_reason": "reason",
}
_PARTICIPANT_MATCH = {
    "domain": "domain",
    "is_internal": "is_internal",
    "matched_kind": "matched_kind",
    "match_rule": "rule",
    "match_reason": "reason",
    "contact": "contact",
    "lead": "lead",
    "account": "account",
}
ACTIVITY_MATCH_FIELDS = list(_ACTIVITY_MATCH)
PARTICIPANT_MATCH_FIELDS = list(_PARTICIPANT_MATCH)


def activity_match_values(result: matching.ActivityMatch) -> dict:
    """An activity's fields as its match sets them."""
    return {name: getattr(result, attr) for name, attr in _ACTIVITY_MATCH.items()}


def participant_match_values(result: matching.ParticipantMatch) -> dict:
    """A participant's fields as its match sets them."""
    return {name: getattr(result, attr) for name, attr in _PARTICIPANT_MATCH.items()}


def apply_activity_match(activity, result: matching.ActivityMatch):
    for name, value in activity_match_values(result).items():
        setattr(activity, name, value)


def apply_participant_match(participant, result: matching.ParticipantMatch):
    for name, value in participant_match_values(result).items():
        setattr(participant, name, value)


def after_match(activities, *, fresh=None):
    """Runs inside the ingestion / re-match / Edit match transaction, after matching: the one
    place that starts contact creation (`fresh`: see contacts_process)."""
    contacts_process(activities=activities, fresh=fresh)


def _existing_by_key(keys):
    if not keys:
        return {}
    by_source = {}
    for source, external_id in keys:
        by_source.setdefault(source, set()).add(external_id)
    condition = Q()
    for source, ids in by_source.items():
        condition |= Q(source=source, external_id__in=ids)
    return {(a.source, a.external_id): a for a in Activity.objects.filter(condition)}


def _insert(new_rows):
    """Insert activities and their participants, as one batch. A concurrent call that stores
    some of the same keys first makes this one wait on the unique index, then refuse: those
    are read back (and answered as existing) and the rest go in again as one batch. Always in
    key order: concurrent calls with overlapping keys then wait for each other on the unique
    index instead of deadlocking. Returns ({id(activity): activity} created, {id(activity):
    the stored one} taken)."""
    pending = sorted(new_rows, key=lambda row: (row[0].source, row[0].external_id))
    created, taken = {}, {}
    while pending:
        try:
            with transaction.atomic():
                objects_insert([activity for activity, _ in pending])
                parts = []
                for activity, participants in pending:
                    for participant in participants:
                        participant.activity = activity
                        parts.append(participant)
                objects_insert(parts)
        except IntegrityError:
            for activity, participants in pending:  # their ids went with the rolled-back rows
                activity.pk = None
                for participant in participants:
                    participant.pk = None
        else:
            created.update((id(activity), activity) for activity, _ in pending)
            return created, taken
        stored = _existing_by_key({(a.source, a.external_id) for a, _ in pending})
        if not stored:  # not a key a concurrent call stored: find the row one by one
            return _insert_one_by_one(pending, created, taken)
        for activity, _ in pending:
            if (found := stored.get((activity.source, activity.external_id))) is not None:
                taken[id(activity)] = found
        pending = [row for row in pending if id(row[0]) not in taken]
    return created, taken


def _insert_one_by_one(rows, created, taken):
    for activity, participants in rows:
        activity.pk = None
        try:
            with transaction.atomic():
                activity.save(force_insert=True)
                for participant in participants:
                    participant.pk = None
                    participant.activity = activity
                Participant.objects.bulk_create(participants)
            created[id(activity)] = activity
        except IntegrityError:
            taken[id(activity)] = Activity.objects.get(
                source=activity.source, external_id=activity.external_id
            )
    return created, taken


def _existing_result(activity, owner, actor_is_admin) -> IngestResult:
    """A re-send answers with the activity it repeats, but never shows a rep someone else's:
    the same source+external_id under another owner is refused, without saying whose it is."""
    if actor_is_admin or activity.owner_id == owner.pk:
        return IngestResult(EXISTING, activity)
    message = "This external_id is not accepted: send a different one."
    return IngestResult(REJECTED, errors={"external_id": [message]})


def activity_ingest_many(*, items, actor=None, default_source="api") -> list[IngestResult]:
    """Ingest activities (dicts as the API takes them): one IngestResult per item, in order.

    A bad item is rejected with reasons and never stops the others. Re-sending the same
    source + external_id gives the existing activity (status "existing"). With an `actor` who is
    not an Admin, only the actor's own activities are accepted.
    """
    with cycle_collection_paused():
        return _ingest_many(list(items), actor, default_source)


def _ingest_many(items, actor, default_source) -> list[IngestResult]:
    results: list[IngestResult | None] = [None] * len(items)
    cleaned = []
    for index, item in enumerate(activities_validate(items, default_source=default_source)):
        if isinstance(item, dict):
            results[index] = IngestResult(REJECTED, errors=item)
        else:
            cleaned.append((index, item))
    if not cleaned:
        return results

    users = _users_by_email({c.owner_email for _, c in cleaned})
    # Only owners with no linked Salesforce User are looked up by their e-mail.
    sf_users = _sf_users_by_email(
        {e for e, user in users.items() if getattr(user, "salesforce_user", None) is None}
    )
    actor_is_admin = actor is None or has_role(actor, ADMIN)
    accepted = []
    for index, item in cleaned:
        owner = users.get(item.owner_email.lower())
        if owner is None:
            message = f"No crmbridge user has the e-mail {item.owner_email}."
            results[index] = IngestResult(REJECTED, errors={"owner": [message]})
        elif not actor_is_admin and owner.pk != actor.pk:
            results[index] = IngestResult(
                REJECTED, errors={"owner": ["You may only send your own activities."]}
            )
        else:
            accepted.append((index, item, owner))
    if not accepted:
        return results

    def write():  # run again from the start if PostgreSQL aborts it (crmbridge.transactions)
        existing = _existing_by_key({(item.source, item.external_id) for _, item, _ in accepted})
        fresh, first_of_key = [], {}
        for index, item, owner in accepted:
            key = (item.source, item.external_id)
            if key in existing:
                results[index] = _existing_result(existing[key], owner, actor_is_admin)
            elif key in first_of_key:
                first_of_key[key][1].append(index)
            else:
                first_of_key[key] = (index, [])
                fresh.append((index, item, owner))
        if fresh:
            settings = GlobalSettings.load()
            owner_sf = {id(owner): _owner_sf_user(owner, sf_users) for _, _, owner in fresh}
            ctx = match_context_for(
                emails={p["email"] for _, item, _ in fresh for p in item.participants},
                settings=settings,
                owner_sf_user_ids={u.pk for u in owner_sf.values() if u is not None},
            )
            rows = []
            for index, item, owner in fresh:
                sf_user = owner_sf[id(owner)]
                owner_sf_id = sf_user.pk if sf_user else None
                outcome = matching.match_activity(
                    emails=[p["email"] for p in item.participants],
                    owner_sf_user_id=owner_sf_id,
                    ctx=ctx,
                )
                activity = instance_build(
                    Activity,
                    {
                        "source": item.source,
                        "external_id": item.external_id,
                        "kind": item.kind,
                        "occurred_at": item.occurred_at,
                        "ends_at": item.ends_at,
                        "owner": owner,
                        "owner_sf_user": sf_user,
                        "subject": item.subject,
                        "body": item.body,
                        **activity_match_values(outcome),
                    },
                )
                participants = [
                    instance_build(Participant, {**person, **participant_match_values(found)})
                    for person, found in zip(item.participants, outcome.participants, strict=True)
                ]
                rows.append((index, activity, participants))
            created, taken = _insert([(a, p) for _, a, p in rows])
            made = []
            for index, activity, participants in rows:
                if id(activity) in created:
                    results[index] = IngestResult(CREATED, activity, participants=participants)
                    made.append((activity, participants))
                else:
                    results[index] = _existing_result(
                        taken[id(activity)], activity.owner, actor_is_admin
                    )
                first = results[index]
                for repeat in first_of_key[(activity.source, activity.external_id)][1]:
                    # The same key again in this call: answered as the first one, with its
                    # participants as built when this call created it (none to read back).
                    results[repeat] = IngestResult(
                        EXISTING if first.status != REJECTED else REJECTED,
                        first.activity,
                        errors=first.errors,
                        participants=first.participants,
                    )
            if made:
                after_match([], fresh=(made, ctx, settings))

    atomic_with_retry(write)
    return results


def activity_ingest(*, item, actor=None, default_source="api") -> IngestResult:
    """Ingest one activity (see activity_ingest_many)."""
    return activity_ingest_many(items=[item], actor=actor, default_source=default_source)[0]
