"""Trigram index for the feed's subject search (PostgreSQL only; SQLite scans, as before).

The admin searches ``subject__icontains``, which PostgreSQL runs as
``UPPER(subject::text) LIKE UPPER('%term%')``: an index on that expression with gin_trgm_ops
serves it. The index is not declared on the model, so SQLite never sees it.
"""

from django.db import migrations

INDEX = "activity_subject_trgm_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # The extension only where it exists: Django's TrigramExtension queries pg_extension
        # even when unapplied on SQLite.
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON activities_activity "
            "USING gin ((UPPER(subject::text)) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0006_meeting_end_organizer_response"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
