"""One capture run: claim the source, read it from its watermark, ingest what is new or
changed, record the counts and the watermark.

Everything captured goes through activities.services.activity_ingest_many (idempotent on
source + external_id), so matching, Contacts and the push to Salesforce follow as for the API.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from activities import services as activity_services
from activities.meeting_services import activity_meeting_update
from activities.models import Activity
from crmbridge.models import GlobalSettings

from .events import Meeting, meetings_from_ics
from .messages import message_outcome
from .models import CapturedItem, CaptureRun, CaptureSource
from .readers import CaptureSourceError, reader_for
from .rules import LOOK_AHEAD, CaptureRules

MAX_ITEMS_PER_RUN = 5000  # bounded work per task; the next run resumes from the watermark
BATCH = 200
STALE_CLAIM = dt.timedelta(hours=2)  # a run that died holding its source releases it
MAX_ERRORS_KEPT = 50


def capture_rules_for(*, source: CaptureSource, now=None) -> CaptureRules:
    now = now or timezone.now()
    settings = GlobalSettings.load()
    return CaptureRules(
        source_label=f"capture:{source.owner_id}",
        owner_email=source.owner.email,
        since=now - dt.timedelta(days=source.backfill_days),
        until=now + LOOK_AHEAD,
        internal_domains=tuple(settings.internal_domains or ()),
        exclusions=frozenset(e.strip().lower().lstrip("@") for e in settings.capture_exclusions),
        body_mode=settings.capture_body,
        body_chars=settings.capture_body_chars,
    )


def capture_run_create(*, source: CaptureSource) -> CaptureRun:
    return CaptureRun.objects.create(source=source)


def _claim(source) -> bool:
    """Take the source for one run: a conditional UPDATE, so two workers never overlap."""
    now = timezone.now()
    free = Q(running_since__isnull=True) | Q(running_since__lt=now - STALE_CLAIM)
    return bool(CaptureSource.objects.filter(free, pk=source.pk).update(running_since=now))


def _release(source):
    CaptureSource.objects.filter(pk=source.pk).update(running_since=None)


def _merge(state: dict, mark: dict) -> dict:
    for section, values in mark.items():
        state.setdefault(section, {}).update(values)
    return state


@dataclass
class _Tally:
    seen: int = 0
    captured: int = 0
    updated: int = 0
    already_present: int = 0
    skipped: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)

    def error(self, text):
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(text)
        elif len(self.errors) == MAX_ERRORS_KEPT:
            self.errors.append("More errors were left out.")


class _Run:
    """One run's work: batches of activities to ingest, meetings to add or update, marks."""

    def __init__(self, source, rules, tally):
        self.source, self.rules, self.tally = source, rules, tally
        self.emails, self.meetings, self.files, self.marks = [], [], [], []
        self.read = 0  # items read and parsed (an unchanged file passed over is not)
        self.known = {
            item.key: item for item in CapturedItem.objects.filter(source=source).order_by()
        }

    def take(self, item):
        if item.data is None:
            self.marks.append(item.mark)
            return
        self.tally.seen += 1
        known = self.known.get(item.key)
        if item.fingerprint and known and known.fingerprint == item.fingerprint:
            self.tally.already_present += 1
        else:
            self.read += 1
            try:
                self._read(item)
            except Exception as exc:  # a broken item is counted and never stops the run
                self.tally.error(f"{item.key}: could not be read ({type(exc).__name__}: {exc}).")
            if item.fingerprint:
                self.files.append((item.key, item.fingerprint))
        self.marks.append(item.mark)

    def _read(self, item):
        if item.kind == "calendar":
            meetings = meetings_from_ics(item.data, rules=self.rules)
        else:
            outcome = message_outcome(item.data, rules=self.rules, fallback_date=item.fallback_date)
            if outcome.skipped:
                self.tally.skipped[outcome.skipped] += 1
                return
            if outcome.activity:
                self.emails.append((item.key, outcome.activity))
            meetings = outcome.meetings
        for meeting in meetings:
            self._take_meeting(meeting)

    def _take_meeting(self, meeting: Meeting):
        skipped = meeting.skipped or self.rules.skip_for_people(
            [p["email"] for p in meeting.participants]
        )
        if skipped:
            self.tally.skipped[skipped] += 1
            return
        known = self.known.get("event:" + meeting.key)
        if known and known.fingerprint == meeting.fingerprint:
            self.tally.already_present += 1
        elif known is None and meeting.cancelled:
            self.tally.skipped["cancelled"] += 1
        else:
            self.meetings.append(meeting)

    def flush(self):
        with transaction.atomic():
            self._ingest_emails()
            self._ingest_meetings()
            for key, fingerprint in self.files:
                self._remember(key, fingerprint, None)
            for mark in self.marks:
                _merge(self.source.state, mark)
            self.source.save(update_fields=["state"])
        self.emails, self.meetings, self.files, self.marks = [], [], [], []

    def _ingest_emails(self):
        if not self.emails:
            return
        results = activity_services.activity_ingest_many(items=[a for _, a in self.emails])
        for (key, _), result in zip(self.emails, results, strict=True):
            self._count(key, result)

    def _count(self, key, result):
        if result.status == activity_services.CREATED:
            self.tally.captured += 1
        elif result.status == activity_services.EXISTING:
            self.tally.already_present += 1
        else:
            words = "; ".join(f"{k}: {' '.join(v)}" for k, v in result.errors.items())
            self.tally.error(f"{key}: not captured ({words}).")

    def _ingest_meetings(self):
        if not self.meetings:
            return
        meetings = list({m.key: m for m in self.meetings}.values())  # the last word wins
        fresh = [m for m in meetings if not m.cancelled]
        results = activity_services.activity_ingest_many(
            items=[m.as_activity(self.rules) for m in fresh]
        )
        created = set()
        for meeting, result in zip(fresh, results, strict=True):
            if result.status == activity_services.CREATED:
                self.tally.captured += 1
                created.add(meeting.key)
            elif result.status != activity_services.EXISTING:
                self._count(meeting.key, result)
        existing = Activity.objects.filter(
            source=self.rules.source_label, external_id__in=[m.key[:255] for m in meetings]
        )
        by_key = {a.external_id: a for a in existing}
        for meeting in meetings:
            activity = by_key.get(meeting.key[:255])
            if activity is not None and meeting.key not in created:
                changed = activity_meeting_update(
                    activity=activity,
                    occurred_at=meeting.start,
                    ends_at=meeting.end,
                    subject=meeting.subject,
                    cancelled=meeting.cancelled,
                )
                if changed:
                    self.tally.updated += 1
                else:
                    self.tally.already_present += 1
            if activity is not None:
                self._remember("event:" + meeting.key, meeting.fingerprint, activity)

    def _remember(self, key, fingerprint, activity):
        item, _ = CapturedItem.objects.update_or_create(
            source=self.source,
            key=key[:255],
            defaults={"fingerprint": fingerprint, "activity": activity},
        )
        self.known[key] = item


