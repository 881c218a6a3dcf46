"""Writes of many rows without Django's per-object, per-field work.

``rows_update_values``: different values on many rows with one UPDATE joined to a VALUES list.
Django's ``bulk_update`` writes ``CASE WHEN pk = 1 THEN ... WHEN pk = 2 THEN ...`` once per
field; building and planning that costs more than the write itself for a few hundred rows.
A join against ``(VALUES (pk, value, ...), ...)`` is one short statement on PostgreSQL and on
SQLite (3.33+); columns of a VALUES list are named column1, column2, ... on both.

``rows_insert``: new rows given as dicts, without model instances (``bulk_create`` spends most
of its time building them and preparing each value field by field): COPY on PostgreSQL,
``executemany`` on SQLite, or an upsert (``ON CONFLICT ... DO UPDATE``) on both.

``objects_insert``: unsaved model instances, each given its pk as ``bulk_create`` does: on
PostgreSQL the ids come from the table's sequence in one query and the rows go by COPY (Django's
``bulk_create`` there quotes UNNEST arrays element by element in Python); on SQLite it is
``bulk_create``.

``instance_build``: an unsaved model instance from field values, as ``Model(**values)`` builds it,
for a fraction of the cost (for the thousands a batch builds).

``cycle_collection_paused``: no cyclic garbage collection while one batch runs.
"""

import csv
import datetime as dt
import gc
import io
import operator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import connections, router
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

CHUNK = 500
_COPY_PIECE = 1 << 20  # characters of CSV handed to COPY at a time


def rows_update_values(
    *, model, fields: list[str], rows: list[tuple], shared: dict | None = None
) -> int:
    """``rows`` holds ``(pk, value_of_fields[0], value_of_fields[1], ...)``; each row gets its
    own values, and every row the values of ``shared`` ({field name: value}) in the same
    statement. Returns how many rows were updated."""
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    meta = model._meta
    pk_field = meta.pk
    columns = [meta.get_field(name) for name in fields]
    same = [(meta.get_field(name), value) for name, value in (shared or {}).items()]
    assignments = ", ".join(
        [
            *(
                f"{qn(f.column)} = {_typed(f'v.column{i + 2}', f, connection)}"
                for i, f in enumerate(columns)
            ),
            *(f"{qn(f.column)} = %s" for f, _ in same),
        ]
    )
    shared_params = [f.get_db_prep_save(value, connection) for f, value in same]
    marks = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    table = qn(meta.db_table)
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params = list(shared_params)
            for pk, *values in chunk:
                params.append(pk_field.get_db_prep_value(pk, connection))
                params.extend(
                    f.get_db_prep_save(value, connection)
                    for f, value in zip(columns, values, strict=True)
                )
            value_rows = ", ".join([marks] * len(chunk))
            pk_column = f"{table}.{qn(pk_field.column)}"
            # Table and column names come from the model, quoted; every value is a parameter.
            sql = f"UPDATE {table} SET {assignments} FROM (VALUES {value_rows}) AS v WHERE "  # noqa: S608
            cursor.execute(
                f"{sql}{pk_column} = {_typed('v.column1', pk_field, connection)}", params
            )
            updated += cursor.rowcount
    return updated


def _typed(column: str, field, connection) -> str:
    """PostgreSQL types a VALUES column from its literals (text, integer): cast it to the
    field's type. SQLite keeps each value as given (a CAST would turn dates into numbers)."""
    if connection.vendor == "postgresql":
        return f"CAST({column} AS {field.db_type(connection)})"
    return column


# Fields whose Python values both drivers take as they are.
_PLAIN_TYPES = frozenset(
    {
        "CharField", "TextField", "EmailField", "URLField", "SlugField", "BooleanField",
        "IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
        "PositiveSmallIntegerField", "ForeignKey", "OneToOneField",
    }
)  # fmt: skip


