from datetime import UTC, datetime

import pytest

from crmbridge.bulk import rows_update_values
from integrations.outbox.models import OutboxItem

pytestmark = pytest.mark.django_db


def _item(n):
    return OutboxItem.objects.create(
        sobject="Contact", operation="upsert", crmbridge_id=f"c{n}", payload={"n": n}
    )


def test_it_gives_each_row_its_own_values_and_leaves_others_alone():
    first, second, untouched = _item(1), _item(2), _item(3)
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)

    updated = rows_update_values(
        model=OutboxItem,
        fields=["sf_id", "sent_at", "payload", "claimed_at"],
        rows=[(first.pk, "003A", at, {"x": [1]}, None), (second.pk, "003B", None, {}, at)],
    )

    assert updated == 2
    first.refresh_from_db()
    second.refresh_from_db()
    untouched.refresh_from_db()
    assert (first.sf_id, first.sent_at, first.payload, first.claimed_at) == (
        "003A",
        at,
        {"x": [1]},
        None,
    )
    assert (second.sf_id, second.sent_at, second.payload, second.claimed_at) == (
        "003B",
        None,
        {},
        at,
    )
    assert (untouched.sf_id, untouched.payload) == ("", {"n": 3})


def test_it_does_nothing_without_rows():
    assert rows_update_values(model=OutboxItem, fields=["sf_id"], rows=[]) == 0
