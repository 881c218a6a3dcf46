"""The schedule at the sync interval, and servers without sync-collection (ETags instead)."""

import pytest
from django_q.models import Schedule

from crmbridge.services import global_settings_update
from integrations.addressbooks import tasks
from integrations.addressbooks.carddav import CardDavClient, CardDavError
from integrations.addressbooks.models import AddressBookRun
from integrations.addressbooks.schedule import SCHEDULE, address_books_schedule_ensure
from integrations.addressbooks.services import address_book_run_execute


@pytest.mark.django_db
def test_the_address_books_sync_on_the_sync_interval(
    sf_org, world, book, salesforce_sync, django_capture_on_commit_callbacks
):
    sf_org.insert(
        "Contact", {"LastName": "Doe", "Email": "jane@acme.com", "OwnerId": world["rep_id"]}
    )
    salesforce_sync()
    assert Schedule.objects.get(name=SCHEDULE).minutes == 30  # made after migrate

    with django_capture_on_commit_callbacks(execute=True):
        global_settings_update(changes={"sync_interval_minutes": 10})
    states = tasks.address_books_sync_scheduled()

    assert states == ["succeeded"]
    assert book.runs.get().counts["to_address_book"]["created"] == 1
    assert Schedule.objects.get(name=SCHEDULE).minutes == 10
    address_books_schedule_ensure()
    assert Schedule.objects.filter(name=SCHEDULE).count() == 1


@pytest.mark.django_db
def test_a_disabled_address_book_is_not_synced(book):
    book.enabled = False
    book.save()
    assert tasks.address_books_sync_scheduled() == []


class WithoutSyncCollection(CardDavClient):
    """A server that answers sync-collection with 501, as some CardDAV servers do."""

    def sync_collection(self, book, token):
        self.requests_made += 1
        raise CardDavError("REPORT answered 501.", status=501)


@pytest.mark.django_db
def test_without_sync_collection_changes_are_found_by_etag(
    sf_org, world, book, phone, salesforce_sync, radicale_user
):
    jane = sf_org.insert(
        "Contact", {"LastName": "Doe", "Email": "jane@acme.com", "OwnerId": world["rep_id"]}
    )
    salesforce_sync()

    def run():
        client = WithoutSyncCollection(book.url, book.username, book.secret)
        result = address_book_run_execute(
            run=AddressBookRun.objects.create(address_book=book), client=client
        )
        book.refresh_from_db()
        return result

    assert run().counts["to_address_book"]["created"] == 1
    quiet = run()
    assert sum(sum(side.values()) for side in quiet.counts.values()) == 0
    assert quiet.requests == 2  # the refused REPORT, one PROPFIND of the ETags

    href, text = phone.card_with("jane@acme.com")
    phone.replace(href, text.replace("END:VCARD", "TITLE:Buyer\r\nEND:VCARD"))
    assert run().counts["to_salesforce"]["updated"] == 1
    salesforce_sync()
    assert sf_org.get("Contact", jane)["Title"] == "Buyer"
    phone.delete(href)
    assert run().counts["to_address_book"]["restored"] == 1