def rows_insert(
    *, model, rows: list[dict], conflict: tuple[str, ...] = (), update: tuple[str, ...] = ()
) -> int:
    """Insert ``rows`` (dicts keyed by field attname, e.g. ``account_id``); a field a row leaves
    out gets its default (``auto_now``/``auto_now_add`` fields: now). With ``conflict`` (the
    unique fields) a row whose key exists updates the ``update`` fields instead, or, without
    ``update``, is left out (``bulk_create(ignore_conflicts=True)`` for that key). Returns how
    many rows were sent. Sends no signals, like ``bulk_create``."""
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    fields = insert_fields(model)
    defaults = field_defaults(fields)
    names = [f.attname for f in fields]
    pick = operator.itemgetter(*names) if len(names) > 1 else lambda d: (d[names[0]],)
    adapted = [(i, a) for i, f in enumerate(fields) if (a := _adapter(f, connection))]
    values = []
    for row in rows:
        value = pick({**defaults, **row})
        if adapted:
            value = list(value)
            for i, adapt in adapted:
                value[i] = adapt(value[i])
        values.append(value)
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(f.column) for f in fields)
    on_conflict = ""
    if conflict:
        meta = model._meta
        keys = ", ".join(qn(meta.get_field(n).column) for n in conflict)
        sets = ", ".join(
            f"{qn(meta.get_field(n).column)} = excluded.{qn(meta.get_field(n).column)}"
            for n in update
        )
        on_conflict = f" ON CONFLICT ({keys}) " + (
            f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
        )
    # Table and column names come from the model, quoted; every value is a parameter or COPY data.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            target = table
            if conflict:  # COPY cannot upsert: COPY into a scratch table, then one INSERT
                target = qn(f"_rows_insert_{model._meta.db_table}")
                cursor.execute(f"DROP TABLE IF EXISTS {target}")
                cursor.execute(
                    f"CREATE TEMP TABLE {target} AS SELECT {columns} FROM {table} WITH NO DATA"  # noqa: S608
                )
            _copy(connection, cursor, target, columns, values)
            if conflict:
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {target}{on_conflict}"  # noqa: S608
                )
                cursor.execute(f"DROP TABLE {target}")
            return len(values)
        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}){on_conflict}"  # noqa: S608
        cursor.executemany(sql, values)
    return len(values)


def insert_fields(model) -> list:
    """The concrete fields an INSERT names (all but an auto-incremented primary key)."""
    return [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and f.get_internal_type().endswith("AutoField"))
    ]


def field_defaults(fields) -> dict:
    """attname -> the value a row that leaves the field out gets (``auto_now``/``auto_now_add``
    fields: now)."""
    now = timezone.now()
    return {f.attname: now if _stamped(f) else f.get_default() for f in fields}


def _stamped(field) -> bool:
    """An ``auto_now``/``auto_now_add`` field: the insert sets it to now."""
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def csv_copy_scratch(cursor, *, name: str, text: str) -> list[str]:
    """PostgreSQL: COPY CSV `text` (a header line first) into a new temporary table `name`
    whose text columns c0, c1, ... follow the header; dropped at commit, so call it in a
    transaction. Returns the header. The parsing happens in the server, not row by row here.
    Values keep CSV's meaning: quoted or not, an empty value is '' (callers say which ''
    means NULL)."""
    header = next(csv.reader(io.StringIO(text[: text.find("\n") + 1 or None])), [])
    qn = cursor.db.ops.quote_name
    table = qn(name)
    columns = ", ".join(f"c{i} text" for i in range(len(header)))
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP")
    # FORCE_NOT_NULL: an unquoted empty value is '' as a quoted one is, never NULL.
    not_null = ", ".join(f"c{i}" for i in range(len(header)))
    with cursor.copy(
        f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true, FORCE_NOT_NULL ({not_null}))"
    ) as copy:
        for start in range(0, len(text), _COPY_PIECE):
            copy.write(text[start : start + _COPY_PIECE])
    return header


def _adapter(field, connection):
    kind = field.get_internal_type()
    if kind in _PLAIN_TYPES:
        return None
    if kind == "DateTimeField":
        if connection.vendor == "sqlite" and settings.USE_TZ:
            return _sqlite_datetime
        return connection.ops.adapt_datetimefield_value
    if kind == "DateField":
        return connection.ops.adapt_datefield_value
    return lambda value: field.get_db_prep_save(value, connection)


