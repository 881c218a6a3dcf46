"""The contract's fast path against DRF itself (Hypothesis): on any raw activity it gives exactly
what the serializer's run_validation gives, or gives up and lets the serializer decide; and
activities_validate answers the same with it and without it."""

import datetime as dt
from urllib.parse import urlencode

from django.http import QueryDict
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from activities.contract import (
    GIVE_UP,
    MAX_PARTICIPANTS,
    ActivityInSerializer,
    activities_validate,
    fast_path_for,
)

PROPERTY = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def drf(contract, raw):
    """What the serializer says: ("valid", data) or ("invalid", detail)."""
    try:
        return "valid", contract.run_validation(raw)
    except serializers.ValidationError as exc:
        return "invalid", exc.detail


def exact(value):
    """Equal, and the same types, key order, time zones and enum members (repr shows them)."""
    return value, repr(value)


# -- raw values ---------------------------------------------------------------------------------

WRONG_TYPES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.just([]),
    st.just({}), st.just(["x"]), st.just({"a": 1}),
)  # fmt: skip
ODD_TEXT = st.sampled_from(
    ["", " ", "\t\n", "\x00", "a\x00b", "\ud800", "x\udfff", "\u00a0", "\u2003x\u2003", "é"]
)

BLANK = st.sampled_from(["", " ", "\u3000\t"])


def padded(strategy):
    pad = st.sampled_from(["", "", " ", "  ", "\t", "\n", "\u3000"])
    return st.builds(lambda a, s, b: f"{a}{s}{b}", pad, strategy, pad)


def texts(limit):
    at_limit = st.sampled_from(["x" * limit, "x" * (limit + 1), " " + "y" * limit + " "])
    plain = st.text(max_size=20)
    return st.one_of(padded(plain), at_limit, ODD_TEXT, BLANK, WRONG_TYPES)


def spelt(values):
    """Each value in some letter case, maybe padded: all valid."""
    how = st.sampled_from(["lower", "upper", "title", "swapcase"])
    return padded(st.builds(lambda v, how: getattr(v, how)(), st.sampled_from(values), how))


def choices(values):
    return st.one_of(spelt(values), st.sampled_from(["fax", "bcc", "İ", "to\x00"]), WRONG_TYPES)


LOCALS = st.sampled_from(
    ["jane", "Jane.Doe", "j+tag", "jörg", "\u00e9lise", '"quoted"', "a..b", "x" * 65, "", "Ω"]
)
DOMAINS = st.sampled_from(
    ["acme.com", "ACME.COM", "Acme.Com", "b\u00fccher.de", "xn--bcher-kva.example", "MÜNCHEN.de",
     "localhost", "a..b", "x" * 250 + ".com", "gmail.com", "crmbridge.example", "-bad-.com"]
)  # fmt: skip
EMAILS = st.one_of(
    padded(st.builds(lambda local, domain: f"{local}@{domain}", LOCALS, DOMAINS)),
    st.sampled_from(["jane", "@acme.com", "jane@", "a@b@c.com", "j\x00@acme.com", "j\ud800@x.com"]),
    WRONG_TYPES,
)


def _offset(minutes):
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


WHEN_SHAPES = [
    lambda d, o: d.isoformat(),
    lambda d, o: d.isoformat() + "Z",
    lambda d, o: d.isoformat() + _offset(o),
    lambda d, o: d.isoformat(timespec="minutes") + "Z",
    lambda d, o: d.isoformat(timespec="milliseconds") + _offset(o),
    lambda d, o: d.isoformat(sep=" ") + "Z",
    lambda d, o: d.strftime("%Y%m%dT%H%M%S") + "Z",
    lambda d, o: d.date().isoformat(),
    lambda d, o: d.isoformat() + "z",
    lambda d, o: d.isoformat() + " +01:00",
    lambda d, o: d.isoformat() + _offset(o).replace(":", ""),
    lambda d, o: d.isoformat()[:-2] + "60",
]
WHENS = st.one_of(
    padded(
        st.builds(
            lambda shape, d, o: shape(d, o),
            st.sampled_from(WHEN_SHAPES),
            st.datetimes(
                min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59)
            ),
            st.integers(-1439, 1439),
        )  # fmt: skip
    ),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2026-03-01T24:00:00Z",
            "2026-02-30T10:00:00Z",
            "2026-3-1T9:30:00Z",
            "2026-03-01T09:30:00.1234567Z",
            "2026-03-01T09:30:00+24:00",
            "2026-W09-1T10:00",
            "tomorrow",
            "2026-03-01T10:00:00\u0660",
        ]
    ),  # fmt: skip
    WRONG_TYPES,
)

