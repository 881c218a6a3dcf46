"""Validating one incoming activity (API, import, capture): the shape, the limits, the
addresses; every field's errors reported together. Pure: no database."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from email_validator import EmailNotValidError

from crmbridge.boundary import text_problem

from .addresses import normalise_email
from .models import Activity, Participant

MAX_PARTICIPANTS = 500
MAX_BODY_CHARS = 100_000
KINDS = frozenset(Activity.Kind.values)
ROLES = frozenset(Participant.Role.values)
RESPONSES = frozenset(Participant.Response.values)


class ItemInvalid(Exception):
    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


@dataclass
class CleanActivity:
    source: str
    external_id: str
    kind: str
    occurred_at: dt.datetime
    owner_email: str
    subject: str
    body: str
    participants: list  # of dicts: email, name, role, title, phone, country
    ends_at: dt.datetime | None = None


def _text(raw, name, *, max_length, required=False, default=""):
    value = raw.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str):
        raise ItemInvalid({name: ["Must be text."]})
    if problem := text_problem(value):
        raise ItemInvalid({name: [problem]})
    value = value.strip()
    if required and not value:
        raise ItemInvalid({name: ["This field is required."]})
    if len(value) > max_length:
        raise ItemInvalid({name: [f"At most {max_length} characters."]})
    return value


def _when(raw, name, *, required=False):
    text = _text(raw, name, max_length=64, required=required)
    if not text:
        return None
    try:
        when = parse_datetime(text)
    except ValueError:
        when = None
    if when is None:
        raise ItemInvalid({name: [f"{text!r} is not an ISO 8601 date and time."]})
    if timezone.is_naive(when):
        when = timezone.make_aware(when, dt.UTC)
    try:
        return when.astimezone(dt.UTC)
    except OverflowError:
        raise ItemInvalid({name: [f"{text!r} is outside the years 1 to 9999 in UTC."]}) from None


def _kind(raw):
    kind = _text(raw, "kind", max_length=10, required=True).lower()
    if kind not in KINDS:
        raise ItemInvalid({"kind": [f"{kind!r} is not one of {', '.join(Activity.Kind.values)}."]})
    return kind


def _owner_email(raw):
    owner_text = _text(raw, "owner", max_length=254, required=True)
    try:
        return normalise_email(owner_text)
    except EmailNotValidError as exc:
        raise ItemInvalid(
            {"owner": [f"{owner_text!r} is not a valid e-mail address: {exc}"]}
        ) from None


def _body(raw):
    body = raw.get("body") or ""
    if not isinstance(body, str):
        raise ItemInvalid({"body": ["Must be text."]})
    if len(body) > MAX_BODY_CHARS:
        raise ItemInvalid({"body": [f"At most {MAX_BODY_CHARS} characters."]})
    if problem := text_problem(body):
        raise ItemInvalid({"body": [problem]})
    return body


def _participant(person):
    if not isinstance(person, dict):
        raise ItemInvalid({"participants": ["Each participant must be an object."]})
    address = person.get("email")
    try:
        email = normalise_email(address)
    except EmailNotValidError as exc:
        raise ItemInvalid(
            {"participants": [f"{address!r} is not a valid e-mail address: {exc}"]}
        ) from None
    role = (person.get("role") or Participant.Role.TO).lower()
    if role not in ROLES:
        allowed = ", ".join(Participant.Role.values)
        raise ItemInvalid({"participants": [f"{email}: role {role!r} is not one of {allowed}."]})
    response = (person.get("response") or "").lower()
    if response not in RESPONSES:
        allowed = ", ".join(sorted(RESPONSES - {""}))
        raise ItemInvalid(
            {"participants": [f"{email}: response {response!r} is not one of {allowed}."]}
        )
    fields = {"email": email, "role": role, "response": response}
    for name, max_length in (("name", 255), ("title", 128), ("phone", 40), ("country", 80)):
        try:
            fields[name] = _text(person, name, max_length=max_length)
        except ItemInvalid as exc:
            raise ItemInvalid(
                {"participants": [f"{email}: {name}: {exc.errors[name][0]}"]}
            ) from None
    return fields


def _participants(raw):
    people = raw.get("participants") or []
    if not isinstance(people, list):
        raise ItemInvalid({"participants": ["Must be a list."]})
    if len(people) > MAX_PARTICIPANTS:
        raise ItemInvalid({"participants": [f"At most {MAX_PARTICIPANTS} per activity."]})
    participants, seen, problems = [], set(), []
    for person in people:
        try:
            fields = _participant(person)
        except ItemInvalid as exc:
            problems.extend(exc.errors["participants"])
            continue
        if fields["email"].lower() not in seen:
            seen.add(fields["email"].lower())
            participants.append(fields)
    if problems:
        raise ItemInvalid({"participants": problems})
    return participants


def activity_clean(raw, *, default_source="api") -> CleanActivity:
    """Validate one incoming activity (a dict as the API and import take it); every field's
    errors are reported together."""
    if not isinstance(raw, dict):
        raise ItemInvalid({"non_field_errors": ["Each activity must be a JSON object."]})
    errors = {}

    def take(read, *args, **kwargs):
        try:
            return read(*args, **kwargs)
        except ItemInvalid as exc:
            for name, reasons in exc.errors.items():
                errors.setdefault(name, []).extend(reasons)
            return None

    source = take(_text, raw, "source", max_length=40, default=default_source) or default_source
    occurred_at = take(_when, raw, "occurred_at", required=True)
    ends_at = take(_when, raw, "ends_at")
    if ends_at is not None and occurred_at is not None and ends_at < occurred_at:
        errors.setdefault("ends_at", []).append("Must not be before occurred_at.")
    cleaned = CleanActivity(
        source=source,
        external_id=take(_text, raw, "external_id", max_length=255, required=True),
        kind=take(_kind, raw),
        occurred_at=occurred_at,
        owner_email=take(_owner_email, raw),
        subject=take(_text, raw, "subject", max_length=998),
        body=take(_body, raw),
        participants=take(_participants, raw),
        ends_at=ends_at,
    )
    if errors:
        raise ItemInvalid(errors)
    return cleaned
