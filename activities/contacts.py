"""Contacts from activities: for each external participant of a matched activity, log the activity
on the Contact or Lead it has, or create one when every gate holds, and record why
(ContactDecision). Called by activities.services._after_match, inside the ingestion transaction.

Gates, in order (codes as stored and shown by the diagnostics):

* ``creation_disabled_globally`` - Global Settings has contact creation off;
* ``creation_disabled_on_profile`` - the activity owner's Configuration Profile (own, else the
  default profile) has it off;
* ``activity_unmatched`` - the activity has no Account;
* ``domain_unmatched`` - this person's own address matched no Account (personal mail, a domain
  no Account has, or several Accounts): a Contact only joins the Account its address matched;
* ``missing_first_name``, ``missing_last_name``, ``missing_email`` - the minimum information;
* ``missing_<field>`` - each of Global Settings' ``required_contact_fields`` (country, title,
  phone) that no source knows.

Every gate is evaluated (not only up to the first failure) so that the answer lists them all.
The database work is batched: a fixed number of queries per call plus the writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from email_validator import EmailNotValidError, validate_email

from accounts import services as account_services
from accounts.models import SalesforceUser
from accounts.selectors import contacts_by_email, leads_by_email
from crmbridge.models import CreateAs, GlobalSettings
from crmbridge.selectors import profile_for_user

from .models import Activity, ActivityLog, ContactAttributeChange, ContactDecision, Participant
from .names import person_details

Outcome = ContactDecision.Outcome

FIELD_LABELS = {
    "first_name": "first name",
    "last_name": "last name",
    "email": "e-mail address",
    "country": "country",
    "title": "title",
    "phone": "phone",
}


@dataclass
class ProcessResult:
    contacts_created: int = 0
    leads_created: int = 0
    logged: int = 0
    attribute_changes: int = 0
    not_created: int = 0


def active_ruleset():
    """The title classification rules in force (an empty rule set until classification has
    its models)."""
    try:
        from classification.selectors import active_ruleset as _active
    except ImportError:
        _active = None
    if _active is not None:
        return _active()
    from classification.engine import RuleSet

    return RuleSet.compile([])


def _valid_email(value: str) -> bool:
    if not value:
        return False
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _check(code, passed, message, **detail):
    return {"code": code, "passed": bool(passed), "message": message, "detail": detail}


def account_for_participant(*, activity, participant):
    """The Account a new Contact for `participant` joins: the one its own address matched, and
    only when the activity is matched too."""
    if activity.match_status != Activity.MatchStatus.MATCHED:
        return None
    return participant.account


def evaluate_gates(*, settings, profile, activity, participant, details) -> list[dict]:
    """The gates for one participant, each passed or failed, in words. Pure."""
    email = participant.email
    participant_reason = participant.match_reason
    account = activity.account if activity.match_status == Activity.MatchStatus.MATCHED else None
    checks = [
        _check(
            "creation_disabled_globally",
            settings.contact_creation_enabled,
            "Contact creation is on in Global Settings."
            if settings.contact_creation_enabled
            else "Contact creation is turned off in Global Settings.",
        )
    ]
    if profile is None:
        checks.append(
            _check(
                "creation_disabled_on_profile",
                True,
                "The owner has no Configuration Profile and there is no default profile, "
                "so nothing turns contact creation off.",
                profile=None,
            )
        )
    else:
        on = profile.contact_creation_enabled
        checks.append(
            _check(
                "creation_disabled_on_profile",
                on,
                f"Contact creation is {'on' if on else 'turned off'} on the owner's "
                f"Configuration Profile “{profile.name}”.",
                profile=profile.name,
            )
        )
    if account is not None:
        checks.append(
            _check(
                "activity_unmatched",
                True,
                f"The activity matched the Account “{account.name}”.",
                account=account.name,
            )
        )
    else:
        reason = activity.match_reason or "The activity was not matched to an Account."
        checks.append(
            _check(
                "activity_unmatched",
                False,
                f"The activity is not matched to an Account: {reason}",
                match_status=activity.match_status,
                match_reason=activity.match_reason,
                participant_reason=participant_reason,
            )
        )
    own_account = participant.account
    if own_account is not None:
        checks.append(
            _check(
                "domain_unmatched",
                True,
                f"This person's address matched the Account “{own_account.name}”.",
                account=own_account.name,
            )
        )
    else:
        domain = participant.domain or email.rpartition("@")[2]
        checks.append(
            _check(
                "domain_unmatched",
                False,
                f"This person's domain ({domain}) did not match an Account"
                + (f": {participant_reason}" if participant_reason else "."),
                domain=domain,
                participant_reason=participant_reason,
            )
        )
    values = {
        "first_name": details.first_name,
        "last_name": details.last_name,
        "email": email if _valid_email(email) else "",
        "country": details.country,
        "title": details.title,
        "phone": details.phone,
    }
    required = ["first_name", "last_name", "email"] + [
        f for f in (settings.required_contact_fields or []) if f in values
    ]
    for name in required:
        value = values[name]
        label = FIELD_LABELS[name]
        if value:
            source = details.sources.get(name, "participant")
            message = f"The {label} is known ({value}, from {source.replace('_', ' ')})."
            checks.append(_check(f"missing_{name}", True, message, value=value, source=source))
        else:
            checks.append(
                _check(
                    f"missing_{name}",
                    False,
                    f"The {label} is not known: no display name, signature or address gave it.",
                    field=name,
                )
            )
    return checks


def sender_body(activity, participant) -> str:
    if activity.kind == Activity.Kind.EMAIL and participant.role == Participant.Role.FROM:
        return activity.body or ""
    return ""


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


def contacts_process(*, activities) -> ProcessResult:
    """Decide, create, classify and log for the external participants of `activities`.
    Runs in the caller's transaction (or its own)."""
    ids = [a.pk if isinstance(a, Activity) else a for a in activities]
    result = ProcessResult()
    if not ids:
        return result
    with transaction.atomic():
        _process(ids, result)
    return result


