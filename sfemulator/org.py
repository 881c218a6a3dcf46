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
from .errors import ApiError, not_found
from .faults import Faults, Stats
from .schema import EXTERNAL_ID, OBJECTS, SQL_TYPES, SObject, get_object
from .soql import compile_soql
from .values import format_datetime, from_storage, to_storage

DEFAULT_USERNAME = "integration@crmbridge.example"
DEFAULT_PASSWORD = "emulator"
DEFAULT_API_LIMIT = 1_000_000
INDEXED = ("Email", EXTERNAL_ID, "SystemModstamp", "AccountId", "WhoId", "WhatId", "OpportunityId")


def _sobject(name: str) -> SObject:
    obj = get_object(name)
    if obj is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return obj


class Org:
    """An emulated Salesforce org stored in SQLite (a file, or ``":memory:"``).

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
        self._sessions: dict[str, str] = {}  # session id -> user id
        self._cursors: dict[str, tuple] = {}
        self._cursor_seq = itertools.count(1)
        self._tx_depth = 0
        self._app = None
        self._user_id = None
        with self.lock:
            self._create_schema()
            self._init_meta(username, password, security_token, api_limit)

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

    @property
    def wsgi_app(self):
        if self._app is None:
            from .app import EmulatorApp

            self._app = EmulatorApp(self)
        return self._app

    def session(self):
        """A requests.Session whose https:// and http:// calls are served by this org in-process."""
        from .transport import emulator_session

        return emulator_session(self)

    # -- sessions -----------------------------------------------------------------------------
    def login(self, username: str, password: str) -> str | None:
        with self.lock:
            ok = username == self.username and password in (
                self.password,
                self.password + self.security_token,
            )
            if not ok:
                return None
            sid = f"{self.org_id[:15]}!{secrets.token_urlsafe(40)}"
            self._sessions[sid] = self.user_id
            return sid

    def check_session(self, sid: str | None) -> bool:
        return bool(sid) and sid in self._sessions

    def expire_sessions(self) -> None:
        """Invalidate every session: the next call gets 401 INVALID_SESSION_ID."""
        with self.lock:
            self._sessions.clear()

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

    def get(self, sobject: str, record_id: str, version: str = "59.0", fields=None) -> dict:
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

    # -- writes -------------------------------------------------------------------------------
    def _resolve_fields(self, obj: SObject, data: dict, creating: bool) -> dict:
        out = {}
        bad_perm = []
        for key, value in data.items():
            if key == "attributes":
                continue
            f = obj.field(key)
            if f is None:
                rel = obj.relationships.get(key.lower())
                if rel is not None and isinstance(value, dict):
                    out[rel.name] = self._resolve_relationship(rel, value)
                    continue
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{key}' on sobject of type {obj.name}",
                    [key],
                )
            if f.name == "Id":
                if creating:
                    raise ApiError(
                        400,
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        "Unable to create/update fields: Id. Please check the security settings "
                        "of this field and verify that it is read/write for your profile or "
                        "permission set.",
                        ["Id"],
                    )
                continue
            if not (f.createable if creating else f.updateable):
                bad_perm.append(f.name)
                continue
            out[f.name] = to_storage(f, value)
        if bad_perm:
            raise ApiError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(bad_perm)}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or "
                "permission set.",
                bad_perm,
            )
        return out

    def _resolve_relationship(self, rel, value: dict) -> str:
        target = get_object(rel.reference_to[0])
        keys = [k for k in value if k != "attributes"]
        if len(keys) != 1:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"Relationship {rel.relationship_name} must name exactly one external id field",
            )
        matches = self.find_by_external(target, keys[0], str(value[keys[0]]))
        if not matches:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"Foreign key external ID: {value[keys[0]]} not found for field {keys[0]} in "
                f"entity {target.name}",
                [rel.name],
            )
        if len(matches) > 1:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"Foreign key external ID: {value[keys[0]]} matched more than one record",
                [rel.name],
            )
        return matches[0]

    def _check_references(self, obj: SObject, values: dict) -> None:
        for name, value in values.items():
            f = obj.fields[name]
            if f.type != "reference" or value is None:
                continue
            targets = [get_object(t) for t in f.reference_to]
            target = next((t for t in targets if t.prefix == value[:3]), None)
            if target is None or self._row(target, value) is None:
                raise ApiError(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY" if target else "FIELD_INTEGRITY_EXCEPTION",
                    f"{f.label or f.name}: id value of incorrect type: {value}"
                    if target is None
                    else "invalid cross reference id",
                    [name],
                )

    def _check_unique(self, obj: SObject, values: dict, own_id: str | None) -> None:
        for name, value in values.items():
            f = obj.fields[name]
            if not f.unique or value is None:
                continue
            row = self.conn.execute(
                f'SELECT Id FROM "{obj.name}" WHERE "{name}" = ? AND IsDeleted = 0 '
                + ("AND Id != ? " if own_id else "")
                + "LIMIT 1",
                (value, own_id) if own_id else (value,),
            ).fetchone()
            if row:
                raise ApiError(
                    400,
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {name} duplicates value on record with id: {row[0]}",
                    [name],
                )

    def _derive(self, obj: SObject, row: dict) -> None:
        if obj.name in ("Contact", "Lead"):
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)
        if obj.name == "Opportunity" and row.get("StageName"):
            from .schema import STAGES

            closed = {s[0].lower(): (s[1], s[2]) for s in STAGES}.get(
                row["StageName"].lower(), (False, False)
            )
            row["IsClosed"], row["IsWon"] = int(closed[0]), int(closed[1])

    def _defaults(self, obj: SObject) -> dict:
        out = {}
        for f in obj.fields.values():
            if f.type == "boolean":
                out[f.name] = 1 if f.name == "IsActive" else 0
            elif f.default_value is not None:
                out[f.name] = f.default_value
        if "OwnerId" in obj.fields and self._user_id:
            out["OwnerId"] = self._user_id
        if obj.name == "Lead":
            row = self.conn.execute(
                'SELECT MasterLabel FROM "LeadStatus" WHERE IsDefault = 1 AND IsDeleted = 0 '
                "ORDER BY SortOrder LIMIT 1"
            ).fetchone()
            if row:
                out["Status"] = row[0]
        if obj.name == "LeadStatus":
            out["ApiName"] = None
        return out

    def _next_pk(self, obj: SObject) -> int:
        row = self.conn.execute(f'SELECT COALESCE(MAX(pk), 0) + 1 FROM "{obj.name}"').fetchone()
        return row[0]

    def _insert(self, obj: SObject, data: dict, *, validate: bool = True) -> str:
        values = self._resolve_fields(obj, data, creating=True)
        row = self._defaults(obj)
        row.update({k: v for k, v in values.items() if v is not None or k not in row})
        if obj.name == "LeadStatus" and not row.get("ApiName"):
            row["ApiName"] = row.get("MasterLabel")
        if validate:
            missing = [n for n in obj.required if row.get(n) is None]
            if missing:
                raise ApiError(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
            self._check_references(obj, values)
            self._check_unique(obj, values, None)
        self._derive(obj, row)
        now = self.now()
        pk = self._next_pk(obj)
        rid = ids.make_id(obj.prefix, pk)
        row.update(
            pk=pk, Id=rid, IsDeleted=0, CreatedDate=now, LastModifiedDate=now, SystemModstamp=now
        )
        cols = ", ".join(f'"{k}"' for k in row)
        marks = ", ".join("?" for _ in row)
        self.conn.execute(f'INSERT INTO "{obj.name}" ({cols}) VALUES ({marks})', list(row.values()))
        return rid

    def _update(self, obj: SObject, rid: str, data: dict) -> None:
        current = self._row(obj, rid)
        if current is None:
            raise ApiError(
                404,
                "ENTITY_IS_DELETED" if self._row(obj, rid, True) else "NOT_FOUND",
                "entity is deleted"
                if self._row(obj, rid, True)
                else "The requested resource does not exist",
            )
        if obj.name == "Lead" and current["IsConverted"]:
            raise ApiError(
                400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", []
            )
        values = self._resolve_fields(obj, data, creating=False)
        cleared = [n for n in obj.required if n in values and values[n] is None]
        if cleared:
            raise ApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(cleared)}]",
                cleared,
            )
        self._check_references(obj, values)
        self._check_unique(obj, values, rid)
        new = {**current, **values}
        self._derive(obj, new)
        changed = {k: new[k] for k in new if k != "pk" and new[k] != current.get(k)}
        now = self.now()
        changed.update(LastModifiedDate=now, SystemModstamp=now)
        sets = ", ".join(f'"{k}" = ?' for k in changed)
        self.conn.execute(f'UPDATE "{obj.name}" SET {sets} WHERE Id = ?', [*changed.values(), rid])

    def _delete(self, obj: SObject, rid: str) -> None:
        current = self._row(obj, rid, include_deleted=True)
        if current is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if current["IsDeleted"]:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        now = self.now()
        self.conn.execute(
            f'UPDATE "{obj.name}" SET IsDeleted = 1, SystemModstamp = ?, "_DeletedDate" = ? '
            "WHERE Id = ?",
            (now, now, rid),
        )

    def _upsert(self, obj: SObject, field_name: str, value: str, data: dict) -> tuple[str, bool]:
        matches = self.find_by_external(obj, field_name, value)
        if len(matches) > 1:
            raise MultipleMatches(matches)
        f = obj.field(field_name)
        body = {k: v for k, v in data.items() if k.lower() != f.name.lower()}
        if matches:
            self._update(obj, matches[0], body)
            return matches[0], False
        if f.name == "Id":
            return self._insert(obj, body), True
        return self._insert(obj, {**body, f.name: value}), True

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

    # -- queries ------------------------------------------------------------------------------
    def query(self, soql: str, *, include_deleted=False, batch_size=2000, version="59.0") -> dict:
        """Run SOQL; returns the first page exactly as the REST API would."""
        with self.lock:
            compiled = compile_soql(soql, include_deleted, self.clock().date())
            if compiled.count:
                sql = f"SELECT COUNT(*) FROM {compiled.from_sql} WHERE {compiled.where_sql}"
                n = self.conn.execute(sql, compiled.params).fetchone()[0]
                if compiled.limit is not None:
                    n = min(n, compiled.limit)
                return {"totalSize": n, "done": True, "records": []}
            sql = f"SELECT t.pk FROM {compiled.from_sql} WHERE {compiled.where_sql}"
            order = compiled.order_sql + (", " if compiled.order_sql else "") + "t.pk"
            sql += f" ORDER BY {order}"
            params = list(compiled.params)
            if compiled.limit is not None or compiled.offset is not None:
                sql += " LIMIT ? OFFSET ?"
                params += [-1 if compiled.limit is None else compiled.limit, compiled.offset or 0]
            pks = [r[0] for r in self.conn.execute(sql, params)]
            locator = ids.make_id("01g", next(self._cursor_seq))
            self._cursors[locator] = (compiled, pks, batch_size, include_deleted)
            if len(self._cursors) > 500:
                self._cursors.pop(next(iter(self._cursors)))
            return self._page(locator, 0, version)

    def query_more(self, locator: str, start: int, version="59.0") -> dict:
        with self.lock:
            if locator not in self._cursors:
                raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            return self._page(locator, start, version)

    def _page(self, locator: str, start: int, version: str) -> dict:
        compiled, pks, batch_size, include_deleted = self._cursors[locator]
        chunk = pks[start : start + batch_size]
        records = self._fetch(compiled, chunk, version)
        out = {"totalSize": len(pks), "done": start + batch_size >= len(pks)}
        if not out["done"]:
            kind = "queryAll" if include_deleted else "query"
            out["nextRecordsUrl"] = (
                f"/services/data/v{version}/{kind}/{locator}-{start + batch_size}"
            )
        else:
            self._cursors.pop(locator, None)
        out["records"] = records
        return out

    def _fetch(self, compiled, pks: list[int], version: str) -> list[dict]:
        if not pks:
            return []
        obj = compiled.sobject
        select = ["t.pk", 't."Id"']
        for col in compiled.columns:
            if col.rel is not None:
                select.append(f't."{col.rel.name}"')
            select.extend(col.sql)
        marks = ",".join("?" * len(pks))
        sql = f"SELECT {', '.join(select)} FROM {compiled.from_sql} WHERE t.pk IN ({marks})"
        by_pk = {}
        for row in self.conn.execute(sql, pks):
            rec = {"attributes": attributes(obj.name, row[1], version)}
            i = 2
            for col in compiled.columns:
                if col.rel is None:
                    rec[col.field.name] = from_storage(col.field, row[i])
                    i += 1
                    continue
                ref_id = row[i]
                values = row[i + 1 : i + 1 + len(col.sql)]
                i += 1 + len(col.sql)
                rel_name = col.rel.relationship_name
                if ref_id is None:
                    rec.setdefault(rel_name, None)
                    continue
                target = next(
                    (t for t in col.targets if get_object(t).prefix == ref_id[:3]), col.targets[0]
                )
                value = values[col.targets.index(target)]
                parent = rec.get(rel_name) or {"attributes": attributes(target, ref_id, version)}
                tfield = get_object(target).field(col.field.name)
                parent[col.field.name] = from_storage(tfield, value) if tfield else None
                rec[rel_name] = parent
            by_pk[row[0]] = rec
        return [by_pk[pk] for pk in pks if pk in by_pk]

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

    # -- lead conversion ----------------------------------------------------------------------
    def convert_lead(
        self,
        lead_id: str,
        converted_status: str,
        *,
        account_id: str | None = None,
        contact_id: str | None = None,
        do_not_create_opportunity: bool = False,
        opportunity_name: str | None = None,
        owner_id: str | None = None,
    ) -> dict:
        """Convert a lead as SOAP convertLead does; returns {leadId, accountId, contactId,
        opportunityId}. Raises ApiError (the SOAP layer turns it into a per-result error)."""
        lead_obj = OBJECTS["Lead"]
        with self.transaction():
            lid = self.parse_id(lead_obj, lead_id)
            lead = self._row(lead_obj, lid)
            if lead is None:
                raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
            if lead["IsConverted"]:
                raise ApiError(
                    400, "CANNOT_UPDATE_CONVERTED_LEAD", "This lead was already converted.", []
                )
            status = self.conn.execute(
                'SELECT MasterLabel, IsConverted FROM "LeadStatus" WHERE MasterLabel = ? '
                "AND IsDeleted = 0",
                (converted_status or "",),
            ).fetchone()
            if status is None or not status[1]:
                raise ApiError(
                    400, "INVALID_STATUS", f"invalid convertedStatus: {converted_status}", []
                )
            owner = owner_id or lead["OwnerId"]
            if account_id:
                acc_id = self.parse_id(OBJECTS["Account"], account_id)
                if self._row(OBJECTS["Account"], acc_id) is None:
                    raise ApiError(
                        400,
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                        ["accountId"],
                    )
            else:
                acc_id = self._insert(
                    OBJECTS["Account"], {"Name": lead["Company"], "OwnerId": owner}
                )
            contact_fields = {
                "FirstName": lead["FirstName"],
                "LastName": lead["LastName"],
                "Email": lead["Email"],
                "Title": lead["Title"],
                "Phone": lead["Phone"],
                "MailingCountry": lead["Country"],
                "Department": lead["Department"],
                "Seniority__c": lead["Seniority__c"],
                "LeadSource": lead["LeadSource"],
            }
            if contact_id:
                con_id = self.parse_id(OBJECTS["Contact"], contact_id)
                contact = self._row(OBJECTS["Contact"], con_id)
                if contact is None:
                    raise ApiError(
                        400,
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                        ["contactId"],
                    )
                if contact["AccountId"] and contact["AccountId"] != acc_id:
                    raise ApiError(
                        400,
                        "INVALID_CROSS_REFERENCE_KEY",
                        "The contact does not belong to the account",
                        ["contactId"],
                    )
                fill = {k: v for k, v in contact_fields.items() if v and not contact[k]}
                fill["AccountId"] = acc_id
                self._update(OBJECTS["Contact"], con_id, fill)
            else:
                con_id = self._insert(
                    OBJECTS["Contact"],
                    {
                        **{k: v for k, v in contact_fields.items() if v is not None},
                        "AccountId": acc_id,
                        "OwnerId": owner,
                    },
                )
            opp_id = None
            if not do_not_create_opportunity:
                close = self.clock().date() + dt.timedelta(days=30)
                opp_id = self._insert(
                    OBJECTS["Opportunity"],
                    {
                        "Name": opportunity_name or f"{lead['Company']}-",
                        "StageName": "Prospecting",
                        "CloseDate": close.isoformat(),
                        "AccountId": acc_id,
                        "OwnerId": owner,
                    },
                )
            now = self.now()
            self.conn.execute(
                'UPDATE "Lead" SET IsConverted = 1, Status = ?, ConvertedAccountId = ?, '
                "ConvertedContactId = ?, ConvertedOpportunityId = ?, LastModifiedDate = ?, "
                "SystemModstamp = ? WHERE Id = ?",
                (status[0], acc_id, con_id, opp_id, now, now, lid),
            )
        return {"leadId": lid, "accountId": acc_id, "contactId": con_id, "opportunityId": opp_id}

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class MultipleMatches(Exception):  # noqa: N818
    def __init__(self, ids_: list[str]):
        super().__init__(ids_)
        self.ids = ids_


def attributes(sobject: str, record_id: str, version: str) -> dict:
    return {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}
