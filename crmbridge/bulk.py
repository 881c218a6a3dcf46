"""Set different values on many rows with one UPDATE joined to a VALUES list.

Django's ``bulk_update`` writes ``CASE WHEN pk = 1 THEN ... WHEN pk = 2 THEN ...`` once per
field; building and planning that costs more than the write itself for a few hundred rows.
A join against ``(VALUES (pk, value, ...), ...)`` is one short statement on PostgreSQL and on
SQLite (3.33+); columns of a VALUES list are named column1, column2, ... on both.
"""

from django.db import connections, router

CHUNK = 500


def rows_update_values(*, model, fields: list[str], rows: list[tuple]) -> int:
    """``rows`` holds ``(pk, value_of_fields[0], value_of_fields[1], ...)``; each row gets its
    own values. Returns how many rows were updated."""
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    meta = model._meta
    pk_field = meta.pk
    columns = [meta.get_field(name) for name in fields]
    assignments = ", ".join(
        f"{qn(f.column)} = {_typed(f'v.column{i + 2}', f, connection)}"
        for i, f in enumerate(columns)
    )
    marks = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    table = qn(meta.db_table)
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params = []
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
