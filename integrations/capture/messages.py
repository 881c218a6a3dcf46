"""One e-mail message (bytes) -> an activity, the meetings of an invitation, or a skip reason.

Parsed with the standard library's `email` package and `policy.default`: RFC 2047 display
names in any charset, folded headers, quoted-printable and base64 bodies are decoded there.
The signature is read with crmbridge's own signature parser (activities.names). Attachments
are never read. Pure functions, no database."""

import datetime as dt
import email
import hashlib
from dataclasses import dataclass, field
from email import policy
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from email_validator import EmailNotValidError

from activities.addresses import normalise_email
from activities.names import name_from_display, parse_signature, split_body

from .events import Meeting, meetings_from_ics
from .rules import CaptureRules, clean_text

BULK_PRECEDENCE = {"bulk", "list", "junk"}
PRIVATE_SENSITIVITY = {"private", "personal", "company-confidential"}


@dataclass
class MessageOutcome:
    activity: dict | None = None
    meetings: list[Meeting] = field(default_factory=list)
    skipped: str = ""


class _HtmlText(HTMLParser):
    """The visible text of an HTML body, one line per block."""

    BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "blockquote", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in {"style", "script", "head"}
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        self._hidden -= tag in {"style", "script", "head"} and self._hidden > 0

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(lines).strip()


def _addresses(message, header: str) -> list:
    try:
        value = message[header]
        return list(value.addresses) if value is not None else []
    except (AttributeError, IndexError, TypeError, ValueError):
        return []  # an unparseable address header gives nobody, not a failed run


def _valid(address: str) -> str:
    try:
        return normalise_email(clean_text(address))
    except (EmailNotValidError, UnicodeError, ValueError):
        return ""


def _when(message, fallback) -> dt.datetime | None:
    raw = message.get("Date")
    try:
        when = raw.datetime if hasattr(raw, "datetime") else parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        when = None
    when = when or fallback
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when


def _external_id(message, when, sender, subject) -> str:
    message_id = clean_text(message.get("Message-ID", "")).strip("<> ")
    if message_id:
        return (
            message_id
            if len(message_id) <= 255
            else hashlib.sha256(message_id.encode()).hexdigest()
        )
    stable = f"{when.isoformat() if when else ''}|{sender}|{subject}"
    return "sha256:" + hashlib.sha256(stable.encode()).hexdigest()


def _skip_by_headers(message) -> str:
    # Only headers the message has are read: policy.default parses a header on every access.
    names = {name.lower() for name in message}

    def value(name):
        return str(message.get(name, "")).strip().lower() if name in names else ""

    auto = value("auto-submitted")
    if (auto and auto != "no") or names & {"x-autoreply", "x-autorespond"}:
        return "auto_reply"
    if value("precedence") in BULK_PRECEDENCE or names & {"list-unsubscribe", "list-id"}:
        return "bulk"
    if value("sensitivity") in PRIVATE_SENSITIVITY:
        return "private"
    return ""


def _calendar_part(message):
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True) or b""
    return None


def _plain_text(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError, KeyError):
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        text = _html_text(text)
    return clean_text(text)


def _participants(message, sender_signature) -> list:
    people, seen = [], set()
    for header, role in (("From", "from"), ("To", "to"), ("Cc", "cc")):
        for address in _addresses(message, header):
            email_address = _valid(address.addr_spec)
            if not email_address or email_address.lower() in seen:
                continue
            seen.add(email_address.lower())
            person = {"email": email_address, "name": clean_text(address.display_name)[:255]}
            person["role"] = role
            if role == "from":
                sig = sender_signature
                if not all(name_from_display(person["name"])) and sig.first_name:
                    person["name"] = f"{sig.first_name} {sig.last_name}".strip()
                person.update(title=sig.title[:128], phone=sig.phone[:40], country=sig.country)
            people.append(person)
    return people


def _body(parts) -> str:
    if not parts.signature:
        return parts.text
    return f"{parts.text}\n-- \n{parts.signature}"


def message_outcome(raw: bytes, *, rules: CaptureRules, fallback_date=None) -> MessageOutcome:
    """What capture makes of one message. Raises ValueError for a message it cannot read."""
    message = email.message_from_bytes(raw, policy=policy.default)
    if not message.keys():
        raise ValueError("not an e-mail message (no headers)")
    skipped = _skip_by_headers(message)
    if skipped:
        return MessageOutcome(skipped=skipped)
    calendar = _calendar_part(message)
    if calendar:
        return MessageOutcome(meetings=meetings_from_ics(calendar, rules=rules))
    when = _when(message, fallback_date)
    if when is None:
        raise ValueError("the message has no date")
    if when < rules.since:
        return MessageOutcome(skipped="too_old")
    parts = split_body(_plain_text(message))
    participants = _participants(message, parse_signature(_body(parts)))
    if not participants:
        return MessageOutcome(skipped="no_participants")
    skipped = rules.skip_for_people([p["email"] for p in participants])
    if skipped:
        return MessageOutcome(skipped=skipped)
    subject = clean_text(message.get("Subject", ""))
    sender = next((p["email"] for p in participants if p["role"] == "from"), "")
    activity = {
        "source": rules.source_label,
        "external_id": _external_id(message, when, sender, subject),
        "kind": "email",
        "occurred_at": when.isoformat(),
        "owner": rules.owner_email,
        "subject": subject[:998],
        "body": rules.kept_body(_body(parts)),
        "participants": participants,
    }
    return MessageOutcome(activity=activity)
