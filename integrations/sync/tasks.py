"""django-q2 entry points of the sync (thin: they take ids and call services)."""

import logging

from integrations.outbox.models import OutboxItem
from integrations.salesforce import get_client

from .models import SyncRun
from .pull import mirror_refresh
from .services import sync_run_execute

log = logging.getLogger(__name__)


def sync_run_task(run_id):
    """Run a queued SyncRun ("Sync now", the API)."""
    run = SyncRun.objects.filter(pk=run_id, state=SyncRun.State.QUEUED).first()
    if run is None:
        log.info("sync run %s is not queued any more", run_id)
        return None
    run = sync_run_execute(run=run)
    return run.state


def sync_scheduled():
    """The schedule: pull what changed, then push the outbox."""
    run = sync_run_execute(
        kind=SyncRun.Kind.SYNC, trigger=SyncRun.Trigger.SCHEDULE, record_skips=False
    )
    return run.state if run else "skipped"


def sync_push_scheduled():
    """The push schedule: push the outbox between syncs (only when there is work)."""
    if not OutboxItem.objects.filter(state=OutboxItem.State.PENDING).exists():
        return "nothing to push"
    run = sync_run_execute(
        kind=SyncRun.Kind.PUSH, trigger=SyncRun.Trigger.SCHEDULE, record_skips=False
    )
    return run.state if run else "skipped"


def sync_push_soon():
    """New outbox work arrived a moment ago: push it."""
    run = sync_run_execute(kind=SyncRun.Kind.PUSH, trigger=SyncRun.Trigger.SOON, record_skips=False)
    return run.state if run else "skipped"


def mirror_records_refresh(records):
    """Records written in Salesforce outside the outbox (accounts.signals.mirror_records_stale)."""
    runlog = mirror_refresh(client=get_client(), records=records)
    return runlog.counts
