"""A migration operation that takes the `_like` index copies away without rebuilding anything.

On PostgreSQL Django gives a CharField with ``unique=True`` or ``db_index=True`` a second index,
``<name>_like`` with ``varchar_pattern_ops``, for ``LIKE 'prefix%'`` (``startswith``) lookups.
crmbridge makes none on those columns, and every row written pays for the copy (a first pull of a
million Contacts wrote three of them). A ``models.UniqueConstraint`` or a ``models.Index`` in
``Meta`` makes the same B-tree without the copy.

Done as makemigrations writes it (AlterField to a plain field, then AddConstraint / AddIndex), a
migration would drop the unique constraint and the index and build them again over every row,
holding the table locked meanwhile. ``LikeIndexesDropped`` takes those operations as they are for
the migration state, and on PostgreSQL does only what differs in the database: the existing
constraint or index is renamed to the name the model now gives it (nothing is rebuilt) and the
``_like`` copy is dropped. Other databases (SQLite: tests and the demo) run the operations as
they are.
"""

from django.db import migrations, models


def _truncate(name: str, connection) -> str:
    return name[: connection.ops.max_name_length()]


class LikeIndexesDropped(migrations.SeparateDatabaseAndState):
    """``operations``: for each field, an AlterField that leaves it neither unique nor indexed,
    and the AddConstraint (one-field UniqueConstraint) or AddIndex (one-field Index) that
    replaces what it had."""

    def __init__(self, operations):
        for op in operations:
            if isinstance(op, migrations.AlterField):
                assert not (op.field.unique or op.field.db_index), op
            elif isinstance(op, migrations.AddConstraint):
                c = op.constraint
                assert isinstance(c, models.UniqueConstraint), op
                assert len(c.fields) == 1 and not (c.condition or c.expressions or c.include), op
            elif isinstance(op, migrations.AddIndex):
                i = op.index
                assert len(i.fields) == 1 and not (i.condition or i.expressions or i.opclasses), op
                assert not i.fields[0].startswith("-"), op
            else:
                raise AssertionError(f"not an operation LikeIndexesDropped knows: {op}")
        super().__init__(database_operations=operations, state_operations=operations)
        self.operations = operations

    def deconstruct(self):
        return self.__class__.__qualname__, [], {"operations": self.operations}

    def describe(self):
        return "Unique constraints and indexes in Meta instead of unique/db_index (no _like copy)"

    def _targets(self, app_label, state):
        """(table, column, wanted name, unique) for each AddConstraint / AddIndex, from `state`
        (the state the operations lead to)."""
        for op in self.operations:
            if isinstance(op, migrations.AddConstraint):
                name, field_name, unique = op.constraint.name, op.constraint.fields[0], True
            elif isinstance(op, migrations.AddIndex):
                name, field_name, unique = op.index.name, op.index.fields[0], False
            else:
                continue
            model = state.apps.get_model(app_label, op.model_name)
            column = model._meta.get_field(field_name).column
            yield model, column, name, unique

    @staticmethod
    def _existing(schema_editor, table, column, *, unique, like):
        """Name of the one index on just `column`: the unique one, or the plain (or `_like`)
        one."""
        with schema_editor.connection.cursor() as cursor:
            found = schema_editor.connection.introspection.get_constraints(cursor, table)
        names = [
            name
            for name, info in found.items()
            if info["columns"] == [column]
            and not info["primary_key"]
            and (
                info["unique"]  # a UNIQUE constraint: PostgreSQL lists it without "index"
                if unique
                else info["index"] and not info["unique"] and name.endswith("_like") == like
            )
        ]
        if len(names) > 1:
            raise RuntimeError(f"{table}.{column}: more than one index to rename: {names}")
        return names[0] if names else None

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        qn = schema_editor.quote_name
        for model, column, name, unique in self._targets(app_label, to_state):
            table = model._meta.db_table
            old = self._existing(schema_editor, table, column, unique=unique, like=False)
            if old is None:
                raise RuntimeError(f"{table}.{column}: no index to keep as {name}")
            if old != name and unique:
                schema_editor.execute(
                    f"ALTER TABLE {qn(table)} RENAME CONSTRAINT {qn(old)} TO {qn(name)}"
                )
            elif old != name:
                schema_editor.execute(f"ALTER INDEX {qn(old)} RENAME TO {qn(name)}")
            like = self._existing(schema_editor, table, column, unique=False, like=True)
            if like is not None:
                schema_editor.execute(f"DROP INDEX {qn(like)}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        qn = schema_editor.quote_name
        for model, column, name, unique in self._targets(app_label, from_state):
            table = model._meta.db_table
            old_model = to_state.apps.get_model(app_label, model._meta.model_name)
            field = next(f for f in old_model._meta.local_fields if f.column == column)
            if unique:  # as CREATE TABLE names a column's UNIQUE
                back = _truncate(f"{table}_{column}_key", schema_editor.connection)
                if back != name:
                    schema_editor.execute(
                        f"ALTER TABLE {qn(table)} RENAME CONSTRAINT {qn(name)} TO {qn(back)}"
                    )
            else:  # as db_index=True names it
                back = schema_editor._create_index_name(table, [column])
                schema_editor.execute(f"ALTER INDEX {qn(name)} RENAME TO {qn(back)}")
            like = schema_editor._create_like_index_sql(old_model, field)
            if like is not None:
                schema_editor.execute(like)
