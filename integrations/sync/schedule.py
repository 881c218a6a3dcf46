"""The sync's django-q2 schedules: created idempotently, following `sync_interval_minutes`.

* "crmbridge: Salesforce sync" pulls what changed, then pushes the outbox, every N minutes;
* "crmbridge: Salesforce push" pushes the outbox between syncs (offset by half an interval);
* "crmbridge: Salesforce push soon" is a one-off schedule made when new outbox work arrives
  (debounced: at most one waits at a time), so new Contacts reach Salesforce within a minute.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_q.models import Schedule

from crmbridge.models import GlobalSettings

SYNC_SCHEDULE = "crmbridge: Salesforce sync"
PUSH_SCHEDULE = "crmbridge: Salesforce push"
SOON_SCHEDULE = "crmbridge: Salesforce push soon"
SYNC_FUNC = "integrations.sync.tasks.sync_scheduled"
PUSH_FUNC = "integrations.sync.tasks.sync_push_scheduled"
SOON_FUNC = "integrations.sync.tasks.sync_push_soon"
SOON_DELAY = timedelta(seconds=30)

_soon_lock = threading.Lock()
_soon_last = {"at": None}


def sync_schedules_ensure(*, minutes: int | None = None, now=None) -> dict:
    """Create or update the named schedules so they run every `minutes` (default: Global
    Settings' sync_interval_minutes). A changed interval takes effect at once: the next run is
    moved to now + the new interval when that is sooner. Returns {name: Schedule}."""
    now = now or timezone.now()
    if minutes is None:
        minutes = GlobalSettings.load().sync_interval_minutes
    wanted = {
        SYNC_SCHEDULE: (SYNC_FUNC, timedelta(0)),
        PUSH_SCHEDULE: (PUSH_FUNC, timedelta(minutes=minutes) / 2),
    }
    out = {}
    for name, (func, offset) in wanted.items():
        schedule = Schedule.objects.filter(name=name).order_by("pk").first()
        first_run = now + offset if offset else now + timedelta(minutes=minutes)
        if schedule is None:
            schedule = Schedule.objects.create(
                name=name,
                func=func,
                schedule_type=Schedule.MINUTES,
                minutes=minutes,
                repeats=-1,
                next_run=first_run,
            )
        elif schedule.minutes != minutes or schedule.func != func:
            schedule.func = func
            schedule.schedule_type = Schedule.MINUTES
            schedule.minutes = minutes
            schedule.repeats = -1
            if schedule.next_run is None or schedule.next_run > first_run:
                schedule.next_run = first_run
            schedule.save()
        Schedule.objects.filter(name=name).exclude(pk=schedule.pk).delete()
        out[name] = schedule
    return out


def sync_schedules_follow_settings() -> None:
    """Call after Global Settings were saved (admin or API): the interval follows at once."""
    transaction.on_commit(lambda: sync_schedules_ensure())


def sync_schedules_follow_settings_change(sender, *, changed, **kwargs) -> None:
    """crmbridge.signals.global_settings_changed: follow a new sync interval."""
    if "sync_interval_minutes" in changed:
        sync_schedules_follow_settings()


def ensure_on_migrate(sender=None, **kwargs) -> None:
    """post_migrate handler (connected in SyncConfig.ready)."""
    if "django_q_schedule" not in connection.introspection.table_names():
        return
    sync_schedules_ensure()


def push_soon_request(*, now=None, delay: timedelta = SOON_DELAY) -> bool:
    """New outbox work: make sure a push runs within `delay`. Debounced: nothing is done while a
    "push soon" is already waiting (or was asked for in this process less than `delay` ago).
    Returns True when it scheduled one."""
    now = now or timezone.now()
    with _soon_lock:
        last = _soon_last["at"]
        if last is not None and now - last < delay:
            return False
        _soon_last["at"] = now
    if Schedule.objects.filter(name=SOON_SCHEDULE).exists():
        return False
    Schedule.objects.create(
        name=SOON_SCHEDULE,
        func=SOON_FUNC,
        schedule_type=Schedule.ONCE,
        repeats=-1,  # django-q2 deletes a ONCE schedule after it ran
        next_run=now + delay,
    )
    return True


def push_soon_forget() -> None:
    """Forget this process's debounce memory (tests)."""
    with _soon_lock:
        _soon_last["at"] = None


def push_soon_on_commit() -> None:
    """Hook for outbox writers: schedule a push soon after the transaction commits."""
    transaction.on_commit(push_soon_request)
