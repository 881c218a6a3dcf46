""" "Why no Contact?" in a rep's words: each stored check (code, passed, detail) becomes a question
answered yes or no, with what to do about a "no" and a link to the page that fixes it, offered
only to a user who may open that page; a verdict sentence sums the most recent decision up.

Used by the "Why no Contact?" page, the Contact decisions list and the API's summary, so all
three say the same. Pure apart from `reverse` and the user's permissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.urls import reverse

from .decisions import FIELD_LABELS

QUESTIONS = {
    "creation_disabled_globally": "Is contact creation on for the whole organisation?",
    "creation_disabled_on_profile": (
        "Does the owner’s Configuration Profile allow contact creation?"
    ),
    "activity_unmatched": "Is the activity matched to an Account?",
    "domain_unmatched": "Does this person’s e-mail domain belong to an Account?",
    "missing_email": "Is the e-mail address valid?",
}
_PERSONAL = "personal_domain"
_AMBIGUOUS = "ambiguous_domain"


@dataclass
class Link:
    label: str
    url: str


@dataclass
class CheckInWords:
    question: str
    passed: bool
    said: str  # what crmbridge found
    todo: str = ""  # what to do about a "no"
    links: list[Link] = field(default_factory=list)

    @property
    def answer(self) -> str:
        return "Yes" if self.passed else "No"


def _field_of(code: str) -> str:
    return code.removeprefix("missing_")


def question_for(code: str) -> str:
    if code in QUESTIONS:
        return QUESTIONS[code]
    return f"Is the {FIELD_LABELS.get(_field_of(code), _field_of(code))} known?"


def short_reason(check: dict, *, match_rule: str = "") -> str:
    """A failed check as a clause of the verdict: "the last name is not known"."""
    code, detail = check["code"], check.get("detail") or {}
    if code == "creation_disabled_globally":
        return "contact creation is off for the whole organisation"
    if code == "creation_disabled_on_profile":
        return f"contact creation is off on the owner’s profile “{detail.get('profile', '')}”"
    if code == "activity_unmatched":
        return "the activity is not matched to an Account"
    if code == "domain_unmatched":
        domain = detail.get("domain", "")
        if match_rule == _PERSONAL:
            return f"{domain} is a personal mail domain"
        if match_rule == _AMBIGUOUS:
            return f"several Accounts have the domain {domain}"
        return f"no Account has the domain {domain}"
    if code == "missing_email":
        return "the e-mail address is not valid"
    return f"the {FIELD_LABELS.get(_field_of(code), _field_of(code))} is not known"


def reasons_sentence(clauses: list[str]) -> str:
    if len(clauses) <= 1:
        return "".join(clauses)
    return ", ".join(clauses[:-1]) + " and " + clauses[-1]


def _links(user, activity_id, code, detail, match_rule) -> list[Link]:
    found = []
    may = user.has_perm if user is not None else (lambda perm: False)
    if code == "creation_disabled_globally" and may("crmbridge.change_globalsettings"):
        found.append(
            Link("Open Global Settings", reverse("admin:crmbridge_globalsettings_changelist"))
        )
    if code == "creation_disabled_on_profile" and may("crmbridge.change_configurationprofile"):
        query = urlencode({"q": detail.get("profile") or ""})
        url = reverse("admin:crmbridge_configurationprofile_changelist")
        found.append(Link("Open the profile", f"{url}?{query}"))
    if code in ("activity_unmatched", "domain_unmatched") and match_rule != _PERSONAL:
        if may("activities.change_activity") and activity_id is not None:
            url = reverse("admin:activities_activity_edit_match", args=[activity_id])
            found.append(Link("Edit match", url))
        if code == "domain_unmatched" and may("accounts.add_accountdomain"):
            query = urlencode({"domain": detail.get("domain") or ""})
            url = reverse("admin:accounts_accountdomain_add")
            found.append(Link("Add the domain to an Account", f"{url}?{query}"))
    return found


def _said_and_todo(check, match_rule) -> tuple[str, str]:
    code, detail, passed = check["code"], check.get("detail") or {}, check["passed"]
    profile = detail.get("profile") or ""
    domain = detail.get("domain") or ""
    if code == "creation_disabled_globally":
        if passed:
            return "Contact creation is on in Global Settings.", ""
        return (
            "Contact creation is turned off in Global Settings.",
            "Ask your admin to turn contact creation on in Global Settings.",
        )
    if code == "creation_disabled_on_profile":
        if passed and not profile:
            return "The owner has no Configuration Profile, and nothing turns it off.", ""
        if passed:
            return f"The profile “{profile}” allows it.", ""
        return (
            f"The profile “{profile}” has contact creation turned off.",
            f"Ask your admin to turn contact creation on in the profile “{profile}”.",
        )
    if code == "activity_unmatched":
        if passed:
            return f"It is matched to {detail.get('account', 'an Account')}.", ""
        return (
            "The activity has no Account yet.",
            "Choose its Account with Edit match; Match details say why none was found.",
        )
    if code == "domain_unmatched":
        if passed:
            return f"Yes: {detail.get('account', 'an Account')}.", ""
        if match_rule == _PERSONAL:
            return (
                f"{domain} is a personal mail domain; crmbridge never matches those to an Account.",
                "Nothing to fix: a personal address never becomes a Contact by itself.",
            )
        if match_rule == _AMBIGUOUS:
            return (
                f"Several Accounts have the domain {domain}, and none is clearly meant.",
                "If this activity belongs to one of them, choose the right one with Edit match; "
                "ask your admin to keep the domain on one Account only.",
            )
        return (
            f"No Account has the domain {domain}.",
            f"If this person works for a customer, ask your admin to add {domain} to the right "
            "Account; future activity then matches it.",
        )
    if code == "missing_email":
        if passed:
            return "Yes.", ""
        return "The address is not a valid e-mail address.", "Nothing to fix in crmbridge."
    label = FIELD_LABELS.get(_field_of(code), _field_of(code))
    if passed:
        source = (detail.get("source") or "participant").replace("_", " ")
        return f"Yes: {detail.get('value', '')} (from the {source}).", ""
    todo = "Neither the display name, the signature nor the address gives it."
    if _field_of(code) not in ("first_name", "last_name"):
        todo = (
            f"Your organisation requires the {label} for a new Contact, and no source gave it. "
            "Ask your admin whether it must be required."
        )
    return f"The {label} is not known.", todo


def check_in_words(check: dict, *, user=None, activity_id=None, match_rule="") -> CheckInWords:
    said, todo = _said_and_todo(check, match_rule)
    detail = check.get("detail") or {}
    return CheckInWords(
        question=question_for(check["code"]),
        passed=check["passed"],
        said=said,
        todo=todo,
        links=[]
        if check["passed"]
        else _links(user, activity_id, check["code"], detail, match_rule),
    )


def failed_in_words(checks: list[dict], *, match_rule: str = "") -> str:
    """The failed checks as one clause: "the first name is not known and ..."."""
    failed = [short_reason(c, match_rule=match_rule) for c in checks if not c["passed"]]
    return reasons_sentence(failed)


def verdict(*, email: str, contact=None, lead=None, rows: list[dict]) -> str:
    """One sentence for the most recent decision on `email` (rows as the diagnosis gives them)."""
    if contact is not None:
        return f"A Contact exists for {email}: {contact}."
    if lead is not None:
        return f"A Lead exists for {email}: {lead}; no Contact is created for a Lead."
    if not rows:
        return f"No activity you can see has {email}."
    latest = rows[0]
    if latest["outcome"] == "internal":
        return f"{email} is one of your company’s own addresses: no Contact is made for it."
    failed = failed_in_words(latest["checks"], match_rule=latest["participant"]["match_rule"])
    if failed:
        return f"No Contact for {email}: {failed}."
    return f"Nothing stops a Contact for {email}; it is made when the activity is processed."


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
