"""Salesforce -> the rep's address book, against a real CardDAV server (Radicale)."""

import pytest
import requests
import vobject

from accounts.models import Contact
from integrations.addressbooks.carddav import CardDavClient
from integrations.addressbooks.models import AddressBook
from integrations.outbox.models import OutboxItem
from tests.addressbooks.conftest import Phone


def contact_in_salesforce(sf_org, world, **fields):
    data = {"FirstName": "Jane", "LastName": "Doe", "OwnerId": world["rep_id"], **fields}
    return sf_org.insert("Contact", data)


@pytest.mark.django_db
def test_the_first_sync_fills_a_new_salesforce_contacts_address_book(
    sf_org, world, salesforce_sync, book, sync_book, radicale_user
):
    acme = world["accounts"]["Acme"].sf_id
    jane = contact_in_salesforce(
        sf_org,
        world,
        Email="jane@acme.com",
        Title="VP Sales",
        Phone="+1 555 0100",
        Department="Sales",
        MailingCountry="Germany",
        AccountId=acme,
    )
    contact_in_salesforce(sf_org, world, FirstName="Bob", LastName="Stone", AccountId=acme)
    contact_in_salesforce(sf_org, world, FirstName="Other", LastName="Owner", OwnerId=None)
    # The rep's own address book, which crmbridge must never touch.
    client = CardDavClient(radicale_user.url, radicale_user.username, radicale_user.password)
    personal = client.address_book_create(client.home_url(), "Personal")
    Phone(radicale_user, personal).put(
        "mum.vcf", "BEGIN:VCARD\nVERSION:3.0\nUID:mum\nFN:Mum\nN:;Mum;;;\nEND:VCARD\n"
    )
    salesforce_sync()

    run = sync_book(book)

    assert run.state == "succeeded", run.message
    assert run.counts["to_address_book"]["created"] == 2
    books = client.address_books(client.home_url())
    assert books[book.collection_url] == "Salesforce Contacts"
    cards = Phone(radicale_user, book.collection_url).cards()
    parsed = {vobject.readOne(text).fn.value: vobject.readOne(text) for text in cards.values()}
    assert set(parsed) == {"Jane Doe", "Bob Stone"}
    card = parsed["Jane Doe"]
    assert card.uid.value == jane
    assert card.contents["x-salesforce-id"][0].value == jane
    assert (card.n.value.family, card.n.value.given) == ("Doe", "Jane")
    assert card.email.value == "jane@acme.com"
    assert card.tel.value == "+1 555 0100"
    assert card.title.value == "VP Sales"
    assert card.org.value == ["Acme", "Sales"]
    assert card.adr.value.country == "Germany"
    assert list(Phone(radicale_user, personal).cards().values())[0].count("Mum") == 2


@pytest.mark.django_db
def test_a_second_run_changes_nothing_and_makes_one_request(
    sf_org, world, salesforce_sync, book, sync_book
):
    for n in range(3):
        contact_in_salesforce(sf_org, world, LastName=f"Doe{n}", Email=f"d{n}@acme.com")
    salesforce_sync()
    sync_book(book)
    salesforce_calls, waiting = sf_org.api_used, OutboxItem.objects.count()

    again = sync_book(book)

    assert again.state == "succeeded"
    assert all(v == 0 for side in again.counts.values() for v in side.values()), again.counts
    assert again.requests == 1
    assert (sf_org.api_used, OutboxItem.objects.count()) == (salesforce_calls, waiting)
    assert not Contact.objects.filter(created_by_crmbridge=True).exists()


