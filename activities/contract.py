"""The activity input contract: one serializer validates every incoming activity (API, import,
capture, demo) and the OpenAPI schema is generated from the same serializer, so the documented
shape is the enforced one. Every field's errors are reported together. No database.

The common valid item takes a fast path compiled from the same serializer's fields (see the end):
the same answer without DRF's per-field work, and anything unusual still goes to the serializer."""

import datetime as dt
import re
import threading
from dataclasses import dataclass
from functools import cached_property

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import setting_changed
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.dispatch import receiver
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from email_validator import EmailNotValidError
from rest_framework import ISO_8601, serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings
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


_contracts = threading.local()
_settings_generation = [0]  # bumped when a setting changes (tests): the fast path reads some


@receiver(setting_changed)
def _forget_contracts(**kwargs):
    _settings_generation[0] += 1


def _contract_for(default_source):
    """The serializer and its fast path for `default_source`, built once per thread and per
    settings: validating an item leaves no state in either, and building them was a tenth of a
    call of one item."""
    built = _contracts.__dict__.setdefault("by_source", {})
    key = (_settings_generation[0], default_source)
    if (found := built.get(key)) is None:
        if len(built) >= 32:  # sources come from code, but never let them pile up
            built.clear()
        contract = ActivityInSerializer(context={"default_source": default_source})
        found = built[key] = (contract, fast_path_for(contract))
    return found


def activities_validate(items, *, default_source="api", fast_path=True) -> list:
    """Each item validated: a CleanActivity, or the {field: [reasons]} that reject it. The fast
    path takes the common valid items; the serializer decides every other one."""
    contract, fast = _contract_for(default_source)
    if not fast_path:
        fast = None
    out = []
    for raw in items:
        fields = fast(raw) if fast else GIVE_UP
        if fields is GIVE_UP:
            try:
                fields = contract.run_validation(raw)
            except serializers.ValidationError as exc:
                out.append(_by_field(exc.detail))
                continue
        out.append(CleanActivity(**fields))
    return out


# -- the fast path -------------------------------------------------------------------------------
# DRF's per-field machinery (run_validation, validate_empty_values, set_value, per field and per
# participant) was a fifth of ingestion. The fast path is compiled from the serializer's own fields
# (names, sources, required, defaults, lengths, blanks, trimming, choices, time zones) into one
# converter per field. On an item it either returns exactly what run_validation would, or gives
# up on anything it is not sure of (a wrong type, a value that would fail, an unusual date), and
# the serializer decides that item as before. tests/matching/test_contract_fast_path.py holds it
# to DRF's answers.


class _GiveUp:
    def __repr__(self):
        return "GIVE_UP"


GIVE_UP = _GiveUp()
_SKIP = object()  # an optional field without a default: left out, as DRF's SkipField does
_PLAIN_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?", re.ASCII
)


class _Unsure(Exception):
    """The fast path is not sure of this item: the serializer decides."""


def fast_path_for(serializer):
    """raw -> what `serializer.run_validation(raw)` returns, or GIVE_UP. A serializer with a
    field (or validator) the fast path does not know gets one that always gives up."""
    run = _compile(serializer)
    if run is None:
        return lambda raw: GIVE_UP

    def fast(raw):
        try:
            return run(raw)
        except _Unsure:
            return GIVE_UP

    return fast