ROLES = ["from", "to", "cc", "attendee", "organizer"]
RESPONSES = ["", "accepted", "declined", "tentative", "needs-action"]
PERSON_FIELDS = {
    "name": texts(255),
    "role": choices(ROLES),
    "response": choices(RESPONSES),
    "title": texts(128),
    "phone": texts(40),
    "country": texts(80),
}
# A small pool of addresses, in different cases, so that participants repeat.
POOL_EMAILS = st.builds(
    lambda who, case: getattr(who, case)(),
    st.sampled_from(["jane@acme.com", "bob@acme.com", "Jörg@bücher.de", "ann@example.org"]),
    st.sampled_from(["lower", "upper", "title", "strip"]),
)


def _person(email, rest, extra):
    return {"email": email, **rest, **extra}


VALID_PERSON = st.builds(
    _person,
    POOL_EMAILS,
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.text(max_size=10),
            "role": st.sampled_from(ROLES),
            "response": st.sampled_from(RESPONSES),
            "title": st.sampled_from(["VP Sales", " Engineer "]),
        },
    ),
    st.just({}),
)
ANY_PERSON = st.one_of(
    VALID_PERSON,
    st.builds(
        _person,
        st.one_of(POOL_EMAILS, EMAILS),
        st.fixed_dictionaries({}, optional=PERSON_FIELDS),
        st.dictionaries(st.sampled_from(["extra", "Email", "ROLE"]), st.integers(), max_size=2),
    ),
    st.fixed_dictionaries({}, optional={"name": st.text(max_size=5)}),  # no email
    WRONG_TYPES,
    st.just("jane@acme.com"),
)
MANY = [{"email": f"p{n}@acme.com"} for n in range(MAX_PARTICIPANTS + 1)]
PARTICIPANTS = st.one_of(
    st.lists(VALID_PERSON, max_size=6),
    st.lists(ANY_PERSON, max_size=6),
    st.sampled_from([MANY, MANY[:-1], MANY[:-1] + [MANY[0]]]),
    st.just("jane@acme.com"),
    st.just({"email": "jane@acme.com"}),
    WRONG_TYPES,
)

ACTIVITY_FIELDS = {
    "external_id": texts(255),
    "source": texts(40),
    "kind": choices(["email", "meeting", "call"]),
    "occurred_at": WHENS,
    "ends_at": WHENS,
    "owner": EMAILS,
    "subject": texts(998),
    "body": st.one_of(texts(100), st.sampled_from(["x" * 100_000, "x" * 100_001, " " * 100_001])),
    "participants": PARTICIPANTS,
}
VALID_ACTIVITY = st.fixed_dictionaries(
    {
        "external_id": padded(st.text(min_size=1, max_size=12).filter(str.strip)),
        "kind": spelt(["email", "meeting", "call"]),
        "occurred_at": st.sampled_from(
            [
                "2026-03-01T09:30:00Z",
                "2026-03-01T09:30:00+02:00",
                "2026-03-01T09:30:00.5",
                " 2026-03-01T09:30:00-05:30 ",
                "2026-03-01T09:30Z",
            ]
        ),  # fmt: skip
        "owner": st.sampled_from(["rep@crmbridge.example", "Rep@CRMBRIDGE.example", " r@b.io "]),
        "participants": st.lists(VALID_PERSON, max_size=6),
    },
    optional={
        "source": st.sampled_from(["", "import", " capture ", None]),
        "ends_at": st.sampled_from(
            [None, "2026-03-01T10:30:00Z", "2026-03-01T09:00:00Z", "2026-03-01T10:30:00+01:00"]
        ),
        "subject": st.one_of(st.none(), BLANK, st.text(max_size=20)),
        "body": st.one_of(st.none(), BLANK, st.text(max_size=20)),
        "unknown": st.integers(),
    },
)


@st.composite
def near_valid(draw):
    """A valid-looking activity with a few fields replaced by anything, or left out."""
    item = dict(draw(VALID_ACTIVITY))
    for name in draw(st.lists(st.sampled_from(sorted(ACTIVITY_FIELDS)), min_size=1, max_size=2)):
        if draw(st.booleans()):
            item.pop(name, None)
        else:
            item[name] = draw(ACTIVITY_FIELDS[name])
    return item


RAW = st.one_of(
    VALID_ACTIVITY,
    near_valid(),
    st.fixed_dictionaries({}, optional=ACTIVITY_FIELDS),
    WRONG_TYPES,
    st.just("activity"),
)
SOURCES = st.sampled_from(["api", "import", "capture", ""])

# -- properties ----------------------------------------------------------------------------------


@PROPERTY
@given(raw=RAW, default_source=SOURCES)
def test_it_gives_what_drf_gives_or_gives_up(raw, default_source):
    contract = ActivityInSerializer(context={"default_source": default_source})
    fast = fast_path_for(contract)
    got = fast(raw)
    event("gave up" if got is GIVE_UP else "fast path")
    if got is not GIVE_UP:
        verdict, data = drf(contract, raw)
        assert verdict == "valid", data
        assert exact(got) == exact(data)


