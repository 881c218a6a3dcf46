"""Claiming outbox rows for a push: a conditional UPDATE ... WHERE state = 'pending', so two
pushers never take the same row; a claim older than STALE_CLAIM_AFTER belongs to a dead worker
and is handed out again."""

import os
import socket
import threading
import uuid
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from .models import OutboxItem

BATCH_SIZE = 200  # records per sObject Collections request
# Rows one claim takes: a few collection calls' worth, so the claim's and the sent mark's
# statements are paid once per 1,000 records, not per 200.
CLAIM_SIZE = 5 * BATCH_SIZE
STALE_CLAIM_AFTER = timedelta(minutes=15)


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{threading.get_ident() % 100000}"


def outbox_reclaim_stale(*, now=None, older_than: timedelta = STALE_CLAIM_AFTER) -> int:
    """Hand rows claimed by a worker that died (claim older than `older_than`) back to pending."""
    now = now or timezone.now()
    return OutboxItem.objects.filter(
        state=OutboxItem.State.CLAIMED, claimed_at__lt=now - older_than
    ).update(state=OutboxItem.State.PENDING, claimed_by="", claimed_at=None)


def due(now):
    """Rows waiting to be sent at `now`."""
    return Q(state=OutboxItem.State.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def outbox_claim(
    *, worker: str | None = None, limit: int = CLAIM_SIZE, now=None, after: dict | None = None
) -> list:
    """Claim up to `limit` due rows of one sobject and operation, lowest stage first. The
    conditional UPDATE takes only rows still pending, so concurrent pushers split the work.

    `after`, a dict one push keeps across its claims, holds the last id claimed per (stage,
    sobject, operation): the next claim starts there instead of walking again over every row
    this push already sent (on PostgreSQL those stay in the index until vacuum, and the planner,
    which saw them pending, scans them: each claim got slower as a backlog drained). A group
    with nothing due past its mark is asked once more from the start, so no due row is missed.
    """
    now = now or timezone.now()
    after = {} if after is None else after
    waiting = OutboxItem.objects.filter(due(now))
    first = waiting.order_by("stage", "id").values_list("stage", "sobject", "operation").first()
    if first is None:
        return []
    group = waiting.filter(stage=first[0], sobject=first[1], operation=first[2]).order_by("id")
    ids = []
    if first in after:
        ids = list(group.filter(id__gt=after[first]).values_list("id", flat=True)[:limit])
    if not ids:
        ids = list(group.values_list("id", flat=True)[:limit])
    if not ids:
        return []
    after[first] = ids[-1]
    token = f"{worker or worker_name()}/{uuid.uuid4().hex[:12]}"[:64]
    OutboxItem.objects.filter(id__in=ids, state=OutboxItem.State.PENDING).update(
        state=OutboxItem.State.CLAIMED, claimed_by=token, claimed_at=now
    )
    return list(OutboxItem.objects.filter(id__in=ids, claimed_by=token).order_by("id"))


def release(items) -> None:
    OutboxItem.objects.filter(id__in=[i.id for i in items], state=OutboxItem.State.CLAIMED).update(
        state=OutboxItem.State.PENDING, claimed_by="", claimed_at=None
    )
