"""Contact decisions, pure: for one external participant of an activity, what crmbridge does
(log on the Contact or Lead it has, create one when every gate holds, or nothing) and why.
No queries: activities.contacts loads the data, calls `decide`, and applies the decisions.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from email_validator import EmailNotValidError

from crmbridge.models import CreateAs

from .addresses import normalise_email
from .models import Activity, ContactDecision, Participant
from .names import PersonDetails, person_details

Outcome = ContactDecision.Outcome

FIELD_LABELS = {
    "first_name": "first name",
    "last_name": "last name",
    "email": "e-mail address",
    "country": "country",
    "title": "title",
    "phone": "phone",
}


def _valid_email(value: str) -> bool:
    if not value:
        return False
    try:
        normalise_email(value)
    except EmailNotValidError:
        return False
    return True


def _check(code, passed, **detail):
    """A check as stored: its code, passed or not, and what it found (`detail`). Its sentence
    is made when it is read (check_message), so a ContactDecision row stays small."""
    return {"code": code, "passed": bool(passed), "detail": detail}


def check_message(check: dict) -> str:
    """A stored check in one sentence: the one stored with it (rows decided before checks were
    stored without one), else made from its code and detail."""
    if message := check.get("message"):
        return message
    code, passed, detail = check["code"], check["passed"], check.get("detail") or {}
    if code == "creation_disabled_globally":
        said = "on" if passed else "turned off"
        return f"Contact creation is {said} in Global Settings."
    if code == "creation_disabled_on_profile":
        if detail.get("profile") is None:
            return (
                "The owner has no Configuration Profile and there is no default profile, "
                "so nothing turns contact creation off."
            )
        said = "on" if passed else "turned off"
        return (
            f"Contact creation is {said} on the owner's Configuration Profile "
            f"“{detail['profile']}”."
        )
    if code == "activity_unmatched":
        if passed:
            return f"The activity matched the Account “{detail.get('account', '')}”."
        reason = detail.get("match_reason") or "The activity was not matched to an Account."
        return f"The activity is not matched to an Account: {reason}"
    if code == "domain_unmatched":
        if passed:
            return f"This person's address matched the Account “{detail.get('account', '')}”."
        reason = detail.get("participant_reason")
        return f"This person's domain ({detail.get('domain', '')}) did not match an Account" + (
            f": {reason}" if reason else "."
        )
    if code == "existing_contact":
        return f"A Contact with this e-mail already exists: {detail.get('contact', '')}."
    if code == "existing_lead":
        return (
            f"A Lead with this e-mail already exists: {detail.get('lead', '')}; the activity "
            "is logged on the Lead and no Contact is created."
        )
    if not code.startswith("missing_"):
        return f"{code.replace('_', ' ').capitalize()}: {'passed' if passed else 'failed'}."
    name = code.removeprefix("missing_")
    label = FIELD_LABELS.get(name, name)
    if passed:
        source = (detail.get("source") or "participant").replace("_", " ")
        return f"The {label} is known ({detail.get('value', '')}, from {source})."
    return f"The {label} is not known: no display name, signature or address gave it."


def with_messages(checks: list[dict]) -> list[dict]:
    """The checks, each with its sentence (`message`), as the diagnostics show them."""
    return [{**check, "message": check_message(check)} for check in checks]


def account_for_participant(*, activity, participant):
    """The Account a new Contact for `participant` joins: the one its own address matched, and
    only when the activity is matched too."""
    if activity.match_status != Activity.MatchStatus.MATCHED:
        return None
    return participant.account


def evaluate_gates(*, settings, profile, activity, participant, details) -> list[dict]:
    """The gates for one participant, each passed or failed (check_message says it in words).
    Pure."""
    email = participant.email
    participant_reason = participant.match_reason
    account = activity.account if activity.match_status == Activity.MatchStatus.MATCHED else None
    checks = [_check("creation_disabled_globally", settings.contact_creation_enabled)]
    if profile is None:
        checks.append(_check("creation_disabled_on_profile", True, profile=None))
    else:
        checks.append(
            _check(
                "creation_disabled_on_profile",
                profile.contact_creation_enabled,
                profile=profile.name,
            )
        )
    if account is not None:
        checks.append(_check("activity_unmatched", True, account=account.name))
    else:
        checks.append(
            _check(
                "activity_unmatched",
                False,
                match_status=activity.match_status,
                match_reason=activity.match_reason,
                participant_reason=participant_reason,
            )
        )
    own_account = participant.account
    if own_account is not None:
        checks.append(_check("domain_unmatched", True, account=own_account.name))
    else:
        domain = participant.domain or email.rpartition("@")[2]
        checks.append(
            _check("domain_unmatched", False, domain=domain, participant_reason=participant_reason)
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
        if value := values[name]:
            source = details.sources.get(name, "participant")
            checks.append(_check(f"missing_{name}", True, value=value, source=source))
        else:
            checks.append(_check(f"missing_{name}", False, field=name))
    return checks


def participant_details(activity, participant) -> PersonDetails:
    """What the activity tells about this participant: their display name, title, phone and
    country, and the signature of the e-mail body when they sent it."""
    sent = activity.kind == Activity.Kind.EMAIL and participant.role == Participant.Role.FROM
    return person_details(
        email=participant.email,
        display_name=participant.name,
        body=(activity.body or "") if sent else "",
        title=participant.title,
        phone=participant.phone,
        country=participant.country,
    )


@dataclass
class Decision:
    """What to do for one participant: `outcome` and `checks` are stored as its ContactDecision;
    `contact` / `lead` is the existing person to log on; `new_person` the fields of the Contact
    (with `account`) or Lead (with `company`) to create; `attributes` the values an existing
    Contact may take from this activity."""

    outcome: str
    checks: list
    contact: object = None
    lead: object = None
    new_person: dict | None = None
    attributes: dict = field(default_factory=dict)


def decide(
    *, settings, profile, activity, participant, details, contact, lead, ruleset, owner, known
) -> Decision:
    """The decision for one participant, given the Contact or Lead its address already has
    (`contact`, `lead`), its person details, the rule set and the newest change time of each
    (contact pk, field) in `known`. Pure."""
    if contact is not None:
        check = _check("existing_contact", True, contact=str(contact), sf_id=contact.sf_id)
        attributes = {}
        if settings.auto_attribute_updates and contact.pk is not None:
            attributes = attribute_updates(
                contact=contact, details=details, activity=activity, ruleset=ruleset, known=known
            )
        return Decision(Outcome.EXISTING_CONTACT, [check], contact=contact, attributes=attributes)
    if lead is not None:
        check = _check("existing_lead", True, lead=str(lead), sf_id=lead.sf_id)
        return Decision(Outcome.EXISTING_LEAD, [check], lead=lead)
    checks = evaluate_gates(
        settings=settings, profile=profile, activity=activity, participant=participant,
        details=details,
    )  # fmt: skip
    if not all(c["passed"] for c in checks):
        return Decision(Outcome.NOT_CREATED, checks)
    classified = ruleset.classify(details.title or None)
    person = {
        "first_name": details.first_name,
        "last_name": details.last_name,
        "email": participant.email,
        "owner": owner,
        "title": details.title[:128],
        "phone": details.phone[:40],
        "country": details.country[:80],
        "department": classified.department_value,
        "seniority": classified.seniority_value,
    }
    account = account_for_participant(activity=activity, participant=participant)
    if settings.create_as == CreateAs.LEAD:
        return Decision(
            Outcome.CREATED_LEAD, checks, new_person={**person, "company": account.name}
        )
    return Decision(Outcome.CREATED_CONTACT, checks, new_person={**person, "account": account})


def attribute_updates(*, contact, details, activity, ruleset, known) -> dict:
    """The title/phone/department/seniority an existing Contact may take from `activity`:
    nothing when Salesforce has a newer version of it, and no field an activity newer than
    this one already set (`known`: (contact pk, field) -> newest change time)."""
    if contact.sf_modstamp and activity.occurred_at < contact.sf_modstamp:
        return {}
    values = {"title": details.title[:128], "phone": details.phone[:40]}
    if details.title:
        classified = ruleset.classify(details.title)
        values["department"] = classified.department_value
        values["seniority"] = classified.seniority_value
    for name in list(values):
        newest = known.get((contact.pk, name))
        if newest is not None and activity.occurred_at < newest:
            values.pop(name)
    return values