def _process(ids, result: ProcessResult) -> None:
    acts = list(
        Activity.objects.filter(pk__in=ids)
        .exclude(match_status=Activity.MatchStatus.PENDING)
        .select_related("owner", "owner_sf_user", "account", "opportunity")
        .order_by("occurred_at", "pk")
    )
    if not acts:
        return
    by_activity = defaultdict(list)
    for p in (
        Participant.objects.filter(activity__in=acts, is_internal=False)
        .select_related("contact", "lead", "account")
        .order_by("pk")
    ):
        by_activity[p.activity_id].append(p)
    participants = [p for ps in by_activity.values() for p in ps]
    if not participants:
        return

    settings = GlobalSettings.load()
    profiles = {}
    for a in acts:
        if a.owner_id not in profiles:
            profiles[a.owner_id] = profile_for_user(user=a.owner)
    sf_owner_of_user = _owner_sf_users(acts)
    emails = {p.email.lower() for p in participants if p.email}
    contacts = {e: rows[0] for e, rows in contacts_by_email(emails=emails).items() if rows}
    leads = {e: rows[0] for e, rows in leads_by_email(emails=emails).items() if rows}
    existing_decisions = {
        d.participant_id: d
        for d in ContactDecision.objects.filter(participant__in=[p.pk for p in participants])
    }
    logged = set()
    for act_id, contact_id, lead_id in ActivityLog.objects.filter(activity__in=acts).values_list(
        "activity_id", "contact_id", "lead_id"
    ):
        logged.add((act_id, "c", contact_id) if contact_id else (act_id, "l", lead_id))
    ruleset = active_ruleset()
    change_times = (
        _newest_change_times([c.pk for c in contacts.values()])
        if settings.auto_attribute_updates
        else {}
    )

    new_decisions, changed_decisions = [], []
    new_contacts, new_leads, roles, to_log = [], [], [], []
    for activity in acts:
        owner = activity.owner_sf_user or sf_owner_of_user.get(activity.owner_id)
        profile = profiles[activity.owner_id]
        for p in by_activity.get(activity.pk, []):
            key = p.email.lower()
            contact = p.contact if p.contact and not p.contact.is_deleted else contacts.get(key)
            lead = None if contact else (p.lead or leads.get(key))
            details = person_details(
                email=p.email,
                display_name=p.name,
                body=sender_body(activity, p),
                title=p.title,
                phone=p.phone,
                country=p.country,
            )
            decision = existing_decisions.get(p.pk) or ContactDecision(participant=p)
            decision.activity = activity
            decision.email = p.email
            decision.profile_name = profile.name if profile else ""
            decision.contact, decision.lead = None, None
            if contact is not None:
                decision.outcome = Outcome.EXISTING_CONTACT
                decision.contact = contact
                decision.checks = [
                    _check(
                        "existing_contact",
                        True,
                        f"A Contact with this e-mail already exists: {contact}.",
                        contact=str(contact),
                        sf_id=contact.sf_id,
                    )
                ]
                _log(to_log, activity, logged, contact=contact)
                if settings.auto_attribute_updates and contact.pk is not None:
                    result.attribute_changes += _update_attributes(
                        contact, details, activity, ruleset, change_times
                    )
            elif lead is not None:
                decision.outcome = Outcome.EXISTING_LEAD
                decision.lead = lead
                decision.checks = [
                    _check(
                        "existing_lead",
                        True,
                        f"A Lead with this e-mail already exists: {lead}; the activity is logged "
                        "on the Lead and no Contact is created.",
                        lead=str(lead),
                        sf_id=lead.sf_id,
                    )
                ]
                _log(to_log, activity, logged, lead=lead)
            else:
                account = account_for_participant(activity=activity, participant=p)
                checks = evaluate_gates(
                    settings=settings,
                    profile=profile,
                    activity=activity,
                    participant=p,
                    details=details,
                )
                decision.checks = checks
                if all(c["passed"] for c in checks):
                    classified = ruleset.classify(details.title or None)
                    common = {
                        "first_name": details.first_name,
                        "last_name": details.last_name,
                        "email": p.email,
                        "owner": owner,
                        "title": details.title[:128],
                        "phone": details.phone[:40],
                        "country": details.country[:80],
                        "department": classified.department_value,
                        "seniority": classified.seniority_value,
                    }
                    if settings.create_as == CreateAs.LEAD:
                        lead = account_services.lead_build(company=account.name, **common)
                        new_leads.append(lead)
                        leads[key] = lead
                        decision.outcome, decision.lead = Outcome.CREATED_LEAD, lead
                        _log(to_log, activity, logged, lead=lead)
                    else:
                        contact = account_services.contact_build(account=account, **common)
                        new_contacts.append(contact)
                        contacts[key] = contact
                        decision.outcome, decision.contact = Outcome.CREATED_CONTACT, contact
                        if activity.opportunity_id:
                            roles.append((activity.opportunity, contact))
                        _log(to_log, activity, logged, contact=contact)
                else:
                    decision.outcome = Outcome.NOT_CREATED
                    result.not_created += 1
            if decision.pk:
                changed_decisions.append(decision)
            else:
                new_decisions.append(decision)
    # The writes, batched: people first, then what refers to them.
    account_services.contacts_create_many(contacts=new_contacts)
    account_services.leads_create_many(leads=new_leads)
    account_services.opportunity_contact_roles_create_many(pairs=roles)
    made = account_services.activity_logs_create_many(entries=to_log)
    result.contacts_created += len(new_contacts)
    result.leads_created += len(new_leads)
    result.logged += len(made)
    ContactDecision.objects.bulk_create(new_decisions, batch_size=1000)
    ContactDecision.objects.bulk_update(
        changed_decisions,
        ["activity", "email", "outcome", "checks", "profile_name", "contact", "lead"],
        batch_size=500,
    )


def _log(to_log: list, activity, logged: set, *, contact=None, lead=None) -> None:
    person = contact if contact is not None else lead
    key = (activity.pk, "c" if contact is not None else "l", person.pk or id(person))
    if key not in logged:
        logged.add(key)
        to_log.append((activity, contact, lead))


def _update_attributes(contact, details, activity, ruleset, change_times) -> int:
    if contact.sf_modstamp and activity.occurred_at < contact.sf_modstamp:
        return 0  # Salesforce has a newer version of this Contact than the activity
    values = {"title": details.title[:128], "phone": details.phone[:40]}
    if details.title:
        classified = ruleset.classify(details.title)
        values["department"] = classified.department_value
        values["seniority"] = classified.seniority_value
    for field in list(values):
        newest = change_times.get((contact.pk, field))
        if newest is not None and activity.occurred_at < newest:
            values.pop(field)
    changes = account_services.contact_update_attributes(
        contact=contact, values=values, activity=activity
    )
    for change in changes:
        change_times[(contact.pk, change.field)] = activity.occurred_at
    return len(changes)
