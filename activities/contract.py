"""The activity input contract: one serializer validates every incoming activity (API, import,
capture, demo) and the OpenAPI schema is generated from the same serializer, so the documented
shape is the enforced one. Every field's errors are reported together. No database."""

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from email_validator import EmailNotValidError
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from crmbridge.boundary import text_problem

from .addresses import normalise_email
from .models import Activity, Participant

MAX_PARTICIPANTS = 500
MAX_BODY_CHARS = 100_000


@dataclass
class CleanActivity:
    source: str
    external_id: str
    kind: str
    occurred_at: dt.datetime
    owner_email: str
    subject: str
    body: str
    participants: list  # of dicts: email, name, role, response, title, phone, country
    ends_at: dt.datetime | None = None


class _NullIsAbsent:
    """JSON null reads as a field left out: its default when optional, "required" otherwise."""

    def validate_empty_values(self, data):
        return super().validate_empty_values(empty if data is None else data)


class Text(_NullIsAbsent, serializers.CharField):
    """Text a database can store (no NUL, no lone surrogate), trimmed; numbers are not text."""

    default_error_messages = {
        "invalid": "Must be text.",
        "blank": "This field is required.",
        "max_length": "At most {max_length} characters.",
    }

    def __init__(self, **kwargs):
        if not kwargs.get("required", True):
            kwargs.setdefault("default", "")
            kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)
        # crmbridge.boundary's check (in to_internal_value) does what these two do, in one pass.
        drf_checks = ProhibitNullCharactersValidator | ProhibitSurrogateCharactersValidator
        self.validators = [v for v in self.validators if not isinstance(v, drf_checks)]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if problem := text_problem(data):
            raise serializers.ValidationError(problem)
        return data.strip() if self.trim_whitespace else data


@extend_schema_field(OpenApiTypes.EMAIL)
class EmailAddress(Text):
    """An address as email-validator normalises it (domain lower-case, Unicode; no DNS)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=254, **kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return normalise_email(text)
        except EmailNotValidError as exc:
            message = f"{text!r} is not a valid e-mail address: {exc}"
            raise serializers.ValidationError(message) from None


class Choice(_NullIsAbsent, serializers.ChoiceField):
    """One of the choices, in any letter case."""

    default_error_messages = {"invalid_choice": "{input!r} is not one of {allowed}."}

    def to_internal_value(self, data):
        value = data.strip().lower() if isinstance(data, str) else None
        if value not in self.choice_strings_to_values:
            allowed = ", ".join(v for v in self.choice_strings_to_values if v)
            self.fail("invalid_choice", input=data, allowed=allowed)
        return self.choice_strings_to_values[value]


class When(_NullIsAbsent, serializers.DateTimeField):
    """ISO 8601, stored in UTC; a time without an offset is read as UTC."""

    default_error_messages = {
        "invalid": "Not an ISO 8601 date and time (e.g. 2026-03-01T09:30:00Z).",
        "overflow": "Outside the years 1 to 9999 in UTC.",
    }

    def __init__(self, **kwargs):
        super().__init__(default_timezone=dt.UTC, **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str | dt.datetime):
            self.fail("invalid")
        return super().to_internal_value(value.strip() if isinstance(value, str) else value)


class _Contract(serializers.Serializer):
    """DRF's Serializer without its per-item work that gives these serializers nothing: the
    writable fields (fixed once bound) are listed once, and the object-level validator pass
    (which first collects read-only defaults) is skipped when there are no validators."""

    @cached_property
    def _writable_fields(self):
        return tuple(f for f in self.fields.values() if not f.read_only)

    def run_validators(self, value):
        if self.validators:
            super().run_validators(value)


class ParticipantInSerializer(_Contract):
    default_error_messages = {
        "invalid": "Each participant must be an object.",
        "null": "Each participant must be an object.",
    }

    email = EmailAddress()
    name = Text(required=False, max_length=255)
    role = Choice(choices=Participant.Role.choices, required=False, default=Participant.Role.TO)
    response = Choice(
        choices=Participant.Response.choices, required=False, default="", allow_blank=True,
        help_text="A meeting's answer.",
    )  # fmt: skip
    title = Text(required=False, max_length=128)
    phone = Text(required=False, max_length=40)
    country = Text(required=False, max_length=80)


class Participants(_NullIsAbsent, serializers.ListField):
    """The people on an activity, each address once (the first one given wins). A bad participant
    is reported in one line that starts with the address, so the sender knows which one."""

    default_error_messages = {"max_length": "At most {max_length} per activity."}

    def __init__(self, **kwargs):
        super().__init__(
            child=ParticipantInSerializer(), max_length=MAX_PARTICIPANTS, required=False,
            default=list, **kwargs,
        )  # fmt: skip

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if len(data) > MAX_PARTICIPANTS:
            self.fail("max_length", max_length=MAX_PARTICIPANTS)
        people, seen, problems = [], set(), []
        for person in data:
            try:
                fields = self.child.run_validation(person)
            except serializers.ValidationError as exc:
                problems.extend(_participant_problems(person, exc.detail))
                continue
            if fields["email"].lower() not in seen:
                seen.add(fields["email"].lower())
                people.append(dict(fields))
        if problems:
            raise serializers.ValidationError(problems)
        return people


def _by_field(detail) -> dict:
    """{field: [reasons]}; a null is refused before any field is read, as a bare list."""
    if isinstance(detail, dict):
        return {name: [str(r) for r in reasons] for name, reasons in detail.items()}
    return {"non_field_errors": [str(r) for r in detail]}


def _participant_problems(person, detail) -> list[str]:
    address = person.get("email") if isinstance(person, dict) else None
    lines = []
    for name, reasons in _by_field(detail).items():
        for reason in reasons:
            if name == "email" or not address:
                lines.append(str(reason))
            else:
                lines.append(f"{address}: {name}: {reason}")
    return lines


class _SourceDefault:
    """The caller's source (context "default_source"), "api" unless it says."""

    requires_context = True

    def __call__(self, field):
        return field.context.get("default_source", "api")


class ActivityInSerializer(_Contract):
    """An incoming activity."""

    default_error_messages = {
        "invalid": "Each activity must be a JSON object.",
        "null": "Each activity must be a JSON object.",
    }

    external_id = Text(max_length=255)
    source = Text(
        required=False, max_length=40, default=_SourceDefault(),
        help_text='Where it comes from: "api" unless given (the import and capture set theirs).',
    )  # fmt: skip
    kind = Choice(choices=Activity.Kind.choices)
    occurred_at = When()
    ends_at = When(required=False, default=None, help_text="A meeting's end.")
    owner = EmailAddress(source="owner_email", help_text="The rep's e-mail.")
    subject = Text(required=False, max_length=998)
    body = Text(required=False, max_length=MAX_BODY_CHARS, trim_whitespace=False)
    participants = Participants()

    def validate(self, attrs):
        if attrs["ends_at"] is not None and attrs["ends_at"] < attrs["occurred_at"]:
            raise serializers.ValidationError({"ends_at": "Must not be before occurred_at."})
        return attrs

    def validate_source(self, value):
        return value or self.fields["source"].get_default()


class BulkInSerializer(serializers.Serializer):
    activities = ActivityInSerializer(many=True)


def activities_validate(items, *, default_source="api") -> list:
    """Each item validated: a CleanActivity, or the {field: [reasons]} that reject it."""
    contract = ActivityInSerializer(context={"default_source": default_source})
    out = []
    for raw in items:
        try:
            out.append(CleanActivity(**contract.run_validation(raw)))
        except serializers.ValidationError as exc:
            out.append(_by_field(exc.detail))
    return out
