"""The pull: what changed in Salesforce since the last successful watermark, into the mirror.

Per object (Users, Accounts, Contacts, Leads, Opportunities, contact roles, in that order so
parents are there before children), one ``queryAll`` ordered by SystemModstamp from the
watermark less an overlap window: changed records and deleted ones in the same pages (deleted
records carry ``IsDeleted = true``). A record whose SystemModstamp the mirror already has is
skipped, so the overlap never counts or applies anything twice. After a page is applied the
watermark moves to the highest SystemModstamp seen: a run stopped by the API budget resumes
where it stopped.

Then what depends on the changes: Accounts' domains are rebuilt and unmatched activity on new
domains re-matched; a changed Contact title is classified again (when classification is on).

A first pull of an object (no watermark yet, or a full pull) whose first page counts at least
``SYNC_BULK_THRESHOLD`` records reads it with one Bulk API 2.0 query job instead: ``queryAll``
of the same fields, its CSV results in sets of ``BULK_MAX_RECORDS``, applied in pages; the
watermark moves once, at the end, because a job's results come in no SystemModstamp order (a
pull stopped half way starts that object over, skipping what the mirror already has). The next
set downloads while the last one is written. Into an empty mirror table on PostgreSQL (and no
crmbridge change of that object waiting in the outbox) each set is COPYed as CSV into a scratch
table and converted, joined to its parents and snapshotted by one INSERT ... SELECT, a
transaction per set: no table is locked, so pages and ingestion keep reading the mirror (an
earlier version dropped the indexes and foreign keys meanwhile: 50% faster, but that locks the
table and the tables it references, Accounts and auth's users, against every reader).

Conflicts: a record changed in Salesforce while crmbridge's own change of it still waits in the
outbox. Salesforce wins (its value goes into the mirror and leaves the waiting payload), except
the fields crmbridge owns (Department and Seniority when classification is on). Every conflict
is recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from contextlib import closing

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.domain_services import account_domains_refresh_many
from accounts.signals import account_domains_added, contacts_retitled, owned_fields_requested
from crmbridge.bulk import (
    csv_copy_scratch,
    field_defaults,
    insert_fields,
    rows_insert,
)
from integrations.outbox.models import OutboxItem
from integrations.salesforce import BudgetExceeded, LimitExceeded
from integrations.salesforce.bulk import bulk_calls_needed, bulk_csv_records
from integrations.salesforce.objects import (
    EXTERNAL_ID,
    MIRROR_MODELS,
    MIRRORED,
    WRITTEN_MIRRORED,
    SObject,
)

from .models import Conflict, PulledValues, SyncSettings, Watermark
from .runlog import RunLog

log = logging.getLogger(__name__)

OVERLAP = dt.timedelta(minutes=5)
PAGE_SIZE = 2000
BULK_APPLY_SIZE = 5000  # records a Bulk API pull applies in one transaction


def _plain(value):
    return value if value is None or isinstance(value, bool) else str(value)


class PullStopped(Exception):  # noqa: N818 - a signal to stop, with the reason
    def __init__(self, reason: str, code: str):
        super().__init__(reason)
        self.reason = reason
        self.code = code


def _dt(value):
    return parse_datetime(value.replace("+0000", "+00:00")) if value else None


def _converter(model_field):
    """A Salesforce value as the mirror field keeps it (chosen once per field, not per value)."""
    kind = model_field.get_internal_type()
    if kind == "DateField":
        return lambda value: parse_date(value) if value else None
    if kind == "BooleanField":
        return bool
    empty = None if model_field.null else ""
    max_length = model_field.max_length

    def text(value):
        if value is None:
            return empty
        value = str(value)
        return value[:max_length] if max_length else value

    return text


# Mirror field kinds whose conversion `_sql_value` spells in SQL.
_SQL_TEXT_KINDS = frozenset({"CharField", "EmailField", "URLField", "TextField"})


def _sql_value(model_field, column: str) -> str | None:
    """SQL for `_converter` of a CSV value (a text column, '' for null); None when the kind
    has no SQL form here."""
    kind = model_field.get_internal_type()
    value = f"NULLIF({column}, '')"
    if kind == "DateField":
        return f"CAST({value} AS date)"
    if kind == "BooleanField":
        return f"({column} = 'true')"
    if kind not in _SQL_TEXT_KINDS:
        return None
    if model_field.max_length:
        value = f"left({value}, {int(model_field.max_length)})"
    return value if model_field.null else f"coalesce({value}, '')"


class _CsvInsert:
    """PostgreSQL: a Bulk API set of results into an empty mirror table in two statements,
    COPY of the CSV into a scratch table, then one INSERT ... SELECT converting the values as
    `_apply` does for new records, references joined to the parents' mirror rows, and the
    pulled-value snapshots written from its RETURNING. For a mirror model whose fields all
    have an SQL form (`for_spec` gives None otherwise, and the records go through `_apply`)."""

    SCRATCH = "_pull_csv"

    def __init__(self, spec: SObject, model, sql_fields: dict):
        self.spec = spec
        self.model = model
        self.sql_fields = sql_fields  # mirror field name -> model field

    @classmethod
    def for_spec(cls, spec: SObject, model):
        if connection.vendor != "postgresql":
            return None
        fields = {name: model._meta.get_field(name) for name in spec.fields.values()}
        if any(_sql_value(f, "c") is None for f in fields.values()):
            return None
        return cls(spec, model, fields)

    def run(self, cursor, text: str):
        """Returns (highest SystemModstamp of the set, [(primary key, has a title)] of the
        rows created in key order, [Salesforce Ids] skipped for a missing required parent)."""
        # Room for the INSERT's RETURNING rows and their sort in memory, for this transaction.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        header = csv_copy_scratch(cursor, name=self.SCRATCH, text=text)
        self._id_column = f"c{header.index('Id')}"
        qn = connection.ops.quote_name
        position = {name: i for i, name in enumerate(header)}

        def col(sf_field):  # a field the set lacks reads as None does in `_apply`
            return f"s.c{position[sf_field]}" if sf_field in position else "''"

        cursor.execute(
            f"SELECT max({_sql_datetime(col('SystemModstamp'))}) FROM {qn(self.SCRATCH)} s"  # noqa: S608
        )
        top = cursor.fetchone()[0]
        joins, parent_of = [], {}
        for i, (sf_field, (name, target)) in enumerate(self.spec.refs.items()):
            parent = apps.get_model(MIRROR_MODELS[target])._meta
            joins.append(
                f" LEFT JOIN {qn(parent.db_table)} p{i} "
                f"ON p{i}.{qn('sf_id')} = NULLIF({col(sf_field)}, '')"
            )
            parent_of[name] = f"p{i}.{qn(parent.pk.column)}"
        source = f"FROM {qn(self.SCRATCH)} s{''.join(joins)} WHERE {col('IsDeleted')} <> 'true'"
        missing = " OR ".join(f"{parent_of[n]} IS NULL" for n in self.spec.required_refs)
        skipped = []
        if missing:
            cursor.execute(f"SELECT {col('Id')} {source} AND ({missing})")  # noqa: S608
            skipped = [row[0] for row in cursor.fetchall()]
            source += f" AND NOT ({missing})"
        ext = col(EXTERNAL_ID)
        given = {
            "sf_id": col("Id"),
            "sf_modstamp": _sql_datetime(col("SystemModstamp")),
            "sf_created_at": _sql_datetime(col("CreatedDate")),
            "is_deleted": "false",
            "crmbridge_id": f"CASE WHEN length({ext}) BETWEEN 1 AND 32 THEN {ext} END",
            **{n + "_id": parent_of[n] for n in parent_of},
        }
        for sf_field, name in self.spec.fields.items():
            given[name] = _sql_value(self.sql_fields[name], col(sf_field))
        fields = insert_fields(self.model)
        defaults = field_defaults(fields)
        exprs, params = [], []
        for f in fields:
            if f.attname in given:
                exprs.append(given[f.attname])
            else:  # as rows_insert fills it
                exprs.append("%s")
                params.append(f.get_db_prep_save(defaults[f.attname], connection))
        table = qn(self.model._meta.db_table)
        columns = ", ".join(qn(f.column) for f in fields)
        contact = self.spec.sobject == "Contact"
        snapshotted = self.spec.sobject in WRITTEN_MIRRORED
        returning = {self.model._meta.pk.column, "sf_id", *(("title",) if contact else ())}
        if snapshotted:
            returning.update(self.sql_fields[n].column for n in self.spec.fields.values())
        sql = (
            f"WITH ins AS (INSERT INTO {table} ({columns}) SELECT {', '.join(exprs)} {source} "
            f"RETURNING {', '.join(qn(c) for c in sorted(returning))})"
        )
        if snapshotted:
            pulled = PulledValues._meta
            snapshot = ", ".join(
                f"'{name}', ins.{qn(self.sql_fields[name].column)}"
                for name in self.spec.fields.values()
            )
            sql += (
                f", snap AS (INSERT INTO {qn(pulled.db_table)} (sobject, sf_id, {qn('values')}) "  # noqa: S608
                f"SELECT %s, ins.sf_id, jsonb_build_object({snapshot}) FROM ins "
                f"ON CONFLICT (sf_id) DO UPDATE SET {qn('values')} = excluded.{qn('values')})"
            )
            params.append(self.spec.sobject)
        titled = "ins.title <> ''" if contact else "false"
        # Table and column names come from the models, quoted; values are parameters or COPY data.
        pk = qn(self.model._meta.pk.column)
        cursor.execute(f"{sql} SELECT ins.{pk}, {titled} FROM ins ORDER BY 1", params)  # noqa: S608
        return top, cursor.fetchall(), skipped

    def ids_sql(self) -> str:
        """SQL for the Salesforce Ids of the set `run` loaded last (until commit)."""
        return f"SELECT {self._id_column} FROM {connection.ops.quote_name(self.SCRATCH)}"  # noqa: S608


def _sql_datetime(column: str) -> str:
    return f"CAST(NULLIF({column}, '') AS timestamptz)"


def _read_ahead(iterator):
    """`iterator`'s items, the next one read in a thread while the caller works on this one
    (a set of results downloads while the last one is written). Exceptions arrive in order."""
    ready = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def fill():
        try:
            for item in iterator:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            put((False, exc))
        finally:
            iterator.close()
            connections.close_all()  # this thread's own, if the client wrote any

    thread = threading.Thread(target=fill, name="bulk-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            more, value = ready.get()
            if not more:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        stop.set()
        thread.join()


class Puller:
    def __init__(self, *, client, runlog: RunLog, full: bool = False, run=None):
        self.client = client
        self.log = runlog
        self.full = full
        self.run = run
        self.settings = SyncSettings.load()
        # (sobject, Salesforce field) that crmbridge's own value wins in a conflict.
        self.owned = {
            pair for _, pairs in owned_fields_requested.send(sender=Puller) for pair in pairs or ()
        }
        self.rematch_domains: set[str] = set()
        self._parent_pks: dict[str, dict] = {}

    # -- per object -------------------------------------------------------------------------------
    def pull(self, sobjects=None) -> None:
        for spec in MIRRORED:
            if sobjects and spec.sobject not in sobjects:
                continue
            self.pull_object(spec)
        self._rematch()

    def pull_object(self, spec: SObject) -> None:
        self._parent_pks = {}  # parents were pulled before: found once, they stay
        mark, _ = Watermark.objects.get_or_create(sobject=spec.sobject)
        first = self.full or mark.modstamp is None
        soql = "SELECT {fields:literal} FROM {sobject:literal}"
        params = {"fields": ", ".join(spec.soql_fields), "sobject": spec.sobject}
        if not first:
            soql += " WHERE SystemModstamp >= {since}"
            params["since"] = mark.modstamp - OVERLAP
        soql += " ORDER BY SystemModstamp"
        self._budget(1)
        pages = self.client.query_pages(soql, batch_size=PAGE_SIZE, include_deleted=True, **params)
        highest = mark.modstamp
        for page in pages:
            if first and page["totalSize"] >= settings.SYNC_BULK_THRESHOLD:
                pages.close()  # a large first pull: the rest comes from a query job
                self._pull_bulk(spec, mark, page["totalSize"])
                return
            first = False
            if page["records"]:
                highest = self._apply_page(spec, page["records"], mark, highest)
            if not page.get("done", True):
                self._budget(1)  # the next page
        self.log.flush(progress=f"pulled {spec.sobject}")

    def _pull_bulk(self, spec: SObject, mark, count: int) -> None:
        self._budget(bulk_calls_needed(count))
        pages = _read_ahead(
            self.client.bulk_query_pages(
                spec.sobject,
                "SELECT {fields:literal} FROM {sobject:literal}",
                include_deleted=True,
                fields=", ".join(spec.soql_fields),
                sobject=spec.sobject,
            )
        )
        model = apps.get_model(spec.model)
        booleans = {"IsDeleted"} | {
            sf_field
            for sf_field, name in spec.fields.items()
            if model._meta.get_field(name).get_internal_type() == "BooleanField"
        }
        # An empty mirror has nothing to match: a job gives each record once.
        fresh = not model.objects.exists()
        copy = _CsvInsert.for_spec(spec, model) if fresh else None
        highest = mark.modstamp
        with closing(pages):  # stops the read-ahead if this fails
            for text in pages:
                if copy is not None and not self._unsent(spec).exists():
                    # Nothing to match, nothing waiting to conflict with: the server converts.
                    highest = self._apply_csv(spec, copy, text, highest)
                    continue
                page = []
                for record in bulk_csv_records(text):
                    for name in booleans:
                        record[name] = record.get(name) == "true"
                    page.append(record)
                    if len(page) == BULK_APPLY_SIZE:
                        highest = self._apply_page(
                            spec, page, mark, highest, bulk=True, fresh=fresh
                        )
                        page = []
                if page:
                    highest = self._apply_page(spec, page, mark, highest, bulk=True, fresh=fresh)
        if highest is not None and highest != mark.modstamp:
            Watermark.objects.filter(pk=mark.pk).update(modstamp=highest)
            mark.modstamp = highest
        self.log.flush(progress=f"pulled {spec.sobject}")

    def _apply_csv(self, spec: SObject, copy: _CsvInsert, text: str, highest):
        """One set of a job's results into an empty mirror, by COPY and one INSERT ... SELECT
        (what `_apply` does for records new to the mirror, in SQL)."""
        model = apps.get_model(spec.model)
        with transaction.atomic(), connection.cursor() as cursor:
            top, created, skipped = copy.run(cursor, text)
            for sf_id in skipped:
                self._parent_missing(spec, sf_id)
            self.log.add(spec.sobject, "pulled", len(created))
            # The rows of a chunk: those of this set (its Ids are in the scratch table) in the
            # chunk's range of new primary keys; no list of thousands of Ids to prepare.
            of_set = RawSQL(copy.ids_sql(), ())  # noqa: S611 - names from the model
            for start in range(0, len(created), BULK_APPLY_SIZE):
                chunk = created[start : start + BULK_APPLY_SIZE]
                self._followups(
                    spec,
                    model.objects.filter(pk__range=(chunk[0][0], chunk[-1][0]), sf_id__in=of_set),
                    created=True,
                    titled=any(titled for _, titled in chunk),
                )
        self._progress(spec)
        return top if top and (highest is None or top > highest) else highest

    def _progress(self, spec) -> None:
        self.log.flush(
            progress=f"pulling {spec.sobject}: {self.log.get(spec.sobject, 'pulled')} changed"
        )

    def _budget(self, calls):
        try:
            self.client.ensure_budget(calls)
        except (BudgetExceeded, LimitExceeded) as exc:
            raise PullStopped(str(exc), exc.error_code or "BUDGET_EXCEEDED") from None

    def _apply_page(self, spec, records, mark, highest, *, bulk=False, fresh=False):
        with transaction.atomic():
            top = self._apply(spec, records, fresh=fresh)
            if top and (highest is None or top > highest):
                highest = top
                if not bulk:  # a job's results come in no SystemModstamp order
                    Watermark.objects.filter(pk=mark.pk).update(modstamp=highest)
                    mark.modstamp = highest
        self._progress(spec)
        return highest

    # -- applying one page ------------------------------------------------------------------------
    def _apply(self, spec: SObject, records: list[dict], *, fresh=False):
        """Apply one page; returns its highest SystemModstamp. `fresh`: the mirror of this
        object was empty and these records are new to it (a Bulk API pull into an empty
        mirror)."""
        model = apps.get_model(spec.model)
        mfields = {f.name: f for f in model._meta.concrete_fields}
        converters = [(sf, name, _converter(mfields[name])) for sf, name in spec.fields.items()]
        ids = [r["Id"] for r in records]
        exts = [r[EXTERNAL_ID] for r in records if r.get(EXTERNAL_ID)]
        existing = {} if fresh else {o.sf_id: o for o in model.objects.filter(sf_id__in=ids)}
        by_ext = {}
        if exts and not fresh:
            by_ext = {
                o.crmbridge_id: o
                for o in model.objects.filter(crmbridge_id__in=exts, sf_id__isnull=True)
            }
        parents = self._parents(spec, records)
        waiting = self._waiting_outbox(spec, ids, exts)
        bases = {}
        if waiting:
            bases = dict(
                PulledValues.objects.filter(sf_id__in=list(waiting)).values_list("sf_id", "values")
            )
        snapshots = []
        to_create, to_update, to_delete, retitled = [], [], [], []
        changes = {}  # pk -> {field: value} for rows that exist
        top = None
        for r in records:
            obj = existing.get(r["Id"])
            if obj is None and r.get(EXTERNAL_ID) in by_ext:
                obj = by_ext.pop(r[EXTERNAL_ID])
                obj.sf_id = r["Id"]
                changes.setdefault(obj.pk, {})["sf_id"] = obj.sf_id
            modstamp = _dt(r["SystemModstamp"])
            if modstamp and (top is None or modstamp > top):
                top = modstamp
            if r.get("IsDeleted"):
                if obj is None or (obj.is_deleted and obj.sf_modstamp == modstamp):
                    continue
                if self.settings.on_salesforce_delete == SyncSettings.OnSalesforceDelete.DELETE:
                    to_delete.append(obj.pk)
                else:
                    obj.is_deleted, obj.sf_modstamp = True, modstamp
                    changes.setdefault(obj.pk, {}).update(is_deleted=True, sf_modstamp=modstamp)
                    to_update.append(obj)
                self.log.add(spec.sobject, "deleted")
                continue
            if obj is not None and obj.sf_modstamp == modstamp and not obj.is_deleted:
                continue  # already have this version (overlap window, or a re-run)
            if any(i.operation == OutboxItem.Operation.DELETE for i in waiting.get(r["Id"], ())):
                continue  # crmbridge is deleting it: the push will, do not bring it back
            new = obj is None
            before = {name: getattr(obj, name) for name in spec.fields.values()} if not new else {}
            values = {}
            for sf_field, name, convert in converters:
                values[name] = convert(r.get(sf_field))
            for sf_field, (name, target) in spec.refs.items():
                values[name + "_id"] = parents.get(target, {}).get(r.get(sf_field))
            if any(values[n + "_id"] is None for n in spec.required_refs):
                self._parent_missing(spec, r["Id"])
                continue
            if spec.sobject in WRITTEN_MIRRORED:
                snapshots.append(
                    {
                        "sobject": spec.sobject,
                        "sf_id": r["Id"],
                        "values": {n: _plain(values[n]) for n in spec.fields.values()},
                    }
                )
            if new:  # a plain row: no model instance for the thousands a first pull brings
                ext = r.get(EXTERNAL_ID)
                to_create.append(
                    {
                        "sf_id": r["Id"],
                        **values,
                        "sf_modstamp": modstamp,
                        "sf_created_at": _dt(r.get("CreatedDate")),
                        "is_deleted": False,
                        **({"crmbridge_id": ext} if ext and len(ext) <= 32 else {}),
                    }
                )
                self.log.add(spec.sobject, "pulled")
                continue
            if r["Id"] in waiting:
                values = self._conflicts(
                    spec, obj, r, before, values, waiting[r["Id"]], bases.get(r["Id"])
                )
            for name, value in values.items():
                setattr(obj, name, value)
            obj.sf_modstamp = modstamp
            obj.sf_created_at = _dt(r.get("CreatedDate"))
            obj.is_deleted = False
            ext = r.get(EXTERNAL_ID)
            if ext and not obj.crmbridge_id and len(ext) <= 32:
                obj.crmbridge_id = ext
            row_changes = changes.setdefault(obj.pk, {})
            row_changes.update(values)
            for name in ("sf_modstamp", "sf_created_at", "is_deleted", "crmbridge_id"):
                row_changes[name] = getattr(obj, name)
            to_update.append(obj)
            if spec.sobject == "Contact" and before.get("title") != obj.title:
                retitled.append(obj)
            self.log.add(spec.sobject, "pulled")
        if to_delete:
            model.objects.filter(pk__in=to_delete).delete()  # Salesforce deleted them first
        rows_insert(model=model, rows=to_create)
        if changes:
            # One plain UPDATE per changed row: far cheaper than bulk_update's CASE per field.
            stamp = timezone.now()
            for pk, row_changes in changes.items():
                model.objects.filter(pk=pk).update(**row_changes, local_modified_at=stamp)
        rows_insert(model=PulledValues, rows=snapshots, conflict=("sf_id",), update=("values",))
        self._followups(
            spec,
            model.objects.filter(sf_id__in=[row["sf_id"] for row in to_create]),
            created=bool(to_create),
            titled=spec.sobject == "Contact" and any(row["title"] for row in to_create),
            updated=to_update,
            retitled=retitled,
        )
        return top

    def _parent_missing(self, spec, sf_id) -> None:
        self.log.add(spec.sobject, "skipped")
        self.log.error(
            direction="pull",
            sobject=spec.sobject,
            record=sf_id,
            code="PARENT_NOT_MIRRORED",
            message="its parent record is not in the mirror",
        )

    def _followups(self, spec, rows, *, created, titled, updated=(), retitled=()) -> None:
        """What depends on the rows a page created (`rows`, a QuerySet read only when needed;
        `created`: there are some; `titled`: some have a title) and updated (instances;
        `retitled`: Contacts whose title changed)."""
        if spec.sobject == "User" and (created or updated):
            self._link_users([*rows, *updated])
        if spec.sobject == "Account" and (created or updated):
            self._refresh_domains([*rows, *updated])
        if spec.sobject == "Contact":
            if retitled:
                self._reclassify(retitled)
            if titled:
                # read only if a listener classifies them (classification may well be off)
                self._reclassify(rows.exclude(title=""))

    def _parents(self, spec, records) -> dict:
        """sobject -> {sf_id: mirror pk} for the references on this page (one query each, for
        the ones earlier pages of this object did not find already)."""
        out = self._parent_pks
        for sf_field, (_, target) in spec.refs.items():
            known = out.setdefault(target, {})
            wanted = {r.get(sf_field) for r in records if r.get(sf_field)} - known.keys()
            if wanted:
                model = apps.get_model(MIRROR_MODELS[target])
                known.update(model.objects.filter(sf_id__in=wanted).values_list("sf_id", "pk"))
        return out

    def _unsent(self, spec):
        return OutboxItem.objects.filter(sobject=spec.sobject).exclude(state=OutboxItem.State.SENT)

    def _waiting_outbox(self, spec, ids, exts) -> dict:
        """Salesforce Id -> unsent outbox rows of this object (crmbridge changes not pushed)."""
        unsent = self._unsent(spec)
        if not unsent.exists():  # the usual case: cheaper than matching thousands of ids
            return {}
        q = Q(sf_id__in=ids)
        if exts:
            q |= Q(crmbridge_id__in=exts)
        rows = unsent.filter(q)
        if not rows:
            return {}
        mirror_ids = dict(
            apps.get_model(spec.model)
            .objects.filter(crmbridge_id__in=exts)
            .values_list("crmbridge_id", "sf_id")
        )
        out = {}
        for item in rows:
            sf_id = item.sf_id or mirror_ids.get(item.crmbridge_id)
            if sf_id:
                out.setdefault(sf_id, []).append(item)
        return out

    def _conflicts(self, spec, obj, record, before, values, items, base) -> dict:
        """Fields changed here (waiting in the outbox) and in Salesforce (differs from what it
        gave last time, `base`): decide, record."""
        for sf_field, name in spec.fields.items():
            local_items = [i for i in items if sf_field in (i.payload or {})]
            if not local_items:
                continue
            theirs = values[name]
            ours = before.get(name)
            if theirs == ours:
                continue
            if base is not None and name in base and base[name] == _plain(theirs):
                # Salesforce did not change this field: our change goes out as queued.
                values[name] = ours
                continue
            owned = (spec.sobject, sf_field) in self.owned
            winner = Conflict.Winner.CRMBRIDGE if owned else Conflict.Winner.SALESFORCE
            Conflict.objects.create(
                run=self.run,
                sobject=spec.sobject,
                sf_id=record["Id"],
                field=sf_field,
                local_value=None if ours is None else str(ours),
                salesforce_value=None if theirs is None else str(theirs),
                winner=winner,
            )
            self.log.add(spec.sobject, "conflicts")
            if winner == Conflict.Winner.CRMBRIDGE:
                values[name] = ours  # the outbox still carries our value to Salesforce
                continue
            for item in local_items:
                payload = {k: v for k, v in item.payload.items() if k != sf_field}
                item.payload = payload
                changes = {"payload": payload}
                if not payload and item.operation == OutboxItem.Operation.UPDATE:
                    changes.update(
                        state=OutboxItem.State.SENT,
                        error_code="SUPERSEDED",
                        last_error="Nothing left to send: Salesforce's newer values won.",
                    )
                OutboxItem.objects.filter(pk=item.pk).update(**changes)
        return values

    # -- what depends on the changes --------------------------------------------------------------
    def _link_users(self, sf_users) -> None:
        """Link each Salesforce User to the crmbridge user with the same e-mail."""
        emails = {u.email.lower() for u in sf_users if u.email and u.user_id is None}
        if not emails:
            return
        User = get_user_model()
        by_email = {}
        for user in User.objects.annotate(e=Lower("email")).filter(e__in=emails, is_active=True):
            by_email.setdefault(user.e, user)
        taken = set(
            apps.get_model("accounts.SalesforceUser")
            .objects.filter(user__in=by_email.values())
            .values_list("user_id", flat=True)
        )
        for sf_user in sf_users:
            user = by_email.get((sf_user.email or "").lower())
            if user is not None and sf_user.user_id is None and user.pk not in taken:
                type(sf_user).objects.filter(pk=sf_user.pk).update(user=user)
                taken.add(user.pk)

    def _refresh_domains(self, accounts) -> None:
        saved = [a for a in accounts if a.pk]
        gained = account_domains_refresh_many(accounts=saved)
        for domains in gained.values():
            self.rematch_domains.update(domains)

    def _rematch(self) -> None:
        if not self.rematch_domains:
            return
        answers = account_domains_added.send(sender=Puller, domains=sorted(self.rematch_domains))
        self.log.add("Activity", "rematched", sum(n or 0 for _, n in answers))
        self.rematch_domains = set()

    def _reclassify(self, contacts) -> None:
        """Tell who classifies titles; `contacts` may be a QuerySet, read only if needed."""
        answers = contacts_retitled.send(sender=Puller, contacts=contacts)
        changed = sum(n or 0 for _, n in answers)
        if changed:
            self.log.add("Contact", "reclassified", changed)


def mirror_refresh(*, client, records: dict) -> RunLog:
    """Read these records ({sobject: [Salesforce Ids]}) from Salesforce into the mirror, as a
    pull would, parents first; the watermarks stay where they are."""
    runlog = RunLog(None, None)
    puller = Puller(client=client, runlog=runlog)
    for spec in MIRRORED:
        ids = sorted(set(records.get(spec.sobject) or ()))
        if not ids:
            continue
        rows = client.query_all(
            "SELECT {fields:literal} FROM {sobject:literal} WHERE Id IN {ids}",
            fields=", ".join(spec.soql_fields),
            sobject=spec.sobject,
            ids=ids,
        )
        if rows:
            with transaction.atomic():
                puller._apply(spec, rows)
    puller._rematch()
    return runlog


def mirror_pull(*, client, runlog: RunLog, full=False, run=None, sobjects=None) -> None:
    """Pull what changed (everything with `full`) into the mirror. Raises PullStopped when the
    API budget or the org's limit stops it; what was applied stays applied."""
    Puller(client=client, runlog=runlog, full=full, run=run).pull(sobjects)