def _sqlite_datetime(value):
    """What Django's SQLite backend stores for a datetime (naive UTC, ISO with a space), without
    its per-value checks."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(" ")


def _copy(connection, cursor, table: str, columns: str, values) -> None:
    # Django wraps execute() only: a unique violation must still be an IntegrityError here.
    with (
        connection.wrap_database_errors,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in values:
            copy.write_row(row)


def objects_insert(objs: list) -> list:
    """Insert unsaved instances of one model; those without a pk get one (``bulk_create``'s
    contract: defaults as built, ``auto_now``/``auto_now_add`` set, related objects saved first
    give their pk to the foreign key, no signals). Returns ``objs``."""
    if not objs:
        return objs
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=CHUNK)
        return objs
    meta = model._meta
    pk_field = meta.pk
    fields = meta.concrete_fields
    now = timezone.now()
    stamped = [f for f in fields if _stamped(f)]
    related = [f for f in fields if f.is_relation]
    adapted = [(i, a) for i, f in enumerate(fields) if (a := _adapter(f, connection))]
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    columns = ", ".join(qn(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk_field.column, sum(obj.pk is None for obj in objs)],
        )
        ids = iter([row[0] for row in cursor.fetchall()])
        values = []
        for obj in objs:
            state = obj.__dict__
            if obj.pk is None:
                state[pk_field.attname] = next(ids)
            for f in related:
                if f.is_cached(obj) and (parent := f.get_cached_value(obj)) is not None:
                    if parent.pk is None:
                        raise ValueError(f"{f.name} of {obj!r} is not saved yet")
                    # Straight into __dict__: setattr would drop the cached parent.
                    state[f.attname] = parent.pk
            for f in stamped:
                state[f.attname] = now
            value = [state[f.attname] for f in fields]
            for i, adapt in adapted:
                value[i] = adapt(value[i])
            values.append(value)
        _copy(connection, cursor, table, columns, values)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


@dataclass(frozen=True)
class _BuildPlan:
    attnames: tuple  # the concrete fields' attnames, in the constructor's positional order
    columns: frozenset  # the same, to look names up
    defaults: dict  # attname -> default (None without one), but for callable defaults
    made_defaults: tuple  # fields whose default is a callable: called for each new instance
    relations: dict  # foreign key name -> field
    plain_init: bool  # the model runs Model.__init__ itself (no override)


@cache
def _build_plan(model) -> _BuildPlan:
    fields = model._meta.concrete_fields
    made = tuple(f for f in fields if f.has_default() and callable(f.default))
    return _BuildPlan(
        attnames=tuple(f.attname for f in fields),
        columns=frozenset(f.attname for f in fields),
        defaults={f.attname: f.get_default() for f in fields if f not in made},
        made_defaults=made,
        relations={f.name: f for f in fields if f.is_relation},
        plain_init=model.__init__ is Model.__init__,
    )


def instance_build(model, values: dict):
    """An unsaved instance of `model` with `values` ({field name or attname: value}; a foreign
    key by its name takes an instance or None); the other fields get their defaults. The same
    instance ``model(**values)`` builds (the same checks of a related instance, its database,
    pre_init/post_init receivers), for a fraction of its cost: each column is set once, and
    related instances are cached as the foreign key descriptors cache them."""
    plan = _build_plan(model)
    row = dict(plan.defaults)
    related = []
    for name, value in values.items():
        if (fk := plan.relations.get(name)) is not None:
            if value is not None:
                target = fk.remote_field.model._meta.concrete_model
                if not isinstance(value, target):
                    raise ValueError(  # the constructor's words
                        f'Cannot assign "{value!r}": "{model.__name__}.{name}" must be a '
                        f'"{target._meta.object_name}" instance.'
                    )
            related.append((fk, value))
            row[fk.attname] = None if value is None else getattr(value, fk.target_field.attname)
        elif name in plan.columns:
            row[name] = value
        else:
            raise TypeError(f"{model.__name__} has no field {name!r}")
    for f in plan.made_defaults:
        if f.attname not in row:
            row[f.attname] = f.get_default()
    if not plan.plain_init or pre_init.has_listeners(model) or post_init.has_listeners(model):
        obj = model(*[row[name] for name in plan.attnames])
    else:
        # What Model.__init__ does with positional values: a fresh ModelState and each column
        # in __dict__ (its descriptors only clear a cache a new instance lacks), without its
        # per-field loop (a tenth of the cost).
        obj = model.__new__(model)
        obj._state = ModelState()
        obj.__dict__.update(row)
    for fk, value in related:
        if value is not None:  # as ForwardManyToOneDescriptor.__set__: both learn their database
            if obj._state.db is None:
                obj._state.db = router.db_for_write(model, instance=value)
            if value._state.db is None:
                value._state.db = router.db_for_write(type(value), instance=obj)
            if not router.allow_relation(value, obj):
                raise ValueError(
                    f'Cannot assign "{value!r}": the current database router prevents this '
                    "relation."
                )
            if not fk.remote_field.multiple:  # a one-to-one: the other side knows this one
                fk.remote_field.set_cached_value(value, obj)
        fk.set_cached_value(obj, value)
    return obj


@contextmanager
def cycle_collection_paused():
    """Run a bounded batch (a request's rows) without the cyclic garbage collector: the tens of
    thousands of objects a batch allocates, hardly any of them cyclic garbage, would otherwise
    start its passes over and over (a tenth of ingestion's time). Reference counting still frees
    what is dropped; the collector resumes after, as it was (process-wide, so only re-enabled by
    the call that paused it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
