"""Writing to the outbox: every change crmbridge owes Salesforce goes through here.

The payload format is described in `payloads.py`.
"""

from django.db import IntegrityError, transaction

from crmbridge.bulk import objects_insert, rows_insert

from .models import OutboxItem
from .payloads import local_ref
from .signals import outbox_enqueued


def _item_fields(
    *,
    sobject: str,
    payload: dict,
    crmbridge_id: str = "",
    sf_id: str = "",
    local=None,
    operation: str | None = None,
) -> dict:
    if operation is None:
        operation = OutboxItem.Operation.UPSERT if crmbridge_id else OutboxItem.Operation.UPDATE
    if operation == OutboxItem.Operation.UPSERT and not crmbridge_id:
        raise ValueError("an upsert needs a crmbridge_id")
    if operation != OutboxItem.Operation.UPSERT and not sf_id:
        raise ValueError(f"an {operation} needs the record's Salesforce Id")
    return {
        "sobject": sobject,
        "operation": operation,
        "crmbridge_id": crmbridge_id,
        "sf_id": sf_id,
        "payload": payload,
        "stage": OutboxItem.stage_for(sobject),
        "local_ref": local_ref(local),
    }


def _check_transaction():
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue must run in the transaction of the local change")


def outbox_enqueue(
    *,
    sobject: str,
    payload: dict,
    crmbridge_id: str = "",
    sf_id: str = "",
    local=None,
    operation: str | None = None,
) -> OutboxItem:
    """Queue one write. Must run inside the transaction that made the local change.

    With a `crmbridge_id` the write is an upsert on the external id (safe to repeat); with only
    an `sf_id` it is an update of that record. `local` is the mirror row that receives the
    Salesforce Id once pushed.
    """
    item = OutboxItem(
        **_item_fields(
            sobject=sobject,
            payload=payload,
            crmbridge_id=crmbridge_id,
            sf_id=sf_id,
            local=local,
            operation=operation,
        )
    )
    _check_transaction()
    item.save()
    outbox_enqueued.send(sender=OutboxItem)
    return item


def outbox_enqueue_many(*, writes: list[dict]) -> int:
    """Queue many writes with one insert (plain rows, no model instances): each dict takes
    outbox_enqueue's arguments. Returns how many were queued."""
    rows = [_item_fields(**write) for write in writes]
    if not rows:
        return 0
    _check_transaction()
    rows_insert(model=OutboxItem, rows=rows)
    outbox_enqueued.send(sender=OutboxItem)
    return len(rows)


def outbox_write_target(record) -> dict:
    """outbox_enqueue arguments that address an existing mirror record: an update by its
    Salesforce Id once it has one, else an upsert on its crmbridge id."""
    if record.sf_id:
        return {"sf_id": record.sf_id, "operation": OutboxItem.Operation.UPDATE}
    return {"crmbridge_id": record.crmbridge_id}


def outbox_retry(*, items) -> int:
    """An admin fixed something: send these failed rows again (and children that failed only
    because their parent did). Returns how many rows are pending again."""
    ids = [i.pk if hasattr(i, "pk") else i for i in items]
    reset = {
        "state": OutboxItem.State.PENDING,
        "attempts": 0,
        "next_attempt_at": None,
        "claimed_by": "",
        "claimed_at": None,
    }
    n = OutboxItem.objects.filter(id__in=ids, state=OutboxItem.State.FAILED).update(**reset)
    n += (
        OutboxItem.objects.filter(state=OutboxItem.State.FAILED, error_code="PARENT_FAILED")
        .exclude(id__in=ids)
        .update(**reset)
    )
    if n:
        outbox_enqueued.send(sender=OutboxItem)
    return n


def outbox_create_once(*, model, rows: list, write, contested=True) -> list:
    """Insert `rows` of `model` and queue `write(row)` for each, in one go; when another
    transaction made one of them first (a unique constraint), fall back to one savepoint per row
    and skip the duplicates. Returns the rows made. With `contested` False (no other
    transaction can make these rows: they hang off rows this one created), no savepoint."""
    if not rows:
        return []
    try:
        with transaction.atomic(savepoint=contested):
            objects_insert(rows)
            outbox_enqueue_many(writes=[write(r) for r in rows])
        return rows
    except IntegrityError:
        if not contested:
            raise
        for row in rows:
            row.pk = None
            row._state.adding = True
    made = []
    for row in rows:
        try:
            with transaction.atomic():
                row.save(force_insert=True)
                outbox_enqueue(**write(row))
        except IntegrityError:
            continue
        made.append(row)
    return made
