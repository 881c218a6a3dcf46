"""SOQL WHERE conditions, translated to SQLite with bound parameters."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from . import ids
from .errors import ApiError
from .schema import Field
from .values import format_datetime, parse_datetime

if TYPE_CHECKING:
    from .soql import Literal


class Conditions:
    """Mixed into the SOQL compiler: needs ``_expr``, ``_semi_join``, ``params`` and ``today``."""

    # -- conditions -------------------------------------------------------------------------
    def _cond(self, node) -> str:
        if node.op == "and":
            return " AND ".join("(" + self._cond(a) + ")" for a in node.args)
        if node.op == "or":
            return " OR ".join("(" + self._cond(a) + ")" for a in node.args)
        if node.op == "not":
            return "NOT (" + self._cond(node.args[0]) + ")"
        if node.op in ("insub", "notinsub"):
            return self._semi_join(node.args[0], node.args[1], negate=node.op == "notinsub")
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


def _criterion(f: Field, type_name: str, quoted: bool) -> str:
    return (
        f"value of filter criterion for field '{f.name}' must be of type {type_name} and should "
        + ("" if quoted else "not ")
        + "be enclosed in quotes"
    )
