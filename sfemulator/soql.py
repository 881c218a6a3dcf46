"""SOQL subset: parsed with lark (grammar in soql.lark), translated to parameterised SQLite SQL.

Values from the query text never reach the SQL string; they are always bound parameters.
"""
# ruff: noqa: S608 -- SQL text is built from schema identifiers only; values are always bound.

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import LarkError, VisitError

from .errors import ApiError
from .schema import Field, SObject, child_relationship, get_object
from .soql_where import Conditions

_PARSER = Lark(
    (Path(__file__).with_name("soql.lark")).read_text(),
    parser="lalr",
    maybe_placeholders=False,
)


@dataclass
class Path_:
    parts: tuple[str, ...]


@dataclass
class Literal:
    kind: str  # string, number, date, datetime, null, true, false, date_literal
    value: object


@dataclass
class Cond:
    op: str  # and, or, not, cmp, like, in, notin, insub, notinsub
    args: list = field(default_factory=list)


@dataclass
class Agg:
    func: str  # COUNT, COUNT_DISTINCT, SUM, AVG, MIN, MAX
    path: Path_ | None  # None: COUNT()
    alias: str | None = None


@dataclass
class SubQuery:
    """A child-relationship subquery: ``(SELECT Id FROM Contacts WHERE ...)``."""

    paths: list[Path_]
    relationship: str
    clauses: list


@dataclass
class SemiQuery:
    """The inner query of a semi-join or anti-join: ``Id IN (SELECT AccountId FROM Contact)``."""

    path: Path_
    sobject: str
    where: object | None


class _ToAst(Transformer):
    def field_path(self, items):
        return Path_(tuple(str(t) for t in items))

    def string(self, items):
        return Literal("string", _unescape(str(items[0])[1:-1]))

    def number(self, items):
        s = str(items[0])
        return Literal("number", float(s) if "." in s else int(s))

    def date(self, items):
        return Literal("date", str(items[0]))

    def datetime(self, items):
        return Literal("datetime", str(items[0]))

    def null(self, _):
        return Literal("null", None)

    def true(self, _):
        return Literal("true", True)

    def false(self, _):
        return Literal("false", False)

    def date_literal(self, items):
        return Literal("date_literal", str(items[0]).upper())

    def value_list(self, items):
        return list(items)

    def compare(self, items):
        return Cond("cmp", [items[0], str(items[1]), items[2]])

    def like(self, items):
        return Cond("like", [items[0], items[1]])

    def in_list(self, items):
        return Cond("in", [items[0], items[1]])

    def not_in_list(self, items):
        return Cond("notin", [items[0], items[1]])

    def in_query(self, items):
        return Cond("insub", [items[0], items[1]])

    def not_in_query(self, items):
        return Cond("notinsub", [items[0], items[1]])

    def semi_query(self, items):
        where = items[2].children[0] if len(items) > 2 else None
        return SemiQuery(items[0], str(items[1]), where)

    def aggregate(self, items):
        func = str(items[0]).upper()
        path = next((i for i in items[1:] if isinstance(i, Path_)), None)
        alias = next((str(i) for i in items[1:] if isinstance(i, Token)), None)
        return Agg(func, path, alias)

    def subquery(self, items):
        paths = [i for i in items if isinstance(i, Path_)]
        rel = next(i for i in items if isinstance(i, Token))
        return SubQuery(paths, str(rel), [i for i in items if isinstance(i, Tree)])

    def negation(self, items):
        return Cond("not", [items[0]])

    def or_expr(self, items):
        return Cond("or", list(items))

    def and_expr(self, items):
        return Cond("and", list(items))


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}


