"""The address books' django-q2 schedule: every Global Settings sync interval, idempotently."""

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_q.models import Schedule

from crmbridge.models import GlobalSettings

SCHEDULE = "crmbridge: address books"
FUNC = "integrations.addressbooks.tasks.address_books_sync_scheduled"


def address_books_schedule_ensure(*, minutes=None, now=None) -> Schedule:
    """Create or update the schedule so it runs every `minutes` (default: the sync interval)."""
    now = now or timezone.now()
    minutes = minutes or GlobalSettings.load().sync_interval_minutes
    schedule = Schedule.objects.filter(name=SCHEDULE).order_by("pk").first()
    if schedule is None:
        return Schedule.objects.create(
            name=SCHEDULE,
            func=FUNC,
            schedule_type=Schedule.MINUTES,
            minutes=minutes,
            repeats=-1,
            next_run=now + timedelta(minutes=minutes),
        )
    if schedule.minutes != minutes or schedule.func != FUNC:
        schedule.func, schedule.minutes = FUNC, minutes
        schedule.schedule_type, schedule.repeats = Schedule.MINUTES, -1
        schedule.next_run = min(schedule.next_run or now, now + timedelta(minutes=minutes))
        schedule.save()
    return schedule


def address_books_schedule_follow_settings(sender=None, changed=(), **kwargs) -> None:
    """global_settings_changed handler: a new sync interval takes effect at once."""
    if "sync_interval_minutes" in changed:
        transaction.on_commit(address_books_schedule_ensure)


def ensure_on_migrate(sender=None, **kwargs) -> None:
    """post_migrate handler (connected in AddressBooksConfig.ready)."""
    if "django_q_schedule" in connection.introspection.table_names():
        address_books_schedule_ensure()
