"""Writes to a meeting that already exists: moved, retitled or cancelled at its source."""

from django.db import transaction

from .logs import activity_logs_resend
from .models import Activity

CANCELLED_PREFIX = "Cancelled: "


def activity_meeting_update(
    *, activity: Activity, occurred_at, ends_at, subject: str, cancelled: bool
) -> bool:
    """Give a captured meeting its source's current time, end and subject; a cancelled meeting
    keeps its time and says so in its subject. Its Events in Salesforce follow (upserts).
    Returns whether anything changed."""
    subject = subject[: 998 - len(CANCELLED_PREFIX)]
    if cancelled:
        subject = CANCELLED_PREFIX + subject
        occurred_at, ends_at = activity.occurred_at, activity.ends_at
    wanted = {"occurred_at": occurred_at, "ends_at": ends_at, "subject": subject}
    changed = [name for name, value in wanted.items() if getattr(activity, name) != value]
    if not changed:
        return False
    with transaction.atomic():
        for name in changed:
            setattr(activity, name, wanted[name])
        activity.save(update_fields=changed)
        activity_logs_resend(activity=activity)
    return True