def capture_run_execute(
    *, run: CaptureRun, limit: int = MAX_ITEMS_PER_RUN, progress=None
) -> CaptureRun:
    """Read the run's source from its watermark and ingest what is new, at most `limit` items
    (then `more_to_do`). A source that cannot be read fails the run with the reason in words,
    recorded on the source too. `progress(n)` is called as items are read."""
    source = run.source
    if not _claim(source):
        run.state, run.finished_at = CaptureRun.State.FAILED, timezone.now()
        run.errors = ["Another capture of this source is still running; this one did not start."]
        run.save()
        return run
    run.state, run.started_at = CaptureRun.State.RUNNING, timezone.now()
    run.save(update_fields=["state", "started_at"])
    tally, reader = _Tally(), None
    try:
        source.refresh_from_db()
        rules = capture_rules_for(source=source)
        work = _Run(source, rules, tally)
        reader = reader_for(source, since=rules.since)
        for item in reader.items():
            if item.data is not None and work.read >= limit:
                run.more_to_do = True
                break
            work.take(item)
            if progress is not None and item.data is not None:
                progress(1)
            if len(work.emails) + len(work.meetings) + len(work.files) >= BATCH:
                work.flush()
        work.flush()
        run.state, source.last_error = CaptureRun.State.DONE, ""
    except CaptureSourceError as exc:
        run.state, source.last_error = CaptureRun.State.FAILED, str(exc)
        tally.error(str(exc))
    finally:
        _release(source)
    CaptureSource.objects.filter(pk=source.pk).update(last_error=source.last_error)
    run.seen, run.captured, run.updated = tally.seen, tally.captured, tally.updated
    run.already_present, run.skipped = tally.already_present, dict(tally.skipped)
    run.errors, run.finished_at = tally.errors, timezone.now()
    run.round_trips = reader.round_trips if reader is not None else 0
    run.save()
    return run
