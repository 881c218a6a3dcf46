"""Writing to the outbox: every change crmbridge owes Salesforce goes through here."""

from django.db import transaction

from integrations.models import OutboxItem


def _local_ref(obj):
    return f"{obj._meta.label_lower}:{obj.pk}" if obj is not None else ""


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

    With a `crmbridge_id` the write is an upsert on Crmbridge_Id__c (safe to repeat); with only
    an `sf_id` it is an update of that record. `local` is the mirror row that receives the
    Salesforce Id once pushed.
    """
    if operation is None:
        operation = OutboxItem.Operation.UPSERT if crmbridge_id else OutboxItem.Operation.UPDATE
    if operation == OutboxItem.Operation.UPSERT and not crmbridge_id:
        raise ValueError("an upsert needs a crmbridge_id")
    if operation != OutboxItem.Operation.UPSERT and not sf_id:
        raise ValueError(f"an {operation} needs the record's Salesforce Id")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue must run in the transaction of the local change")
    return OutboxItem.objects.create(
        sobject=sobject,
        operation=operation,
        crmbridge_id=crmbridge_id,
        sf_id=sf_id,
        payload=payload,
        stage=OutboxItem.stage_for(sobject),
        local_ref=_local_ref(local),
    )
