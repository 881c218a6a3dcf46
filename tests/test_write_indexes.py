"""Every index is written by every insert: the tables ingestion fills carry none that no query
reads. Django gives each foreign key an index of its own; one that another index starts with is
already served by that one. (No pattern-ops copies: tests/test_mirror_indexes.py.)"""

import pytest
from django.db import connection

from activities.models import Activity, ActivityLog, ContactDecision, Participant
from integrations.outbox.models import OutboxItem

pytestmark = pytest.mark.django_db

WRITTEN_ON_INGEST = [Activity, Participant, ContactDecision, ActivityLog, OutboxItem]


def _indexes(model):
    """{index name: (columns in order, definition)} as PostgreSQL has them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [model._meta.db_table],
        )
        found = dict(cursor.fetchall())
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {
        name: (tuple(constraints[name]["columns"] or ()), definition)
        for name, definition in found.items()
    }


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the indexes are read from PostgreSQL's pg_indexes")


@pytest.mark.parametrize("model", WRITTEN_ON_INGEST, ids=lambda m: m.__name__)
def test_no_single_column_btree_that_another_index_starts_with(postgresql, model):
    indexes = _indexes(model)
    plain = {
        name: columns
        for name, (columns, definition) in indexes.items()
        if len(columns) == 1 and "USING btree" in definition and " WHERE " not in definition
    }
    covered = [
        name
        for name, columns in plain.items()
        for other, (other_columns, definition) in indexes.items()
        if other != name
        and " WHERE " not in definition
        and "USING btree" in definition
        and other_columns[: len(columns)] == columns
    ]
    assert covered == []


def test_the_lookups_that_need_an_index_keep_one(postgresql):
    """Re-matching by domain, the outbox by crmbridge_id, logs by their ids, decisions by e-mail,
    each activity's participants, each owner's activities."""
    wanted = {
        Participant: [("domain",), ("activity_id", "email")],
        OutboxItem: [("crmbridge_id",)],
        ActivityLog: [("crmbridge_id",), ("sf_id",)],
        ContactDecision: [("email", "decided_at")],
        Activity: [("owner_id", "occurred_at")],
    }
    for model, column_sets in wanted.items():
        have = {columns for columns, _ in _indexes(model).values()}
        assert [c for c in column_sets if c not in have] == [], model.__name__
