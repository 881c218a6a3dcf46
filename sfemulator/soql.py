"""SOQL subset: parsed with lark (grammar in soql.lark), translated to parameterised SQLite SQL.

Values from the query text never reach the SQL string; they are always bound parameters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import LarkError, VisitError

from . import ids
from .errors import ApiError
from .schema import Field, SObject, get_object
from .values import format_datetime, parse_datetime

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
    op: str  # and, or, not, cmp, like, in, notin
    args: list = field(default_factory=list)


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


def parse(soql: str):
    try:
        tree = _PARSER.parse(soql)
    except LarkError as exc:
        raise ApiError(400, "MALFORMED_QUERY", _short(soql, exc)) from None
    return tree


def _short(soql: str, exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"unexpected token in query: {text}"


class Compiler:
    def __init__(self, soql: str, include_deleted: bool, today: dt.date):
        self.soql = soql
        self.include_deleted = include_deleted
        self.today = today
        self.joins: dict[str, str] = {}
        self.params: list = []

    def compile(self) -> Compiled:
        tree = parse(self.soql)
        try:
            ast = _ToAst().transform(tree)
        except VisitError as exc:  # pragma: no cover - transformer bugs
            raise ApiError(400, "MALFORMED_QUERY", str(exc.orig_exc)) from None
        children = ast.children
        select_list, obj_tok = children[0], children[1]
        obj = get_object(str(obj_tok))
        if obj is None:
            raise ApiError(
                400,
                "INVALID_TYPE",
                f"sObject type '{obj_tok}' is not supported. If you are attempting to use a custom "
                "object, be sure to append the '__c' after the entity name.",
            )
        self.obj = obj
        count = False
        columns: list[Column] = []
        seen = set()
        for item in select_list.children:
            if isinstance(item, Tree) and item.data == "count_all":
                count = True
                continue
            col = self._column(item)
            key = (col.rel.name if col.rel else None, col.field.name)
            if key not in seen:
                seen.add(key)
                columns.append(col)
        if count and columns:
            raise ApiError(400, "MALFORMED_QUERY", "COUNT() cannot be combined with other fields")
        where_parts = [] if self.include_deleted else ["t.IsDeleted = 0"]
        order_sql = ""
        limit = offset = None
        for clause in children[2:]:
            if clause.data == "where_clause":
                where_parts.append("(" + self._cond(clause.children[0]) + ")")
            elif clause.data == "order_clause":
                order_sql = self._order(clause.children)
            elif clause.data == "limit_clause":
                limit = int(clause.children[0])
            elif clause.data == "offset_clause":
                offset = int(clause.children[0])
                if offset > 2000:
                    raise ApiError(400, "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset is 2000")
        from_sql = f'"{obj.name}" t' + "".join(" " + j for j in self.joins.values())
        return Compiled(
            sobject=obj,
            count=count,
            columns=columns,
            from_sql=from_sql,
            where_sql=" AND ".join(where_parts) or "1=1",
            params=self.params,
            order_sql=order_sql,
            limit=limit,
            offset=offset,
        )

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
            return Column(f, None, [f't."{f.name}"'])
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
            alias = f"r_{rel.relationship_name}_{tobj.name}"
            if alias not in self.joins:
                self.joins[alias] = (
                    f'LEFT JOIN "{tobj.name}" {alias} ON {alias}."Id" = t."{rel.name}"'
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
        real = [s for s in col.sql if s != "NULL"]
        expr = real[0] if len(real) == 1 else "COALESCE(" + ", ".join(real) + ")"
        return expr, col.field

    # -- conditions -------------------------------------------------------------------------
    def _cond(self, node) -> str:
        if node.op == "and":
            return " AND ".join("(" + self._cond(a) + ")" for a in node.args)
        if node.op == "or":
            return " OR ".join("(" + self._cond(a) + ")" for a in node.args)
        if node.op == "not":
            return "NOT (" + self._cond(node.args[0]) + ")"
        expr, f = self._expr(node.args[0])
        if node.op == "cmp":
            _, op, lit = node.args
            return self._compare(expr, f, op, lit)
        if node.op == "like":
            lit = node.args[1]
            if lit.kind != "string":
                raise ApiError(400, "MALFORMED_QUERY", "LIKE operator requires a string value")
            self.params.append(lit.value)
            return f"{expr} LIKE ? ESCAPE '\\'"
        if node.op in ("in", "notin"):
            values = [self._value(f, lit) for lit in node.args[1]]
            if any(v is None for v in values):
                non_null = [v for v in values if v is not None]
                marks = ",".join("?" * len(non_null))
                self.params.extend(non_null)
                inner = f"{expr} IS NULL" + (f" OR {expr} IN ({marks})" if non_null else "")
            else:
                marks = ",".join("?" * len(values))
                self.params.extend(values)
                inner = f"{expr} IN ({marks})"
            if node.op == "in":
                return inner
            return (
                f"NOT ({inner})"
                if any(v is None for v in values)
                else (f"({expr} IS NULL OR NOT ({inner}))")
            )
        raise ApiError(400, "MALFORMED_QUERY", "unsupported condition")  # pragma: no cover

    def _compare(self, expr: str, f: Field, op: str, lit: Literal) -> str:
        op = "!=" if op == "<>" else op
        if lit.kind == "date_literal":
            lo, hi = self._date_range(f, lit.value)
            self.params.extend([lo, hi])
            return {
                "=": f"({expr} >= ? AND {expr} < ?)",
                "!=": f"({expr} IS NULL OR NOT ({expr} >= ? AND {expr} < ?))",
            }.get(op) or self._range_op(expr, op, lo, hi)
        value = self._value(f, lit)
        if value is None:
            if op == "=":
                return f"{expr} IS NULL"
            if op == "!=":
                return f"{expr} IS NOT NULL"
            raise ApiError(400, "MALFORMED_QUERY", f"invalid operator on null: {op}")
        self.params.append(value)
        if op == "!=":
            return f"({expr} IS NULL OR {expr} != ?)"
        return f"{expr} {op} ?"

    def _range_op(self, expr, op, lo, hi) -> str:
        self.params.pop()
        self.params.pop()
        bound = {"<": lo, "<=": hi, ">": hi, ">=": lo}[op]
        sql_op = {"<": "<", "<=": "<", ">": ">=", ">=": ">="}[op]
        self.params.append(bound)
        return f"{expr} {sql_op} ?"

    def _date_range(self, f: Field, lit: str):
        today = self.today
        if lit == "TODAY":
            lo, hi = today, today + dt.timedelta(days=1)
        elif lit == "YESTERDAY":
            lo, hi = today - dt.timedelta(days=1), today
        elif lit == "TOMORROW":
            lo, hi = today + dt.timedelta(days=1), today + dt.timedelta(days=2)
        else:
            name, n = lit.split(":")
            n = int(n)
            if name == "LAST_N_DAYS":
                lo, hi = today - dt.timedelta(days=n), today + dt.timedelta(days=1)
            else:
                lo, hi = today + dt.timedelta(days=1), today + dt.timedelta(days=n + 1)
        if f.type == "datetime":
            to_dt = lambda d: format_datetime(  # noqa: E731
                dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
            )
            return to_dt(lo), to_dt(hi)
        if f.type == "date":
            return lo.isoformat(), hi.isoformat()
        raise ApiError(
            400, "INVALID_FIELD", f"{f.name}: date literals need a date or datetime field"
        )

    def _value(self, f: Field, lit: Literal):
        if lit.kind == "null":
            return None
        t = f.type
        if t == "boolean":
            if lit.kind not in ("true", "false"):
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    _criterion(f, "boolean", quoted=False),
                )
            return 1 if lit.value else 0
        if t in ("id", "reference"):
            if lit.kind != "string":
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"value of filter criterion for field '{f.name}' must be of type id",
                )
            try:
                return ids.to18(lit.value)
            except ids.MalformedId:
                raise ApiError(
                    400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {lit.value}"
                ) from None
        if t == "datetime":
            if lit.kind != "datetime":
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    _criterion(f, "dateTime", quoted=False),
                )
            return format_datetime(parse_datetime(lit.value))
        if t == "date":
            if lit.kind != "date":
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    _criterion(f, "date", quoted=False),
                )
            return lit.value
        if t in ("int", "double"):
            if lit.kind != "number":
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"value of filter criterion for field '{f.name}' must be a number",
                )
            return lit.value
        if lit.kind != "string":
            raise ApiError(
                400,
                "INVALID_FIELD",
                _criterion(f, "string", quoted=True),
            )
        return lit.value

    def _order(self, items) -> str:
        parts = []
        for item in items:
            path = item.children[0]
            expr, _ = self._expr(path)
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


def _criterion(f: Field, type_name: str, quoted: bool) -> str:
    return (
        f"value of filter criterion for field '{f.name}' must be of type {type_name} and should "
        + ("" if quoted else "not ")
        + "be enclosed in quotes"
    )


def compile_soql(soql: str, include_deleted: bool, today: dt.date) -> Compiled:
    return Compiler(soql, include_deleted, today).compile()
