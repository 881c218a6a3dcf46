"""Writes of the sync: running a sync (pull, push or both) under the one lock, recording it.

`sync_run_request` queues a run (admin "Sync now", the API); `sync_run_execute` runs one (the
django-q2 task, the management command, the demo). Two runs never overlap: the lock is a row
whose `expires_at` a live run keeps pushing forward, naming its holder (host and process); the
next run takes over at once the lock of a process of its host that is gone, and otherwise when
the lock expires (and marks the dead run failed).
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from accounts.services import contact_delete
from crmbridge.models import GlobalSettings
from crmbridge.salesforce_connection import salesforce_answer_record
from integrations.salesforce import BudgetExceeded, LimitExceeded, SalesforceError, get_client

from .models import SyncLock, SyncRun, SyncSettings
from .pull import PullStopped, mirror_pull
from .push import outbox_push, worker_name
from .runlog import RunLog

log = logging.getLogger(__name__)

LOCK_NAME = "salesforce-sync"
LOCK_TTL = timedelta(minutes=15)


# -- the lock ------------------------------------------------------------------------------------
def _holder_is_gone(holder: str) -> bool:
    """True when the holder (`host:pid:thread/started`, see worker_name) was a process on this
    host that no longer runs (killed, crashed, a zombie). Unknown hosts are never presumed gone:
    their lock is waited out until it expires."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:30] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def sync_lock_acquire(*, holder: str, run: SyncRun | None = None, now=None, ttl=LOCK_TTL) -> bool:
    """Take the sync lock if it is free, expired, or held by a process of this host that is gone.
    Returns False when a live run holds it. The take-over is one conditional UPDATE, so two
    runs that both see a dead holder never both get the lock."""
    now = now or timezone.now()
    if not SyncLock.objects.filter(name=LOCK_NAME).exists():
        try:
            with transaction.atomic():
                SyncLock.objects.create(name=LOCK_NAME)
        except IntegrityError:
            pass  # created by a concurrent run
    current = SyncLock.objects.get(name=LOCK_NAME)
    free = Q(expires_at__isnull=True) | Q(expires_at__lt=now)
    if current.holder and _holder_is_gone(current.holder):
        free |= Q(holder=current.holder, run_id=current.run_id)
    taken = (
        SyncLock.objects.filter(name=LOCK_NAME)
        .filter(free)
        .update(holder=holder[:64], run=run, expires_at=now + ttl)
    )
    if taken and current.run_id and current.expires_at:
        SyncRun.objects.filter(pk=current.run_id, state=SyncRun.State.RUNNING).update(
            state=SyncRun.State.FAILED,
            finished_at=now,
            message="The worker running this sync stopped; a later run took over.",
        )
    return bool(taken)


def sync_lock_extend(*, holder: str, now=None, ttl=LOCK_TTL) -> bool:
    now = now or timezone.now()
    return bool(
        SyncLock.objects.filter(name=LOCK_NAME, holder=holder[:64]).update(expires_at=now + ttl)
    )


def sync_lock_release(*, holder: str) -> None:
    SyncLock.objects.filter(name=LOCK_NAME, holder=holder[:64]).update(
        holder="", run=None, expires_at=None
    )


# -- runs ----------------------------------------------------------------------------------------
def sync_run_request(*, kind=SyncRun.Kind.SYNC, trigger=SyncRun.Trigger.ADMIN, user=None):
    """Queue a run now ("Sync now", the API); the worker picks it up. Returns the queued run."""
    run = SyncRun.objects.create(
        kind=kind,
        trigger=trigger,
        state=SyncRun.State.QUEUED,
        started_by=user if user is not None and user.is_authenticated else None,
    )
    transaction.on_commit(
        lambda: async_task("integrations.sync.tasks.sync_run_task", run.pk, group="sync")
    )
    return run