def _unescape(s: str) -> str:
    out = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            else:  # \% and \_ stay escaped for LIKE
                out.append("\\" + nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass
class Column:
    """One selected field: either on the queried object or on a parent through a relationship."""

    field: Field
    rel: Field | None = None  # the reference field on the queried object
    sql: list[str] = field(default_factory=list)  # one expression, or one per polymorphic target
    targets: list[str] = field(default_factory=list)


@dataclass
class AggColumn:
    """One column of an aggregate query's result: a grouped field or an aggregate function."""

    name: str  # the field's name, the alias, or exprN
    sql: str
    field: Field | None  # None for COUNT and COUNT_DISTINCT (plain numbers)


@dataclass
class Compiled:
    sobject: SObject
    count: bool
    columns: list[Column]
    from_sql: str
    where_sql: str
    params: list
    order_sql: str
    limit: int | None
    offset: int | None
    aggregates: list[AggColumn] | None = None  # set: an aggregate query (AggregateResult rows)
    group_sql: list[str] = field(default_factory=list)
    children: list[ChildQuery] = field(default_factory=list)


@dataclass
class ChildQuery:
    """A compiled child subquery: its records are the child object's rows whose ``fk`` points at
    the parent; ``name`` is the key the parent record carries them under."""

    name: str
    fk: str
    compiled: Compiled


def parse(soql: str):
    try:
        tree = _PARSER.parse(soql)
    except LarkError as exc:
        raise ApiError(400, "MALFORMED_QUERY", _short(soql, exc)) from None
    return tree


def _short(soql: str, exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"unexpected token in query: {text}"


class Compiler(Conditions):
    def __init__(self, soql: str, include_deleted: bool, today: dt.date, alias: str = "t"):
        self.soql = soql
        self.include_deleted = include_deleted
        self.today = today
        self.alias = alias
        self.joins: dict[str, str] = {}
        self.params: list = []
        self.semi_joins = 0

    def compile(self) -> Compiled:
        tree = parse(self.soql)
        try:
            ast = _ToAst().transform(tree)
        except VisitError as exc:  # pragma: no cover - transformer bugs
            raise ApiError(400, "MALFORMED_QUERY", str(exc.orig_exc)) from None
        children = ast.children
        return self.compile_parts(str(children[1]), children[0].children, children[2:])

    def compile_parts(self, sobject: str, items: list, clauses: list) -> Compiled:
        self.obj = obj = _object(sobject)
        count = False
        columns: list[Column] = []
        aggs: list[Agg] = []
        children: list[ChildQuery] = []
        seen = set()
        for item in items:
            if isinstance(item, Agg):
                if item.path is None and item.func == "COUNT":
                    count = True
                else:
                    aggs.append(item)
                continue
            if isinstance(item, SubQuery):
                children.append(self._child_query(item))
                continue
            col = self._column(item)
            key = (col.rel.name if col.rel else None, col.field.name)
            if key not in seen:
                seen.add(key)
                columns.append(col)
        by = {c.data: c for c in clauses}
        grouped = bool(aggs) or "group_clause" in by
        if count and (columns or aggs or children or grouped):
            raise ApiError(400, "MALFORMED_QUERY", "COUNT() cannot be combined with other fields")
        where_parts = [] if self.include_deleted else [f"{self.alias}.IsDeleted = 0"]
        if "where_clause" in by:
            where_parts.append("(" + self._cond(by["where_clause"].children[0]) + ")")
        compiled = Compiled(
            sobject=obj,
            count=count,
            columns=columns,
            from_sql="",
            where_sql=" AND ".join(where_parts) or "1=1",
            params=self.params,
            order_sql="",
            limit=int(by["limit_clause"].children[0]) if "limit_clause" in by else None,
            offset=int(by["offset_clause"].children[0]) if "offset_clause" in by else None,
            children=children,
        )
        if compiled.offset is not None and compiled.offset > 2000:
            raise ApiError(400, "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset is 2000")
        if grouped:
            if children:
                raise ApiError(400, "MALFORMED_QUERY", "Aggregate queries cannot have subqueries")
            group = by["group_clause"].children if "group_clause" in by else []
            self._aggregate(compiled, group, aggs)
        if "order_clause" in by:
            compiled.order_sql = self._order(by["order_clause"].children)
        compiled.from_sql = f'"{obj.name}" {self.alias}' + "".join(
            " " + j for j in self.joins.values()
        )
        return compiled

    # -- aggregates -------------------------------------------------------------------------
    def _aggregate(self, compiled: Compiled, group: list[Path_], aggs: list[Agg]) -> None:
        group_exprs = [self._expr(p)[0] for p in group]
        out = []
        for col in compiled.columns:
            expr = self._column_expr(col)
            if expr not in group_exprs:
                raise ApiError(
                    400,
                    "MALFORMED_QUERY",
                    f"Field must be grouped or aggregated: {col.field.name}",
                )
            out.append(AggColumn(col.field.name, expr, col.field))
        unnamed = 0
        for agg in aggs:
            sql, f = self._agg_sql(agg)
            name = agg.alias
            if name is None:
                name, unnamed = f"expr{unnamed}", unnamed + 1
            out.append(AggColumn(name, sql, f))
        names = [c.name.lower() for c in out]
        if len(set(names)) != len(names):
            raise ApiError(400, "MALFORMED_QUERY", "duplicate alias in the SELECT list")
        compiled.aggregates = out
        compiled.group_sql = group_exprs
        compiled.columns = []

    def _agg_sql(self, agg: Agg) -> tuple[str, Field | None]:
        if agg.path is None:
            raise ApiError(400, "MALFORMED_QUERY", f"{agg.func}() needs a field")
        expr, f = self._expr(agg.path)
        if agg.func in ("SUM", "AVG") and f.type not in ("int", "double"):
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"field {f.name} does not support aggregate operator {agg.func}",
            )
        if agg.func == "COUNT":
            return f"COUNT({expr})", None
        if agg.func == "COUNT_DISTINCT":
            return f"COUNT(DISTINCT {expr})", None
        return f"{agg.func}({expr})", f if agg.func in ("MIN", "MAX") else None

    # -- child subqueries and semi-joins -----------------------------------------------------
    def _child_query(self, sub: SubQuery) -> ChildQuery:
        found = child_relationship(self.obj, sub.relationship)
        if found is None:
            raise ApiError(
                400,
                "INVALID_TYPE",
                f"Didn't understand relationship '{sub.relationship}' in FROM part of query call. "
                "If you are attempting to use a custom relationship, be sure to append the '__r' "
                "after the custom relationship name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
            )
        child, fk = found
        inner = Compiler(self.soql, self.include_deleted, self.today)
        compiled = inner.compile_parts(child.name, sub.paths, sub.clauses)
        return ChildQuery(fk.child_relationship, fk.name, compiled)

    def _semi_join(self, path: Path_, semi: SemiQuery, negate: bool) -> str:
        expr, f = self._expr(path)
        self.semi_joins += 1
        inner = Compiler(self.soql, False, self.today, alias=f"{self.alias}s{self.semi_joins}")
        inner.obj = _object(semi.sobject)
        inner_expr, inner_f = inner._expr(semi.path)
        if f.type not in ("id", "reference") or inner_f.type not in ("id", "reference"):
            raise ApiError(
                400,
                "MALFORMED_QUERY",
                "A semi-join or anti-join must compare an ID field with an ID or reference field",
            )
        where = f"{inner.alias}.IsDeleted = 0 AND {inner_expr} IS NOT NULL"
        if semi.where is not None:
            where += " AND (" + inner._cond(semi.where) + ")"
        inner_from = f'"{inner.obj.name}" {inner.alias}' + "".join(
            " " + j for j in inner.joins.values()
        )
        self.params.extend(inner.params)
        select = f"SELECT {inner_expr} FROM {inner_from} WHERE {where}"
        if negate:
            return f"({expr} IS NULL OR {expr} NOT IN ({select}))"
        return f"{expr} IN ({select})"

    # -- fields -----------------------------------------------------------------------------
    def _invalid(self, name: str):
        raise ApiError(
            400,
            "INVALID_FIELD",
            f"No such column '{name}' on entity '{self.obj.name}'. If you are attempting to use a "
            "custom field, be sure to append the '__c' after the custom field name.",
        )

    def _column(self, path: Path_) -> Column:
        parts = path.parts
        if len(parts) == 1:
            f = self.obj.field(parts[0])
            if f is None:
                self._invalid(parts[0])
            return Column(f, None, [f'{self.alias}."{f.name}"'])
        rel = self.obj.relationships.get(parts[0].lower())
        if rel is None:
            if self.obj.field(parts[0]) is None and parts[0].lower() != self.obj.name.lower():
                self._invalid(parts[0])
            if parts[0].lower() == self.obj.name.lower():  # Contact.Email on Contact
                return self._column(Path_((parts[1],)))
            self._invalid(".".join(parts))
        target_field = None
        sqls, targets = [], []
        for target in rel.reference_to:
            tobj = get_object(target)
            f = tobj.field(parts[1])
            alias = f"{self.alias}_r_{rel.relationship_name}_{tobj.name}"
            if alias not in self.joins:
                self.joins[alias] = (
                    f'LEFT JOIN "{tobj.name}" {alias} ON {alias}."Id" = {self.alias}."{rel.name}"'
                )
            targets.append(tobj.name)
            if f is None:
                sqls.append("NULL")
            else:
                target_field = target_field or f
                sqls.append(f'{alias}."{f.name}"')
        if target_field is None:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"No such column '{parts[1]}' on entity '{rel.reference_to[0]}'.",
            )
        return Column(target_field, rel, sqls, targets)

    def _expr(self, path: Path_) -> tuple[str, Field]:
        col = self._column(path)
        return self._column_expr(col), col.field

    @staticmethod
    def _column_expr(col: Column) -> str:
        real = [s for s in col.sql if s != "NULL"]
        return real[0] if len(real) == 1 else "COALESCE(" + ", ".join(real) + ")"

    def _order(self, items) -> str:
        parts = []
        for item in items:
            target = item.children[0]
            expr = self._agg_sql(target)[0] if isinstance(target, Agg) else self._expr(target)[0]
            direction = "ASC"
            nulls = None
            for extra in item.children[1:]:
                if isinstance(extra, Token):
                    direction = str(extra).upper()
                else:
                    nulls = str(extra.children[0]).upper()
            if nulls is None:
                nulls = "FIRST" if direction == "ASC" else "LAST"
            parts.append(f"{expr} {direction} NULLS {nulls}")
        return ", ".join(parts)


def _object(name: str) -> SObject:
    obj = get_object(name)
    if obj is None:
        raise ApiError(
            400,
            "INVALID_TYPE",
            f"sObject type '{name}' is not supported. If you are attempting to use a custom "
            "object, be sure to append the '__c' after the entity name.",
        )
    return obj


def compile_soql(soql: str, include_deleted: bool, today: dt.date) -> Compiled:
    return Compiler(soql, include_deleted, today).compile()
