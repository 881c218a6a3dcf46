"""Calendar data (ICS) -> meetings: recurring series expanded within the window, each
occurrence with a stable key, its real start and end, organizer and attendees with their answer.
Pure functions, no database."""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

import icalendar
import recurring_ical_events

from .rules import CaptureRules, clean_text

PARTSTAT = {
    "ACCEPTED": "accepted",
    "DECLINED": "declined",
    "TENTATIVE": "tentative",
    "NEEDS-ACTION": "needs-action",
}


@dataclass
class Meeting:
    key: str  # UID, plus the occurrence's original start for one of a series
    start: dt.datetime
    end: dt.datetime
    subject: str
    cancelled: bool
    participants: list = field(default_factory=list)
    skipped: str = ""

    @property
    def fingerprint(self) -> str:
        said = [self.start.isoformat(), self.end.isoformat(), self.subject, self.cancelled]
        said.append(sorted((p["email"], p["role"], p["response"]) for p in self.participants))
        return hashlib.sha256(json.dumps(said).encode()).hexdigest()

    def as_activity(self, rules: CaptureRules) -> dict:
        return {
            "source": rules.source_label,
            "external_id": self.key[:255],
            "kind": "meeting",
            "occurred_at": self.start.isoformat(),
            "ends_at": self.end.isoformat(),
            "owner": rules.owner_email,
            "subject": self.subject[:998],
            "participants": self.participants,
        }


def _aware(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)  # an all-day event


def _address(value) -> str:
    text = str(value or "")
    return text[7:] if text.lower().startswith("mailto:") else text


def _people(event) -> list:
    people = []
    organizer = event.get("ORGANIZER")
    if organizer:
        people.append(
            {
                "email": _address(organizer),
                "name": clean_text(organizer.params.get("CN", "")),
                "role": "organizer",
                "response": "accepted",
            }
        )
    attendees = event.get("ATTENDEE", [])
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        people.append(
            {
                "email": _address(attendee),
                "name": clean_text(attendee.params.get("CN", "")),
                "role": "attendee",
                "response": PARTSTAT.get(str(attendee.params.get("PARTSTAT", "")).upper(), ""),
            }
        )
    return people


def _uid(event) -> str:
    return clean_text(event.get("UID")) or hashlib.sha256(event.to_ical()).hexdigest()


def _key(event, series: set) -> str:
    uid = _uid(event)
    recurrence = event.get("RECURRENCE-ID")
    if recurrence is None or uid not in series:
        return uid
    return f"{uid}#{_aware(recurrence.dt).astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def _meeting(event, *, method: str, series: set) -> Meeting:
    start = _aware(event.decoded("DTSTART"))
    if event.get("DTEND") is not None:
        end = _aware(event.decoded("DTEND"))
    elif event.get("DURATION") is not None:
        end = start + event.decoded("DURATION")
    else:
        end = start
    status = str(event.get("STATUS", "")).upper()
    private = str(event.get("CLASS", "")).upper() in {"PRIVATE", "CONFIDENTIAL"}
    return Meeting(
        key=_key(event, series),
        start=start,
        end=max(end, start),
        subject=clean_text(event.get("SUMMARY")),
        cancelled=status == "CANCELLED" or method == "CANCEL",
        participants=_people(event),
        skipped="private" if private else "",
    )


def meetings_from_ics(data, *, rules: CaptureRules) -> list[Meeting]:
    """Every occurrence in the window [rules.since, rules.until] of the events in `data`.

    A series is expanded; an occurrence moved or cancelled by an exception carries the
    exception's time and status. A single event outside the window is returned skipped, so
    it is counted."""
    calendar = icalendar.Calendar.from_ical(data)
    method = str(calendar.get("METHOD", "")).upper()
    occurrences = recurring_ical_events.of(calendar, skip_bad_series=True).between(
        rules.since, rules.until
    )
    events = calendar.walk("VEVENT")
    series = {_uid(e) for e in events if e.get("RRULE") or e.get("RDATE") or e.get("RECURRENCE-ID")}
    meetings = [_meeting(event, method=method, series=series) for event in occurrences]
    found = {m.key for m in meetings}
    for event in events:
        if event.get("RRULE") is None and _key(event, series) not in found:
            meeting = _meeting(event, method=method, series=series)
            # Inside the window but not expanded: a cancelled exception to a series; keep it.
            if not rules.since <= meeting.start <= rules.until:
                meeting.skipped = meeting.skipped or "outside_window"
            meetings.append(meeting)
    return meetings
