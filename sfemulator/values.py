"""Conversions between JSON values, SQLite storage and Salesforce's wire formats."""

from __future__ import annotations

import datetime as dt
import re

from . import ids
from .errors import ApiError
from .schema import Field

_DT_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)


def format_datetime(value: dt.datetime) -> str:
    """Salesforce's datetime format, always UTC: 2024-05-01T09:30:00.000+0000."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> dt.datetime:
    m = _DT_RE.match(text.strip())
    if not m:
        raise ValueError(text)
    y, mo, d, h, mi, s, frac, tz = m.groups()
    micro = int((frac or "0").ljust(6, "0")[:6])
    tzinfo = dt.UTC
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        tzinfo = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), micro, tzinfo)


def to_storage(f: Field, value):
    """Validate and convert one incoming JSON value for field f (raises ApiError)."""
    if value is None:
        return None
    t = f.type
    try:
        if t == "boolean":
            if isinstance(value, bool):
                return int(value)
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return int(value.lower() == "true")
            raise ValueError
        if t in ("id", "reference"):
            if value == "":
                return None
            try:
                return ids.to18(str(value))
            except ids.MalformedId:
                raise ApiError(
                    400,
                    "MALFORMED_ID",
                    f"{f.label or f.name}: id value of incorrect type: {value}",
                    [f.name],
                ) from None
        if t == "date":
            if isinstance(value, str):
                return dt.date.fromisoformat(value[:10]).isoformat()
            raise ValueError
        if t == "datetime":
            if isinstance(value, str):
                return format_datetime(parse_datetime(value))
            raise ValueError
        if t == "int":
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if t == "double":
            return float(value)
    except (ValueError, TypeError):
        raise ApiError(
            400,
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {t} from value {value!r} for field {f.name}",
            [f.name],
        ) from None
    if isinstance(value, bool | int | float):
        value = str(value).lower() if isinstance(value, bool) else str(value)
    if not isinstance(value, str):
        raise ApiError(
            400,
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of string from {type(value).__name__} for {f.name}",
            [f.name],
        )
    if value == "":
        return None
    if len(value) > f.length and f.type != "textarea":
        raise ApiError(
            400,
            "STRING_TOO_LONG",
            f"{f.label or f.name}: data value too large: {value[:40]} (max length={f.length})",
            [f.name],
        )
    return value


def from_storage(f: Field, value):
    if value is None:
        return None
    if f.type == "boolean":
        return bool(value)
    return value
