"""Upgrading a database where a rep already has several address books: they keep one (the
enabled one that synced last), the others go, and every other rep's book is untouched."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from integrations.addressbooks.models import AddressBook

# It unapplies and re-applies migrations: its own xdist group, like tests/test_migrations.py.
pytestmark = [
    pytest.mark.xdist_group("migrations"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BEFORE = [("addressbooks", "0001_initial")]
WHEN = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_a_rep_with_several_address_books_keeps_the_enabled_one_synced_last(
    django_user_model, capsys
):
    rex = django_user_model.objects.create(username="rex")
    rita = django_user_model.objects.create(username="rita")
    old = _migrate(BEFORE)
    Book = old.get_model("addressbooks", "AddressBook")
    Card = old.get_model("addressbooks", "AddressBookCard")

    def book(owner, **fields):
        return Book.objects.create(
            owner_id=owner.pk, url="https://dav.example.com/", username=owner.username, **fields
        )

    disabled_newest = book(rex, enabled=False, last_synced_at=WHEN + dt.timedelta(hours=2))
    never_synced = book(rex)
    synced_last = book(rex, last_synced_at=WHEN + dt.timedelta(hours=1))
    synced_earlier = book(rex, last_synced_at=WHEN)
    Card.objects.create(address_book=synced_earlier, href="/c/1.vcf", uid="1")
    ritas = book(rita)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("addressbooks"))

    assert sorted(AddressBook.objects.values_list("pk", flat=True)) == sorted(
        [synced_last.pk, ritas.pk]
    )
    removed = capsys.readouterr().out
    for gone in (disabled_newest, never_synced, synced_earlier):
        assert f"address book {gone.pk} " in removed
    assert not Card.objects.filter(address_book_id=synced_earlier.pk).exists()