@PROPERTY
@given(items=st.lists(RAW, max_size=5), default_source=SOURCES)
def test_activities_validate_answers_the_same_with_and_without_it(items, default_source):
    on = activities_validate(items, default_source=default_source)
    off = activities_validate(items, default_source=default_source, fast_path=False)

    assert exact(on) == exact(off)


# -- examples ------------------------------------------------------------------------------------


def test_it_takes_the_common_valid_activities():
    contract = ActivityInSerializer(context={"default_source": "import"})
    fast = fast_path_for(contract)
    owner = "rep@crmbridge.example"
    common = [
        {"external_id": "a-1", "kind": "email", "occurred_at": "2026-03-01T09:30:00+00:00",
         "owner": owner, "subject": "Hello", "participants": [{"email": "jane@acme.com"}]},
        {"external_id": " a-2 ", "kind": " Meeting", "occurred_at": "2026-03-01T09:30:00.123456",
         "ends_at": "2026-03-01T11:00:00+01:00", "owner": "Rep@CRMBRIDGE.example", "body": " b ",
         "source": "capture",
         "participants": [
             {"email": "Jane@ACME.com", "name": " Jane ", "role": "FROM", "title": "VP Sales"},
             {"email": "jane@acme.com", "role": "cc"},
             {"email": "jörg@bücher.de", "response": "Accepted", "phone": "", "country": None},
         ]},
        {"external_id": "a-3", "kind": "call", "occurred_at": "2026-03-01T09:30Z", "owner": owner,
         "participants": [], "source": "", "subject": None, "extra": [1, 2]},
    ]  # fmt: skip

    results = [fast(raw) for raw in common]

    assert GIVE_UP not in results
    assert [exact(r) for r in results] == [exact(contract.run_validation(raw)) for raw in common]
    second = results[1]
    assert second["occurred_at"] == dt.datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=dt.UTC)
    assert second["ends_at"].tzinfo is dt.UTC and second["ends_at"].hour == 10
    assert [p["email"] for p in second["participants"]] == ["Jane@acme.com", "jörg@bücher.de"]
    assert results[2]["source"] == "import"


def test_it_gives_up_on_what_it_is_not_sure_of():
    contract = ActivityInSerializer()
    fast = fast_path_for(contract)
    good = {"external_id": "a", "kind": "email", "occurred_at": "2026-03-01T09:30:00Z",
            "owner": "rep@crmbridge.example"}  # fmt: skip
    unusual = [
        None, [good], {**good, "kind": "fax"}, {**good, "external_id": 7},
        {**good, "occurred_at": "2026-03-01 09:30:00"}, {**good, "occurred_at": "2026-03-01"},
        {**good, "occurred_at": "0001-01-01T00:00:00+01:00"},
        {**good, "ends_at": "2026-03-01T09:00:00Z"}, {**good, "owner": "nobody"},
        {**good, "subject": "x" * 999}, {**good, "participants": MANY},
        {**good, "participants": [None]}, {key: v for key, v in good.items() if key != "kind"},
        QueryDict(urlencode(good)),  # a form: DRF reads it its own way
    ]  # fmt: skip

    assert fast(good) is not GIVE_UP
    assert [fast(raw) for raw in unusual] == [GIVE_UP] * len(unusual)


def test_a_field_it_does_not_know_sends_every_item_to_the_serializer():
    class WithCount(ActivityInSerializer):
        count = serializers.IntegerField(required=False)

    good = {"external_id": "a", "kind": "email", "occurred_at": "2026-03-01T09:30:00Z",
            "owner": "rep@crmbridge.example"}  # fmt: skip

    assert fast_path_for(ActivityInSerializer())(good) is not GIVE_UP
    assert fast_path_for(WithCount())(good) is GIVE_UP


def test_a_changed_setting_reaches_the_fast_path_built_before_it():
    from django.test import override_settings

    item = {
        "external_id": "e-1",
        "kind": "email",
        "occurred_at": "2026-03-01T09:30:00Z",
        "owner": "rex@ourco.com",
        "participants": [{"email": "jane@acme.com"}],
    }
    assert not isinstance(activities_validate([item])[0], dict)  # built and kept for this thread
    with override_settings(REST_FRAMEWORK={"DATETIME_INPUT_FORMATS": ["%Y-%m-%d %H:%M"]}):
        (fast,) = activities_validate([item])
        (slow,) = activities_validate([item], fast_path=False)
    assert fast == slow == {"occurred_at": [slow["occurred_at"][0]]}  # refused both ways