def _compile(serializer):
    """One step per writable field: (name, key, convert, absent, check); None if unsure."""
    if not isinstance(serializer, _Contract) or serializer.validators:
        return None
    if getattr(serializer.root, "partial", False):
        return None
    steps = []
    for field in serializer._writable_fields:
        compiler = _CONVERTERS.get(type(field))
        if compiler is None or len(field.source_attrs) != 1:
            return None
        try:
            convert = compiler(field)
        except _Unsure:  # a validator or a setting it does not know
            return None
        check = getattr(serializer, f"validate_{field.field_name}", None)
        steps.append((field.field_name, field.source, convert, _absent(field), check))
    validate = serializer.validate
    if type(serializer).validate is serializers.Serializer.validate:
        validate = None  # DRF's own validate returns the data as it is

    def run(raw):
        if type(raw) is not dict:
            raise _Unsure
        fields = {}
        for name, key, convert, absent, check in steps:
            value = raw.get(name)
            value = absent() if value is None else convert(value)  # null reads as absent
            if value is _SKIP:
                continue
            fields[key] = value if check is None else _checked(check, value)
        return fields if validate is None else _checked(validate, fields)

    return run


def _checked(check, value):
    """A serializer's validate_<field> or validate, with its refusal an _Unsure."""
    try:
        value = check(value)
    except (serializers.ValidationError, DjangoValidationError):
        raise _Unsure from None
    if value is None:
        raise _Unsure
    return value


def _refuse():
    raise _Unsure


def _absent(field):
    """What the field gives when left out (or null): "required" is an _Unsure."""
    default = field.default
    if field.required:
        return _refuse
    if default is empty:
        return lambda: _SKIP
    if callable(default):
        return field.get_default if getattr(default, "requires_context", False) else default
    return lambda: default


def _max_length(field):
    """The field's max_length validator's limit (None if it has none); _Unsure if it has any
    other validator."""
    limits = [v.limit_value for v in field.validators if type(v) is MaxLengthValidator]
    if len(limits) != len(field.validators) or not all(type(n) is int for n in limits):
        raise _Unsure
    return min(limits, default=None)


def _text(field):
    limit = _max_length(field)
    trim, allow_blank = field.trim_whitespace, field.allow_blank
    email = isinstance(field, EmailAddress)

    def convert(value):
        if type(value) is not str:
            raise _Unsure
        if not (value.strip() if trim else value):
            if allow_blank:
                return ""
            raise _Unsure
        if text_problem(value):
            raise _Unsure
        if trim:
            value = value.strip()
        if email:
            try:
                value = normalise_email(value)
            except EmailNotValidError:
                raise _Unsure from None
        if limit is not None and len(value) > limit:
            raise _Unsure
        return value

    return convert


def _choice(field):
    if field.validators:
        raise _Unsure
    values = field.choice_strings_to_values

    def convert(value):
        if type(value) is not str:
            raise _Unsure
        value = value.strip().lower()
        if value not in values:
            raise _Unsure
        return values[value]

    return convert


def _when(field):
    formats = getattr(field, "input_formats", api_settings.DATETIME_INPUT_FORMATS)
    if field.validators or not formats or formats[0].lower() != ISO_8601:
        raise _Unsure
    if getattr(field, "timezone", None) is not dt.UTC:
        raise _Unsure

    def convert(value):
        # Only the plain ISO 8601 forms; Django's parse_datetime tries fromisoformat first.
        if type(value) is not str or not _PLAIN_ISO.fullmatch(value := value.strip()):
            raise _Unsure
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise _Unsure from None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=dt.UTC)  # DRF's make_aware; UTC has no gaps or folds
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:  # DRF's "overflow"
            raise _Unsure from None

    return convert


def _participants(field):
    person = _compile(field.child)
    if person is None:
        raise _Unsure
    limit = _max_length(field)
    limit = MAX_PARTICIPANTS if limit is None else min(limit, MAX_PARTICIPANTS)

    def convert(value):
        if type(value) is not list or len(value) > limit:
            raise _Unsure
        people, seen = [], set()
        for raw in value:
            fields = person(raw)
            if (address := fields["email"].lower()) not in seen:  # the first one wins
                seen.add(address)
                people.append(fields)
        return people

    return convert


# Each of these reads a null as left out (_NullIsAbsent), as the steps in _compile do.
_CONVERTERS = {
    Text: _text,
    EmailAddress: _text,
    Choice: _choice,
    When: _when,
    Participants: _participants,
}