def sync_run_execute(
    *,
    kind=SyncRun.Kind.SYNC,
    trigger=SyncRun.Trigger.SCHEDULE,
    run: SyncRun | None = None,
    user=None,
    client=None,
    progress=None,
    record_skips=True,
) -> SyncRun | None:
    """Run one sync inline: pull (everything when kind is full) and/or push. Returns the run;
    None when another run holds the lock and `record_skips` is off (scheduled runs)."""
    if run is None:
        run = SyncRun(kind=kind, trigger=trigger, started_by=user)
    full = run.kind == SyncRun.Kind.FULL
    holder = f"{worker_name()}/{timezone.now().timestamp():.6f}"
    if run.pk is None and not record_skips:
        if not sync_lock_acquire(holder=holder):
            log.info("sync: another run is in progress; skipped")
            return None
        run.state = SyncRun.State.RUNNING
        run.save()
        SyncLock.objects.filter(name=LOCK_NAME, holder=holder[:64]).update(run=run)
    else:
        if run.pk is None:
            run.save()
        if not sync_lock_acquire(holder=holder, run=run):
            current = SyncLock.objects.filter(name=LOCK_NAME).values_list("run_id", flat=True)
            other = current.first()
            run.state = SyncRun.State.SKIPPED
            run.finished_at = timezone.now()
            run.message = f"Sync #{other} was still running." if other else "Another sync ran."
            run.save()
            return run
        run.state = SyncRun.State.RUNNING
        run.save(update_fields=["state"])

    def heartbeat(runlog, text):
        sync_lock_extend(holder=holder)
        if progress is not None and text:
            progress(runlog, text)

    state, message = SyncRun.State.SUCCEEDED, ""
    runlog = RunLog(run, None, on_flush=heartbeat)
    try:
        client = client or get_client()
        client.budget_percent = GlobalSettings.load().api_budget_percent
        runlog.client = client
        try:
            client.limits()  # today's usage: the client only knows the last answer it saw
            runlog.mark_api(already_spent=1)
            if run.kind in (SyncRun.Kind.FULL, SyncRun.Kind.SYNC, SyncRun.Kind.PULL):
                mirror_pull(client=client, runlog=runlog, full=full, run=run)
            if run.kind in (SyncRun.Kind.FULL, SyncRun.Kind.SYNC, SyncRun.Kind.PUSH):
                runlog.flush(progress="pushing the outbox")
                result = outbox_push(client=client, runlog=runlog, refresh_usage=False)
                if result.stopped:
                    state = (
                        SyncRun.State.BUDGET
                        if result.stopped_code in ("BUDGET_EXCEEDED", "REQUEST_LIMIT_EXCEEDED")
                        else SyncRun.State.FAILED
                    )
                    message = f"Push stopped: {result.stopped}. The rest waits for the next run."
        except PullStopped as stop:
            state = SyncRun.State.BUDGET
            message = f"Pull stopped: {stop.reason}. The rest waits for the next run."
        except (BudgetExceeded, LimitExceeded) as exc:
            state, message = SyncRun.State.BUDGET, f"Stopped: {exc}. The rest waits."
        except SalesforceError as exc:
            state, message = SyncRun.State.FAILED, f"Salesforce: {exc}"
        if state == SyncRun.State.SUCCEEDED and runlog.total("failed"):
            state = SyncRun.State.PARTIAL
            message = f"{runlog.total('failed')} records failed; see the errors below."
    except Exception as exc:
        log.exception("sync run %s failed", run.pk)
        state, message = SyncRun.State.FAILED, f"{type(exc).__name__}: {exc}"
    finally:
        runlog.finish(state, message)
        if runlog.client is not None:
            salesforce_answer_record(client=runlog.client)
        sync_lock_release(holder=holder)
    return run


# -- deletion settings ---------------------------------------------------------------------------
@transaction.atomic
def sync_settings_update(*, changes: dict) -> SyncSettings:
    obj = SyncSettings.load()
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    return obj


def contact_delete_following_settings(*, contact) -> bool:
    """Delete a Contact here; Salesforce follows when the sync settings say so and crmbridge
    created it. Returns True when a Salesforce delete was queued."""
    follow = (
        contact.created_by_crmbridge
        and SyncSettings.load().on_local_contact_delete == SyncSettings.OnLocalContactDelete.DELETE
    )
    return contact_delete(contact=contact, delete_in_salesforce=follow)
