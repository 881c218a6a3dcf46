"""The outbox pusher: sends OutboxItem rows to Salesforce in collections of up to 200.

How a push goes:

* Claim a batch with a conditional ``UPDATE ... WHERE state = 'pending'``: two pushers never take
  the same row. A claim older than ``STALE_CLAIM_AFTER`` belongs to a dead worker and is handed
  out again; sending a row twice has the effect of sending it once (upsert on Crmbridge_Id__c,
  update by Id, delete that treats "already deleted" as done).
* Lowest ``stage`` first (Accounts, then Contacts and Leads, then Opportunities, then Tasks,
  Events and contact roles). A row whose parent (referenced by external id) still waits in the
  outbox is deferred; a row whose parent failed is failed with ``PARENT_FAILED``.
* References to parents by external id, ``{"Account": {"Crmbridge_Id__c": "..."}}``, are
  resolved to Salesforce Ids from the mirror where the Id is known. Polymorphic references
  (``Who``/``What``: Salesforce cannot take an external id there) are always resolved: from the
  mirror, else by one query per object type and batch; the type comes from
  ``{"attributes": {"type": "Lead"}}`` in the reference, or is looked up in each candidate type.
* Per record: success marks the row sent and writes the Salesforce Id back to the mirror row
  named by ``local_ref``; a transient error is retried with exponential backoff up to
  ``MAX_ATTEMPTS`` times; a permanent error (REQUIRED_FIELD_MISSING, a validation rule...) fails
  the row with Salesforce's code and message, for an admin to fix and retry.
* Before each batch the API budget is checked (``client.ensure_budget``); when the batch would
  pass it, the claimed rows go back to pending and the push stops with the reason.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from crmbridge.bulk import rows_update_values
from integrations.outbox.claims import (
    BATCH_SIZE,
    due,
    outbox_claim,
    outbox_reclaim_stale,
    release,
    worker_name,
)
from integrations.outbox.models import OutboxItem
from integrations.outbox.payloads import CREATE_ONLY_KEY, outbox_payloads_resolve
from integrations.salesforce import (
    BudgetExceeded,
    LimitExceeded,
    PermanentError,
    TransientError,
    get_client,
)
from integrations.salesforce.errors import RESEND_LATER_CODES
from integrations.salesforce.objects import (
    EXTERNAL_ID,
    MIRROR_MODELS,
)

from .references import Ref, Resolver, external_refs, waiting_refs
from .runlog import RunLog

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
DEFER_PARENT = timedelta(seconds=30)
# A claim's later calls refresh its rows' claim once it is this old (seconds).
CLAIM_REFRESH_AFTER = 60


class PushStopped(Exception):  # noqa: N818 - a signal to stop, with the reason
    def __init__(self, reason: str, code: str):
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass
class PushResult:
    pushed: int = 0
    failed: int = 0
    retrying: int = 0
    deferred: int = 0
    batches: int = 0
    stopped: str = ""  # why the push stopped early ("" when the outbox was emptied)
    stopped_code: str = ""
    per_object: dict = field(default_factory=dict)


# -- the pusher ----------------------------------------------------------------------------------
class Pusher:
    def __init__(self, *, client, runlog: RunLog | None = None, worker: str | None = None):
        self.client = client
        self.log = runlog or RunLog(None, client)
        self.worker = worker or worker_name()
        self.result = PushResult()
        self.claimed_up_to: dict = {}  # see outbox_claim's `after`

    def push(self, *, max_batches: int | None = None, now=None, refresh_usage=True) -> PushResult:
        outbox_reclaim_stale(now=now)
        if refresh_usage and OutboxItem.objects.filter(due(now or timezone.now())).exists():
            # Learn today's usage (the client only knows the last answer it saw).
            try:
                self.client.limits()
            except (TransientError, PermanentError, LimitExceeded) as exc:
                self.result.stopped, self.result.stopped_code = str(exc), exc.error_code or "ERROR"
                return self.result
            self.log.mark_api(already_spent=1)
        while max_batches is None or self.result.batches < max_batches:
            items = outbox_claim(worker=self.worker, now=now, after=self.claimed_up_to)
            if not items:
                break
            try:
                self._batch(items, now=now or timezone.now())
            except PushStopped as stop:
                release(items)
                self.result.stopped, self.result.stopped_code = stop.reason, stop.code
                log.warning("sync push stopped: %s", stop.reason)
                break
            except BaseException:
                release(items)
                raise
            self.result.batches += 1
            self.log.flush(progress=f"pushed {self.result.pushed}, failed {self.result.failed}")
        self.result.per_object = {
            k: {kk: vv for kk, vv in v.items() if kk in ("pushed", "failed")}
            for k, v in self.log.counts.items()
        }
        return self.result

    # -- one batch: one sobject, one operation ----------------------------------------------------
    def _batch(self, items, *, now) -> None:
        """Send one claim, a collection call per BATCH_SIZE records. Each call's records are
        marked at once (sent, retried or failed), so a later call that fails, stops the push
        or dies with its worker leaves only its own and later records to send again."""
        sobject, operation = items[0].sobject, items[0].operation
        ready = self._prepare(items, now=now)
        if not ready:
            return
        groups = _coalesce(ready, operation)
        claimed = time.monotonic()
        for start in range(0, len(groups), BATCH_SIZE):
            chunk = groups[start : start + BATCH_SIZE]
            if time.monotonic() - claimed > CLAIM_REFRESH_AFTER:
                self._still_claimed(groups[start:])
                claimed = time.monotonic()
            try:
                self.client.ensure_budget(1)
                results = self._send(sobject, operation, [g.record for g in chunk])
            except (BudgetExceeded, LimitExceeded) as exc:
                raise PushStopped(str(exc), exc.error_code or "LIMIT") from None
            except TransientError as exc:
                waiting = [i for g in groups[start:] for i in g.items]
                self._retry(waiting, exc.error_code or "TRANSIENT", str(exc), now=now)
                return
            self._sent(self._outcomes(chunk, results, now=now), now=now)

    def _still_claimed(self, groups) -> None:
        """Between the calls of a slow claim: the rows still to send are claimed afresh (and
        the run's lock kept), so a slow org never lets them pass for a dead worker's
        (STALE_CLAIM_AFTER)."""
        OutboxItem.objects.filter(
            id__in=[i.id for g in groups for i in g.items], state=OutboxItem.State.CLAIMED
        ).update(claimed_at=timezone.now())
        self.log.flush(progress=f"pushed {self.result.pushed}, failed {self.result.failed}")

    def _send(self, sobject, operation, records) -> list:
        try:
            if operation == OutboxItem.Operation.UPSERT:
                return self.client.upsert_many(sobject, EXTERNAL_ID, records)
            if operation == OutboxItem.Operation.UPDATE:
                return self.client.update_many(sobject, records)
            return self.client.delete_many([r["Id"] for r in records])
        except PermanentError as exc:
            # The whole call was refused (login, session, a malformed request): not one
            # record's fault. Stop; the rows wait for the next run, the run says why.
            raise PushStopped(
                f"Salesforce refused the call: {exc}", exc.error_code or "ERROR"
            ) from None

    def _outcomes(self, groups, results, *, now) -> list:
        """Retry or fail the records Salesforce refused; returns (group, Id) of the others."""
        done = []
        for g, res in zip(groups, results, strict=False):
            if res and res.get("success"):
                done.append((g, res.get("id")))
                continue
            errors = (res or {}).get("errors") or [
                {"statusCode": "UNKNOWN", "message": "no result"}
            ]
            code = errors[0].get("statusCode") or "ERROR"
            message = "; ".join(
                e.get("message", "")
                + (f" (fields: {', '.join(e['fields'])})" if e.get("fields") else "")
                for e in errors
            )
            if code in RESEND_LATER_CODES or _parent_missing(code, message):
                self._retry(g.items, code, message, now=now)
            elif _drop_create_only(g.items, errors):
                message = "the record exists already; sending it again without " + message
                self._retry(g.items, code, message, now=now)
            else:
                self._fail(g.items, code, message)
        return done

    def _prepare(self, items, *, now) -> list:
        """Resolve parent references (see integrations.outbox.payloads); defer rows
        whose parent is still on its way, fail rows whose parent failed."""
        resolved = outbox_payloads_resolve([i.payload or {} for i in items])
        payloads, refs_by_item = {}, {}
        for item, res in zip(items, resolved, strict=True):
            payloads[item.id] = dict(res.payload)
            refs_by_item[item.id] = external_refs(res.payload) + waiting_refs(
                item.payload or {}, res.waiting_for
            )
        all_refs = [r for refs in refs_by_item.values() for r in refs]
        if not all_refs:
            for item in items:
                item.resolved_payload = payloads[item.id]
            return list(items)
        resolver = Resolver(self.client)
        resolver.load(all_refs)
        ask = [
            r for r in all_refs if r.polymorphic and r.ext and resolver.find(r) is None
            and resolver.outbox_state.get(r.ext) not in ("waiting", "failed")
        ]  # fmt: skip
        if ask:
            try:
                self.client.ensure_budget(len({t for r in ask for t in r.types}))
                resolver.ask_salesforce(ask)
            except (BudgetExceeded, LimitExceeded) as exc:
                raise PushStopped(str(exc), exc.error_code or "LIMIT") from None
            except TransientError as exc:
                self._retry(items, exc.error_code or "TRANSIENT", str(exc), now=now)
                return []
            except PermanentError as exc:
                raise PushStopped(
                    f"Salesforce refused the call: {exc}", exc.error_code or "ERROR"
                ) from None
        ready = []
        for item in items:
            payload = payloads[item.id]
            wait, lost, failed = None, None, None
            for ref in refs_by_item[item.id]:
                sf_id = resolver.find(ref) if ref.ext else None
                state = resolver.outbox_state.get(ref.ext)
                if sf_id:
                    payload.pop(ref.key, None)
                    payload[ref.field] = sf_id
                elif state == "failed":
                    failed = (ref, resolver.failed_msg.get(ref.ext, ""))
                elif state == "waiting":
                    wait = ref
                elif ref.polymorphic:
                    lost = ref
                # else: a parent Salesforce has and the mirror does not; Salesforce resolves it.
            if failed:
                ref, msg = failed
                self._fail(
                    [item],
                    "PARENT_FAILED",
                    f"{ref.field}: the parent {'/'.join(ref.types)} {ref.ext} could not be "
                    f"written to Salesforce ({msg}). Fix and retry the parent, then this row.",
                )
            elif wait:
                self._defer(item, wait, now=now)
            elif lost:
                self._retry(
                    [item],
                    "PARENT_NOT_PUSHED",
                    f"{lost.field}: {'/'.join(lost.types)} {lost.ext} is neither in Salesforce "
                    "nor waiting in the outbox",
                    now=now,
                )
            else:
                item.resolved_payload = payload
                ready.append(item)
        return ready

    # -- outcomes ---------------------------------------------------------------------------------
    def _sent(self, done, *, now) -> None:
        """Mark the sent rows and write the Salesforce Ids back: a few queries per batch (one
        UPDATE of the outbox rows, the Ids joined from a VALUES list)."""
        items = []
        for group, sf_id in done:
            for item in group.items:
                if sf_id:
                    item.sf_id = sf_id
                items.append(item)
        if not items:
            return
        shared = {
            "state": OutboxItem.State.SENT,
            "sent_at": now,
            "claimed_by": "",
            "claimed_at": None,
            "next_attempt_at": None,
            "error_code": "",
            "last_error": "",
        }
        for item in items:
            for name, value in shared.items():
                setattr(item, name, value)
        with transaction.atomic():
            # One statement: each row's Salesforce Id, and what every sent row shares.
            rows_update_values(
                model=OutboxItem, fields=["sf_id"], rows=[(i.id, i.sf_id) for i in items],
                shared=shared,
            )  # fmt: skip
            _write_back_many(
                [i for i in items if i.sf_id and i.operation == OutboxItem.Operation.UPSERT]
            )
        for group, _ in done:
            self.result.pushed += len(group.items)
            self.log.add(group.sobject, "pushed", len(group.items))

    def _retry(self, items, code, message, *, now) -> None:
        # One UPDATE per attempt count (a failed call's rows mostly share one), not per row.
        by_attempts = defaultdict(list)
        for item in items:
            attempts = item.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                self._fail([item], code, f"gave up after {attempts} attempts: {message}")
                continue
            by_attempts[attempts].append(item)
        for attempts, waiting in by_attempts.items():
            delay = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** (attempts - 1)))
            OutboxItem.objects.filter(id__in=[i.id for i in waiting]).update(
                state=OutboxItem.State.PENDING,
                attempts=attempts,
                next_attempt_at=now + delay,
                claimed_by="",
                claimed_at=None,
                error_code=(code or "")[:60],
                last_error=message,
            )
            for item in waiting:
                self.result.retrying += 1
                self.log.add(item.sobject, "retrying")

    def _defer(self, item, ref: Ref, *, now) -> None:
        OutboxItem.objects.filter(id=item.id).update(
            state=OutboxItem.State.PENDING,
            next_attempt_at=now + DEFER_PARENT,
            claimed_by="",
            claimed_at=None,
            error_code="WAITING_FOR_PARENT",
            last_error=f"{ref.field}: waiting for {'/'.join(ref.types)} {ref.ext} to be written "
            "to Salesforce first",
        )
        self.result.deferred += 1

    def _fail(self, items, code, message) -> None:
        for item in items:
            OutboxItem.objects.filter(id=item.id).update(
                state=OutboxItem.State.FAILED,
                attempts=item.attempts + 1,
                claimed_by="",
                claimed_at=None,
                next_attempt_at=None,
                error_code=(code or "")[:60],
                last_error=message,
            )
            self.result.failed += 1
            self.log.add(item.sobject, "failed")
            self.log.error(
                direction="push",
                sobject=item.sobject,
                record=item.crmbridge_id or item.sf_id,
                code=code,
                message=message,
                item=item,
            )


@dataclass
class _Group:
    sobject: str
    operation: str
    items: list
    record: dict


def _coalesce(items, operation) -> list[_Group]:
    """One record per target: several rows for the same record are merged, later wins."""
    groups: dict[str, _Group] = {}
    for item in items:
        payload = getattr(item, "resolved_payload", item.payload) or {}
        if operation == OutboxItem.Operation.UPSERT:
            key = item.crmbridge_id
            record = {k: v for k, v in payload.items() if k != EXTERNAL_ID}
            record[EXTERNAL_ID] = item.crmbridge_id
        else:
            key = item.sf_id
            record = {k: v for k, v in payload.items() if k != "Id"}
            record["Id"] = item.sf_id
        if key in groups:
            groups[key].items.append(item)
            groups[key].record.update(record)
        else:
            groups[key] = _Group(item.sobject, operation, [item], record)
    return list(groups.values())


def _drop_create_only(items, errors) -> bool:
    """An upsert sent again after its answer was lost is an update, and Salesforce refuses the
    fields that can only be set on create (the payload lists them as "$create_only", see
    integrations.outbox.payloads). Drop them from the stored payloads so the next attempt updates
    the record (and learns its Id). True when that is what happened."""
    bad = "INVALID_FIELD_FOR_INSERT_UPDATE"
    fields = {f for e in errors for f in (e.get("fields") or [])}
    if not fields or any(e.get("statusCode") != bad for e in errors):
        return False
    if not all(fields <= set((i.payload or {}).get(CREATE_ONLY_KEY) or ()) for i in items):
        return False
    for item in items:
        item.payload = {
            k: v
            for k, v in item.payload.items()
            if k != CREATE_ONLY_KEY and k not in fields and f"{k}Id" not in fields
        }
        OutboxItem.objects.filter(id=item.id).update(payload=item.payload)
    return True


def _parent_missing(code: str, message: str) -> bool:
    """Salesforce could not find a parent named by external id: it may not be there yet."""
    return code == "INVALID_FIELD" and "Foreign key external ID" in (message or "")


def _write_back_target(item):
    """(model, pk or None) of the mirror row that receives the item's Salesforce Id."""
    if item.local_ref and ":" in item.local_ref:
        label, pk = item.local_ref.split(":", 1)
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            log.warning("outbox %s: unknown local_ref %s", item.id, item.local_ref)
            return None, None
    elif item.sobject in MIRROR_MODELS and item.crmbridge_id:
        model, pk = apps.get_model(MIRROR_MODELS[item.sobject]), None
    else:
        return None, None
    if not any(f.name == "sf_id" for f in model._meta.concrete_fields):
        return None, None
    return model, pk


def _write_back_many(items) -> None:
    """Set the Salesforce Id on the mirror rows the outbox rows name (`app_label.model:pk`), or
    on the mirror row with the same crmbridge id. A few queries per model, not per row."""
    by_model = defaultdict(dict)
    by_ext = defaultdict(dict)
    for item in items:
        model, pk = _write_back_target(item)
        if model is None:
            continue
        if pk is None:
            by_ext[model][item.crmbridge_id] = item.sf_id
        else:
            by_model[model][str(pk)] = item.sf_id
    for model, exts in by_ext.items():
        for pk, ext in model.objects.filter(crmbridge_id__in=list(exts)).values_list(
            "pk", "crmbridge_id"
        ):
            by_model[model].setdefault(str(pk), exts[ext])
    for model, ids in by_model.items():
        changed = []
        for row in model.objects.filter(pk__in=list(ids)).only("pk", "sf_id"):
            wanted = ids[str(row.pk)]
            if row.sf_id != wanted:
                row.sf_id = wanted
                changed.append(row)
        if not changed:
            continue
        try:
            with transaction.atomic():
                rows_update_values(
                    model=model, fields=["sf_id"], rows=[(r.pk, r.sf_id) for r in changed]
                )
        except IntegrityError:
            # Another mirror row already holds one of these Ids (a pull got there first).
            for row in changed:
                try:
                    with transaction.atomic():
                        model.objects.filter(pk=row.pk).update(sf_id=row.sf_id)
                except IntegrityError:
                    log.warning("%s %s is mirrored by another row", model.__name__, row.sf_id)


# -- entry point ---------------------------------------------------------------------------------
def outbox_push(
    *, client=None, runlog: RunLog | None = None, max_batches=None, now=None, refresh_usage=True
):
    """Push every due outbox row (or `max_batches` batches). Returns a PushResult; a push
    stopped by the API budget says why in `stopped`."""
    if client is None:
        client = get_client()
    return Pusher(client=client, runlog=runlog).push(
        max_batches=max_batches, now=now, refresh_usage=refresh_usage
    )
