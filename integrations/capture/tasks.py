"""django-q2 entry points of capture (thin: they take ids and call the run)."""

from django_q.tasks import async_task

from .models import CaptureRun, CaptureSource
from .run import capture_run_create, capture_run_execute
from .schedule import capture_schedule_follow


def capture_run_task(run_id):
    """Run a queued CaptureRun (the API's and the admin's "Capture now")."""
    run = CaptureRun.objects.filter(pk=run_id, state=CaptureRun.State.QUEUED).first()
    return capture_run_execute(run=run).state if run else "not queued"


def capture_scheduled(source_id):
    """The source's schedule. A run stops after a bounded number of items; when more is
    waiting, the next run is queued at once and resumes from the watermark."""
    source = CaptureSource.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return "no such enabled source"
    capture_schedule_follow(source=source)  # a changed sync interval applies from the next run
    run = capture_run_execute(run=capture_run_create(source=source))
    if run.more_to_do:
        async_task("integrations.capture.tasks.capture_scheduled", source_id, group="capture")
    return run.state
