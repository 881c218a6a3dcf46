"""Trigram index for the feed's search by part of a participant's address (PostgreSQL only).

A one-word search also matches ``participants__email__icontains``, which PostgreSQL runs as
``UPPER(email::text) LIKE UPPER('%term%')``; without this index that side scanned every
participant. Like 0007 the index is not on the model, so SQLite never sees it.
"""

from django.db import migrations

INDEX = "participant_email_trgm_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON activities_participant "
            "USING gin ((UPPER(email::text)) gin_trgm_ops)"
        )
        # Statistics of the indexed expression now, not at the next auto-analyze: until then
        # the planner guesses every address search is rare and collects all the matches of a
        # common one (seconds at millions of participants) instead of walking the feed.
        schema_editor.execute("ANALYZE activities_participant")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0007_activity_subject_trigram_index"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
