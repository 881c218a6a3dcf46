from datetime import UTC, datetime

import pytest

from accounts.models import Account, Contact
from crmbridge.bulk import rows_insert, rows_update_values
from integrations.outbox.models import OutboxItem
from integrations.sync.models import PulledValues

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


def test_rows_insert_fills_defaults_and_keeps_types():
    at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    account = Account.objects.create(name="Acme")
    sent = rows_insert(
        model=Contact,
        rows=[
            {"sf_id": "003A", "last_name": "Ada", "account_id": account.pk, "sf_modstamp": at},
            {"sf_id": "003B", "last_name": "Bob", "department": None, "is_deleted": True},
        ],
    )
    assert sent == 2
    ada, bob = Contact.objects.order_by("sf_id")
    assert (ada.account, ada.sf_modstamp, ada.title, ada.created_by_crmbridge) == (
        account,
        at,
        "",
        False,
    )
    assert ada.local_modified_at is not None  # auto_now
    assert (bob.is_deleted, bob.department, bob.account) == (True, None, None)


def test_rows_insert_can_update_the_rows_whose_key_exists():
    PulledValues.objects.create(sobject="Contact", sf_id="003A", values={"title": "old"})
    rows_insert(
        model=PulledValues,
        rows=[
            {"sobject": "Contact", "sf_id": "003A", "values": {"title": "new"}},
            {"sobject": "Contact", "sf_id": "003B", "values": {}},
        ],
        conflict=("sf_id",),
        update=("values",),
    )
    assert dict(PulledValues.objects.values_list("sf_id", "values")) == {
        "003A": {"title": "new"},
        "003B": {},
    }