@pytest.mark.django_db
def test_an_edit_in_salesforce_updates_the_card_in_place(
    sf_org, world, salesforce_sync, book, sync_book, phone
):
    jane = contact_in_salesforce(sf_org, world, Email="jane@acme.com", Title="Manager")
    salesforce_sync()
    sync_book(book)
    href, _ = phone.card_with("jane@acme.com")

    sf_org.update("Contact", jane, {"Title": "Director", "Phone": "+44 20 7946 0000"})
    salesforce_sync()
    run = sync_book(book)

    assert run.counts["to_address_book"]["updated"] == 1
    assert list(phone.cards()) == [href]
    card = vobject.readOne(phone.cards()[href])
    assert (card.title.value, card.tel.value) == ("Director", "+44 20 7946 0000")


@pytest.mark.django_db
def test_a_contact_deleted_in_salesforce_or_leaving_the_view_loses_its_card(
    sf_org, world, salesforce_sync, book, sync_book, phone, other_rep
):
    jane = contact_in_salesforce(sf_org, world, Email="jane@acme.com")
    contact_in_salesforce(sf_org, world, FirstName="Bob", LastName="Stone", Email="bob@acme.com")
    salesforce_sync()
    sync_book(book)
    assert len(phone.cards()) == 2

    sf_org.delete("Contact", jane)
    salesforce_sync()
    run = sync_book(book)
    assert run.counts["to_address_book"]["deleted"] == 1
    (only,) = phone.cards().values()
    assert "bob@acme.com" in only

    # A view of chosen Accounts: Bob has no Account, so he leaves it.
    book.view = AddressBook.View.ACCOUNTS
    book.save()
    book.accounts.set([world["accounts"]["Acme"]])
    sync_book(book)
    assert phone.cards() == {}


@pytest.mark.django_db
def test_a_wrong_password_is_a_clear_error_on_the_address_book(
    world, rep_user, radicale_user, sync_book, api_as
):
    from integrations.addressbooks.services import address_book_create

    book = address_book_create(
        owner=rep_user, url=radicale_user.url, username=radicale_user.username, secret="wrong"
    )

    run = sync_book(book)

    assert run.state == "failed"
    assert "refused the user name or password" in run.message
    assert "refused the user name or password" in book.last_error
    shown = api_as(rep_user).get(f"/api/v1/address-books/{book.pk}/").json()
    assert "refused the user name or password" in shown["last_error"]
    assert requests.get(radicale_user.url).status_code in (200, 302, 401)


@pytest.mark.django_db
def test_the_url_given_may_be_the_address_book_itself(
    sf_org, world, salesforce_sync, rep_user, radicale_user, sync_book
):
    from integrations.addressbooks.services import address_book_create

    client = CardDavClient(radicale_user.url, radicale_user.username, radicale_user.password)
    work = client.address_book_create(client.home_url(), "Work contacts")
    contact_in_salesforce(sf_org, world, Email="jane@acme.com")
    salesforce_sync()
    book = address_book_create(
        owner=rep_user, url=work, username=radicale_user.username, secret=radicale_user.password
    )

    run = sync_book(book)

    assert run.state == "succeeded", run.message
    assert book.collection_url == work
    assert list(client.address_books(client.home_url()).values()) == ["Work contacts"]
    (card,) = Phone(radicale_user, work).cards().values()
    assert "jane@acme.com" in card


@pytest.mark.django_db
def test_the_my_accounts_view_shows_the_contacts_of_the_reps_accounts(
    sf_org, world, salesforce_sync, book, sync_book, phone
):
    colleague = sf_org.insert("User", {"Name": "Cole", "Email": "cole@x.example"})
    theirs = world["account"]("Theirs Inc", owner=None)
    contact_in_salesforce(
        sf_org,
        world,
        LastName="AtAcme",
        OwnerId=colleague,
        AccountId=world["accounts"]["Acme"].sf_id,
    )
    contact_in_salesforce(sf_org, world, LastName="Mine", AccountId=theirs.sf_id)
    salesforce_sync()
    assert {c.last_name for c in Contact.objects.all()} == {"AtAcme", "Mine"}

    book.view = AddressBook.View.MY_ACCOUNTS
    book.save()
    sync_book(book)

    (card,) = phone.cards().values()
    assert "AtAcme" in card
