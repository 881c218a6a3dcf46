"""The emulated org: SQLite storage and record operations with Salesforce's rules."""
# ruff: noqa: S608 -- SQL text is built from schema identifiers only; values are always bound.

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable

from . import ids
from .auth import OrgAuth
from .bulk2 import QueryJobs
from .conversion import OrgConversion
from .errors import ApiError, not_found
from .faults import Faults, Stats
from .queries import OrgQueries
from .records import MultipleMatches, OrgRecords
from .schema import (
    EXTERNAL_ID,
    LEAD_STATUSES,
    OBJECTS,
    SQL_TYPES,
    SObject,
    attributes,
    sobject_or_404,
)
from .values import format_datetime, from_storage
from .versions import DEFAULT_VERSION

DEFAULT_USERNAME = "integration@crmbridge.example"
DEFAULT_PASSWORD = "emulator"
DEFAULT_API_LIMIT = 1_000_000
INDEXED = ("Email", EXTERNAL_ID, "SystemModstamp", "AccountId", "WhoId", "WhatId", "OpportunityId")


_sobject = sobject_or_404
__all__ = ["DEFAULT_VERSION", "MultipleMatches", "Org", "attributes"]


class Org(OrgAuth, OrgRecords, OrgQueries, OrgConversion):
    """An emulated Salesforce org stored in SQLite (a file, or ``":memory:"``).

    Like a new Salesforce org, it starts with its API user and the standard picklists: the
    LeadStatus values (one of them converted) and the Opportunity stages.

    All access is serialised by one re-entrant lock, so the object is safe to share between
    threads (the loopback server is threaded). Several processes may open the same file.
    """

    def __init__(
        self,
        path: str = ":memory:",
        *,
        username: str | None = None,
        password: str | None = None,
        security_token: str | None = None,
        api_limit: int | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        session_seconds: int | None = None,
    ):
        self.path = str(path)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout = 10000")
        if self.path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.faults = Faults()
        self.stats = Stats()
        self._cursors: dict[str, tuple] = {}
        self._cursor_seq = itertools.count(1)
        self.query_jobs = QueryJobs(self)  # Bulk API 2.0 query jobs
        self._tx_depth = 0
        self._app = None
        self._user_id = None
        with self.lock:
            self._create_schema()
            self._create_auth_schema()
            self._init_meta(username, password, security_token, api_limit)
            self._init_standard_values()
        if session_seconds is not None:
            self.session_seconds = session_seconds

    # -- setup ------------------------------------------------------------------------------
    def _create_schema(self) -> None:
        c = self.conn
        c.execute("CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT)")
        for obj in OBJECTS.values():
            cols = ["pk INTEGER PRIMARY KEY"]
            for f in obj.fields.values():
                sql_type = SQL_TYPES[f.type]
                if f.name == "Id":
                    sql_type = "TEXT NOT NULL UNIQUE"
                cols.append(f'"{f.name}" {sql_type}')
            cols.append('"_DeletedDate" TEXT')
            c.execute(f'CREATE TABLE IF NOT EXISTS "{obj.name}" ({", ".join(cols)})')
            # An org file from before a field was declared gains it (empty), as an org would.
            have = {row[1] for row in c.execute(f'PRAGMA table_info("{obj.name}")')}
            for f in obj.fields.values():
                if f.name not in have:
                    c.execute(f'ALTER TABLE "{obj.name}" ADD COLUMN "{f.name}" {SQL_TYPES[f.type]}')
            for name in INDEXED:
                if name in obj.fields:
                    c.execute(
                        f'CREATE INDEX IF NOT EXISTS "ix_{obj.name}_{name}" '
                        f'ON "{obj.name}" ("{name}")'
                    )
            c.execute(
                f'CREATE INDEX IF NOT EXISTS "ix_{obj.name}_deleted" '
                f'ON "{obj.name}" ("_DeletedDate") WHERE "_DeletedDate" IS NOT NULL'
            )

    def _meta_get(self, key: str, default=None):
        row = self.conn.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _meta_set(self, key: str, value) -> None:
        self.conn.execute(
            "INSERT INTO _meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, None if value is None else str(value)),
        )

    def _init_meta(self, username, password, security_token, api_limit) -> None:
        with self.transaction():
            if self._meta_get("org_id") is None:
                self._meta_set("org_id", ids.make_id("00D", secrets.randbelow(10**9)))
                self._meta_set("api_used", 0)
            for key, value, default in (
                ("username", username, DEFAULT_USERNAME),
                ("password", password, DEFAULT_PASSWORD),
                ("security_token", security_token, ""),
                ("api_limit", api_limit, DEFAULT_API_LIMIT),
            ):
                if value is not None or self._meta_get(key) is None:
                    self._meta_set(key, default if value is None else value)
            user = self.conn.execute(
                'SELECT Id FROM "User" WHERE Username = ? AND IsDeleted = 0', (self.username,)
            ).fetchone()
            if user is None:
                uid = self._insert(
                    OBJECTS["User"],
                    {"Name": "Integration User", "Username": self.username, "Email": self.username},
                )
            else:
                uid = user[0]
            self._user_id = uid

    def _init_standard_values(self) -> None:
        """The LeadStatus values every new org has (run once, when the org is created)."""
        if self._meta_get("standard_values"):
            return
        with self.transaction():
            existing = self.conn.execute('SELECT COUNT(*) FROM "LeadStatus"').fetchone()[0]
            if not existing:
                for label, converted, default, order in LEAD_STATUSES:
                    self._insert(
                        OBJECTS["LeadStatus"],
                        {
                            "MasterLabel": label,
                            "IsConverted": converted,
                            "IsDefault": default,
                            "SortOrder": order,
                        },
                    )
            self._meta_set("standard_values", 1)

    # -- properties ---------------------------------------------------------------------------
    @property
    def org_id(self) -> str:
        return self._meta_get("org_id")

    @property
    def username(self) -> str:
        return self._meta_get("username")

    @property
    def password(self) -> str:
        return self._meta_get("password")

    @property
    def security_token(self) -> str:
        return self._meta_get("security_token") or ""

    @property
    def user_id(self) -> str:
        return self._user_id

    @property
    def api_limit(self) -> int:
        return int(self._meta_get("api_limit"))

    @api_limit.setter
    def api_limit(self, value: int) -> None:
        with self.lock:
            self._meta_set("api_limit", int(value))

    @property
    def api_used(self) -> int:
        return int(self._meta_get("api_used", 0))

    def reset_api_usage(self, used: int = 0) -> None:
        with self.lock:
            self._meta_set("api_used", int(used))

    def count_api_call(self) -> tuple[bool, int, int]:
        """Count one API call; returns (allowed, used, max). Refused calls are not counted."""
        with self.lock:
            used, limit = self.api_used, self.api_limit
            if used >= limit:
                return False, used, limit
            self._meta_set("api_used", used + 1)
            return True, used + 1, limit

    # The WSGI app and the in-process session are built by modules that import this one;
    # sfemulator/__init__.py installs them.
    app_factory: Callable | None = None
    session_factory: Callable | None = None

    @property
    def wsgi_app(self):
        if self._app is None:
            self._app = self.app_factory(self)
        return self._app

    def session(self):
        """A requests.Session whose https:// and http:// calls are served by this org in-process."""
        return self.session_factory(self)

    # -- transactions -------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE at the outermost level, a SAVEPOINT inside; rolls back on error."""
        with self.lock:
            depth = self._tx_depth
            name = f"sp{depth}"
            if depth == 0:
                self.conn.execute("BEGIN IMMEDIATE")
            else:
                self.conn.execute(f"SAVEPOINT {name}")
            self._tx_depth += 1
            try:
                yield
            except BaseException:
                self._tx_depth -= 1
                if depth == 0:
                    self.conn.execute("ROLLBACK")
                else:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            self._tx_depth -= 1
            if depth == 0:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute(f"RELEASE {name}")

    def now(self) -> str:
        return format_datetime(self.clock())

    # -- reads --------------------------------------------------------------------------------
    def _row(self, obj: SObject, record_id: str, include_deleted=False) -> dict | None:
        cur = self.conn.execute(f'SELECT * FROM "{obj.name}" WHERE Id = ?', (record_id,))
        row = cur.fetchone()
        if row is None:
            return None
        data = dict(zip([d[0] for d in cur.description], row, strict=True))
        if data["IsDeleted"] and not include_deleted:
            return None
        return data

    def record(self, obj: SObject, row: dict, version: str, fields=None) -> dict:
        out = {"attributes": attributes(obj.name, row["Id"], version)}
        for f in obj.fields.values():
            if fields is None or f.name.lower() in fields:
                out[f.name] = from_storage(f, row[f.name])
        return out

    def get(
        self, sobject: str, record_id: str, version: str = DEFAULT_VERSION, fields=None
    ) -> dict:
        obj = _sobject(sobject)
        rid = self.parse_id(obj, record_id)
        with self.lock:
            row = self._row(obj, rid)
        if row is None:
            raise not_found()
        if fields is not None:
            wanted = {f.strip().lower() for f in fields}
            for name in wanted:
                if obj.field(name) is None:
                    raise ApiError(
                        400,
                        "INVALID_FIELD",
                        f"No such column '{name}' on sobject of type {obj.name}",
                    )
            fields = wanted
        return self.record(obj, row, version, fields)

    def find_by_external(self, obj: SObject, field_name: str, value: str) -> list[str]:
        f = obj.field(field_name)
        if f is None or not (f.external_id or f.name == "Id"):
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
            )
        if f.name == "Id":
            try:
                value = ids.to18(value)
            except ids.MalformedId:
                return []
        rows = self.conn.execute(
            f'SELECT Id FROM "{obj.name}" WHERE "{f.name}" = ? AND IsDeleted = 0 ORDER BY pk',
            (value,),
        ).fetchall()
        return [r[0] for r in rows]

    def parse_id(self, obj: SObject, value: str) -> str:
        try:
            rid = ids.to18(value)
        except ids.MalformedId:
            raise ApiError(
                400, "MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {value}"
            ) from None
        if rid[:3] != obj.prefix:
            raise ApiError(
                400, "MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {value}"
            )
        return rid

    # -- public Python API --------------------------------------------------------------------
    def insert(self, sobject: str, data: dict, *, validate: bool = True) -> str:
        """Create one record directly (a fixture helper); returns its 18-character Id.

        ``validate=False`` skips required-field, reference and uniqueness checks, which lets a
        test plant data a real org can hold (e.g. two records sharing an external id).
        """
        obj = _sobject(sobject)
        with self.transaction():
            return self._insert(obj, data, validate=validate)

    def update(self, sobject: str, record_id: str, data: dict) -> None:
        obj = _sobject(sobject)
        with self.transaction():
            self._update(obj, self.parse_id(obj, record_id), data)

    def delete(self, sobject: str, record_id: str) -> None:
        obj = _sobject(sobject)
        with self.transaction():
            self._delete(obj, self.parse_id(obj, record_id))

    def upsert(self, sobject: str, field_name: str, value: str, data: dict) -> tuple[str, bool]:
        obj = _sobject(sobject)
        with self.transaction():
            return self._upsert(obj, field_name, value, data)

    def bulk_insert(self, sobject: str, rows: Iterable[dict], *, chunk: int = 50_000) -> int:
        """Load many rows straight into SQLite (no validation; for benchmarks and big fixtures)."""
        obj = _sobject(sobject)
        names = list(obj.fields)
        cols = ", ".join(['"pk"'] + [f'"{n}"' for n in names])
        marks = ", ".join("?" * (len(names) + 1))
        sql = f'INSERT INTO "{obj.name}" ({cols}) VALUES ({marks})'
        total = 0
        with self.lock:
            pk = self._next_pk(obj)
            now = self.now()
            defaults = self._defaults(obj)
            batch = []
            for data in rows:
                row = {**defaults, **data}
                self._derive(obj, row)
                row.update(
                    Id=ids.make_id(obj.prefix, pk),
                    IsDeleted=0,
                    CreatedDate=now,
                    LastModifiedDate=now,
                    SystemModstamp=now,
                )
                batch.append([pk] + [row.get(n) for n in names])
                pk += 1
                if len(batch) >= chunk:
                    with self.transaction():
                        self.conn.executemany(sql, batch)
                    total += len(batch)
                    batch = []
            if batch:
                with self.transaction():
                    self.conn.executemany(sql, batch)
                total += len(batch)
        return total

    def count(self, sobject: str, include_deleted: bool = False) -> int:
        obj = _sobject(sobject)
        where = "" if include_deleted else " WHERE IsDeleted = 0"
        with self.lock:
            return self.conn.execute(f'SELECT COUNT(*) FROM "{obj.name}"{where}').fetchone()[0]

    def rows(self, sobject: str, include_deleted: bool = False) -> list[dict]:
        """Every stored row of an object as plain dicts (for assertions in tests)."""
        obj = _sobject(sobject)
        where = "" if include_deleted else " WHERE IsDeleted = 0"
        with self.lock:
            cur = self.conn.execute(f'SELECT * FROM "{obj.name}"{where} ORDER BY pk')
            names = [d[0] for d in cur.description]
            return [
                {
                    n: from_storage(obj.fields[n], v) if n in obj.fields else v
                    for n, v in zip(names, r, strict=True)
                    if n != "pk"
                }
                for r in cur.fetchall()
            ]

    # -- replication --------------------------------------------------------------------------
    def updated_ids(self, sobject: str, start: str, end: str) -> list[str]:
        obj = _sobject(sobject)
        with self.lock:
            rows = self.conn.execute(
                f'SELECT Id FROM "{obj.name}" WHERE SystemModstamp >= ? AND SystemModstamp < ? '
                "AND IsDeleted = 0 ORDER BY SystemModstamp, pk",
                (start, end),
            ).fetchall()
        return [r[0] for r in rows]

    def deleted_records(self, sobject: str, start: str, end: str) -> list[tuple[str, str]]:
        obj = _sobject(sobject)
        with self.lock:
            return self.conn.execute(
                f'SELECT Id, "_DeletedDate" FROM "{obj.name}" WHERE "_DeletedDate" >= ? '
                'AND "_DeletedDate" < ? AND IsDeleted = 1 ORDER BY "_DeletedDate", pk',
                (start, end),
            ).fetchall()

    def close(self) -> None:
        with self.lock:
            self.conn.close()
