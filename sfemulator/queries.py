"""SOQL execution: the first page of a query, then queryMore pages by locator."""
# ruff: noqa: S608 -- SQL text is built from schema identifiers only; values are always bound.

from __future__ import annotations

from . import ids
from .errors import ApiError
from .schema import attributes, get_object
from .soql import compile_soql
from .values import from_storage
from .versions import DEFAULT_VERSION


class OrgQueries:
    """Mixed into Org: ``query`` and ``query_more`` (cursors live in this process)."""

    # -- queries ------------------------------------------------------------------------------
    def query(
        self, soql: str, *, include_deleted=False, batch_size=2000, version=DEFAULT_VERSION
    ) -> dict:
        """Run SOQL; returns the first page exactly as the REST API would."""
        with self.lock:
            compiled = compile_soql(soql, include_deleted, self.clock().date())
            if compiled.count:
                sql = f"SELECT COUNT(*) FROM {compiled.from_sql} WHERE {compiled.where_sql}"
                n = self.conn.execute(sql, compiled.params).fetchone()[0]
                if compiled.limit is not None:
                    n = min(n, compiled.limit)
                return {"totalSize": n, "done": True, "records": []}
            if compiled.aggregates is not None:
                return self._aggregate(compiled)
            pks = self._select_pks(compiled)
            locator = ids.make_id("01g", next(self._cursor_seq))
            self._cursors[locator] = (compiled, pks, batch_size, include_deleted)
            if len(self._cursors) > 500:
                self._cursors.pop(next(iter(self._cursors)))
            return self._page(locator, 0, version)

    def _select_pks(self, compiled, extra_where: str = "", extra_params=()) -> list:
        sql = f"SELECT t.pk FROM {compiled.from_sql} WHERE {compiled.where_sql}{extra_where}"
        order = compiled.order_sql + (", " if compiled.order_sql else "") + "t.pk"
        sql += f" ORDER BY {order}"
        sql, params = _paged(compiled, sql, [*compiled.params, *extra_params])
        return [r[0] for r in self.conn.execute(sql, params)]

    def _aggregate(self, compiled) -> dict:
        """An aggregate query: one AggregateResult per group, all on one page."""
        cols = compiled.aggregates
        sql = f"SELECT {', '.join(c.sql for c in cols)} FROM {compiled.from_sql} "
        sql += f"WHERE {compiled.where_sql}"
        if compiled.group_sql:
            sql += f" GROUP BY {', '.join(compiled.group_sql)}"
        if compiled.order_sql:
            sql += f" ORDER BY {compiled.order_sql}"
        sql, params = _paged(compiled, sql, list(compiled.params))
        records = []
        for row in self.conn.execute(sql, params):
            rec = {"attributes": {"type": "AggregateResult"}}
            for col, value in zip(cols, row, strict=True):
                rec[col.name] = from_storage(col.field, value) if col.field else value
            records.append(rec)
        return {"totalSize": len(records), "done": True, "records": records}

    def query_more(self, locator: str, start: int, version=DEFAULT_VERSION) -> dict:
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
        records = [by_pk[pk] for pk in pks if pk in by_pk]
        for child in compiled.children:
            self._attach_children(child, records, version)
        return records

    def _attach_children(self, child, records: list[dict], version: str) -> None:
        """Fill each parent record's child relationship: null when it has no children, else a
        query result of its own (a subquery's LIMIT applies per parent)."""
        parent_ids = [r["attributes"]["url"].rsplit("/", 1)[1] for r in records]
        sub = child.compiled
        marks = ",".join("?" * len(parent_ids))
        sql = f'SELECT t.pk, t."{child.fk}" FROM {sub.from_sql} WHERE {sub.where_sql} '
        sql += f'AND t."{child.fk}" IN ({marks}) ORDER BY '
        sql += sub.order_sql + (", " if sub.order_sql else "") + "t.pk"
        per_parent: dict[str, list[int]] = {}
        for pk, parent in self.conn.execute(sql, [*sub.params, *parent_ids]):
            kept = per_parent.setdefault(parent, [])
            if sub.limit is None or len(kept) < sub.limit:
                kept.append(pk)
        fetched = self._fetch(sub, [pk for kept in per_parent.values() for pk in kept], version)
        by_pk = dict(zip([pk for kept in per_parent.values() for pk in kept], fetched, strict=True))
        for rec, parent in zip(records, parent_ids, strict=True):
            kept = per_parent.get(parent)
            rec[child.name] = (
                {"totalSize": len(kept), "done": True, "records": [by_pk[pk] for pk in kept]}
                if kept
                else None
            )


def _paged(compiled, sql: str, params: list) -> tuple[str, list]:
    """The query's LIMIT and OFFSET, bound."""
    if compiled.limit is None and compiled.offset is None:
        return sql, params
    limit = -1 if compiled.limit is None else compiled.limit
    return sql + " LIMIT ? OFFSET ?", [*params, limit, compiled.offset or 0]
