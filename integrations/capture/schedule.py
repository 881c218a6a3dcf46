"""One django-q2 schedule per enabled source, every sync interval (Global Settings)."""

from django_q.models import Schedule

from crmbridge.models import GlobalSettings

SCHEDULED_FUNC = "integrations.capture.tasks.capture_scheduled"


def schedule_name(source_id) -> str:
    return f"crmbridge: capture source {source_id}"


def capture_schedule_follow(*, source, minutes=None) -> Schedule | None:
    """Create, update or remove the source's schedule so that it matches the source."""
    name = schedule_name(source.pk)
    if not source.enabled:
        Schedule.objects.filter(name=name).delete()
        return None
    minutes = minutes or GlobalSettings.load().sync_interval_minutes
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": SCHEDULED_FUNC,
            "args": repr((source.pk,)),
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )
    return schedule
