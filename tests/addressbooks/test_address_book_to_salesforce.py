"""The rep's address book -> Salesforce: new cards, edits, deletions and conflicts (Radicale)."""

import pytest
import vobject

from accounts.models import Contact
from integrations.sync.models import Conflict, SyncSettings
from tests.addressbooks.conftest import vcard


@pytest.fixture
def jane_on_the_phone(sf_org, world, book, phone, sync_book, salesforce_sync):
    """Jane, the rep's Contact in Salesforce, and her card on the rep's phone: (Id, href)."""
    jane = sf_org.insert(
        "Contact", {"LastName": "Doe", "Email": "jane@acme.com", "OwnerId": world["rep_id"]}
    )
    salesforce_sync()
    sync_book(book)
    href, _ = phone.card_with("jane@acme.com")
    return jane, href


def salesforce_contact(sf_org, email):
    (row,) = [c for c in sf_org.rows("Contact") if c["Email"] == email]
    return row


@pytest.mark.django_db
def test_a_new_card_becomes_a_contact_of_the_account_its_domain_names(
    sf_org, world, book, phone, sync_book, salesforce_sync
):
    phone.put(
        "jane.vcf",
        vcard(
            "UID:jane-1",
            "FN:Jane Doe",
            "N:Doe;Jane;;;",
            "EMAIL:jane@acme.com",
            "ORG:Globex",
            "TITLE:CTO",
        ),
    )

    run = sync_book(book)
    salesforce_sync()

    assert run.counts["to_salesforce"]["created"] == 1
    jane = salesforce_contact(sf_org, "jane@acme.com")
    assert (jane["FirstName"], jane["LastName"], jane["Title"]) == ("Jane", "Doe", "CTO")
    assert jane["AccountId"] == world["accounts"]["Acme"].sf_id  # the domain before the name
    assert jane["OwnerId"] == world["rep_id"]
    # The next sync gives the card its Contact's Id and Account name, and nothing is duplicated.
    sync_book(book)
    (card,) = phone.cards().values()
    card = vobject.readOne(card)
    assert card.uid.value == "jane-1"
    assert card.contents["x-salesforce-id"][0].value == jane["Id"]
    assert card.org.value == ["Acme"]
    assert Contact.objects.filter(email="jane@acme.com").count() == 1
    assert len(sf_org.rows("Contact")) == 1


@pytest.mark.django_db
def test_a_card_with_a_company_name_only_links_the_right_account(
    sf_org, world, book, phone, sync_book, salesforce_sync, admin_client
):
    account = world["account"]
    account("Initech Corporation", created="2019-01-01")
    earliest = account("Hooli", created="2018-05-01")
    account("HOOLI", created="2021-05-01")
    account("hooli", created=None)  # not known when: never "the earliest", on any database
    account("Umbrella Corp")
    account("Umbrella Health")
    people = {
        "exact": "Hooli",
        "substring": "initech",
        "ambiguous": "Umbrella",
        "unknown": "Nowhere Ltd",
    }
    for last, company in people.items():
        phone.put(
            f"{last}.vcf",
            vcard(
                f"UID:{last}",
                f"N:{last};Pat;;;",
                f"FN:Pat {last}",
                f"EMAIL:pat.{last}@gmail.com",
                f"ORG:{company}",
            ),
        )

    sync_book(book)
    salesforce_sync()

    linked = {c.last_name: c.account for c in Contact.objects.select_related("account")}
    assert linked["exact"] == earliest
    assert linked["substring"] == world["accounts"]["Initech Corporation"]
    assert linked["ambiguous"] is None
    assert linked["unknown"] is None
    orphans = admin_client.get("/admin/accounts/orphancontact/").content.decode()
    assert "Pat ambiguous" in orphans and "Pat unknown" in orphans and "Pat exact" not in orphans
    in_salesforce = {c["LastName"]: c["AccountId"] for c in sf_org.rows("Contact")}
    assert in_salesforce["exact"] == earliest.sf_id
    assert in_salesforce["ambiguous"] is None


@pytest.mark.django_db
def test_an_edit_on_the_card_updates_the_contact_without_blanking_a_value(
    sf_org, world, book, phone, sync_book, salesforce_sync
):
    jane = sf_org.insert(
        "Contact",
        {
            "FirstName": "Jane",
            "LastName": "Doe",
            "Email": "jane@acme.com",
            "Title": "Manager",
            "Phone": "+1 555 0100",
            "OwnerId": world["rep_id"],
        },
    )
    salesforce_sync()
    sync_book(book)
    href, text = phone.card_with("jane@acme.com")

    card = vobject.readOne(text)
    card.tel.value = "+1 555 0199"
    card.remove(card.title)  # a blank never blanks Salesforce
    phone.replace(href, card.serialize())
    run = sync_book(book)
    salesforce_sync()

    assert run.counts["to_salesforce"]["updated"] == 1
    row = sf_org.get("Contact", jane)
    assert (row["Phone"], row["Title"]) == ("+1 555 0199", "Manager")
    assert "TITLE:Manager" in phone.cards()[href]  # the card gets the value back


def _set_title(phone, href, title, rev):
    card = vobject.readOne(phone.cards()[href])
    card.title.value = title
    card.rev.value = rev
    phone.replace(href, card.serialize())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("card_rev", "winner", "expected"),
    [
        ("20990101T000000Z", Conflict.Winner.ADDRESS_BOOK, "Card Title"),
        ("20000101T000000Z", Conflict.Winner.SALESFORCE, "Salesforce Title"),
    ],
)
def test_a_conflict_goes_to_the_newer_change_and_is_recorded(
    sf_org, world, book, phone, sync_book, salesforce_sync, card_rev, winner, expected
):
    jane = sf_org.insert(
        "Contact",
        {
            "FirstName": "Jane",
            "LastName": "Doe",
            "Email": "jane@acme.com",
            "Title": "Manager",
            "OwnerId": world["rep_id"],
        },
    )
    salesforce_sync()
    sync_book(book)
    href, _ = phone.card_with("jane@acme.com")

    _set_title(phone, href, "Card Title", card_rev)
    sf_org.update("Contact", jane, {"Title": "Salesforce Title"})
    salesforce_sync()
    run = sync_book(book)
    salesforce_sync()

    assert sum(side["conflicts"] for side in run.counts.values()) == 1
    (conflict,) = Conflict.objects.all()
    assert (conflict.sf_id, conflict.field, conflict.winner) == (jane, "Title", winner)
    assert (conflict.local_value, conflict.salesforce_value) == ("Card Title", "Salesforce Title")
    assert sf_org.get("Contact", jane)["Title"] == expected
    assert f"TITLE:{expected}" in phone.cards()[href]


@pytest.mark.django_db
def test_a_deleted_card_is_put_back_when_salesforce_deletions_are_not_allowed(
    sf_org, book, phone, sync_book, salesforce_sync, jane_on_the_phone
):
    jane, href = jane_on_the_phone

    phone.delete(href)
    run = sync_book(book)
    salesforce_sync()

    assert run.counts["to_address_book"]["restored"] == 1
    assert "jane@acme.com" in phone.cards()[href]
    assert sf_org.get("Contact", jane)["Id"] == jane


@pytest.mark.django_db
def test_a_deleted_card_deletes_the_contact_in_salesforce_when_the_setting_allows(
    sf_org, book, phone, sync_book, salesforce_sync, jane_on_the_phone
):
    settings = SyncSettings.load()
    settings.on_local_contact_delete = SyncSettings.OnLocalContactDelete.DELETE
    settings.save()
    jane, href = jane_on_the_phone

    phone.delete(href)
    run = sync_book(book)
    salesforce_sync()

    assert run.counts["to_salesforce"]["deleted"] == 1
    assert [c["Id"] for c in sf_org.rows("Contact", include_deleted=True) if c["IsDeleted"]] == [
        jane
    ]
    assert phone.cards() == {}
    again = sync_book(book)
    assert again.counts["to_address_book"]["created"] == 0, (
        list(Contact.objects.values("sf_id", "is_deleted", "email")),
        again.counts,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_a_card_with_odd_but_valid_content_round_trips(
    sf_org, world, book, phone, sync_book, salesforce_sync, version
):
    long_note = "A note long enough to be folded by any client that writes cards: " * 3
    folded = "NOTE:" + long_note[:60] + "\n " + long_note[60:]
    email_params = "TYPE=work;PREF=1" if version == "4.0" else "TYPE=INTERNET,WORK,PREF"
    phone.put(
        "zoe.vcf",
        vcard(
            "UID:urn:uuid:5f0c3b7e-zoe",
            "FN:Zoë Ünal-Çelik",
            "N:Ünal-Çelik;Zoë;;;",
            "EMAIL;TYPE=home:zoe@gmail.com",
            f"EMAIL;{email_params}:Zoe@Acme.com",
            "TEL;TYPE=cell:+90 555 000 0000",
            "ORG:Acme",
            folded,
            "ADR;TYPE=home:;;Istiklal Cd. 1;İstanbul;;34000;Türkiye",
            version=version,
        ),
    )

    sync_book(book)
    salesforce_sync()
    zoe = salesforce_contact(sf_org, "zoe@acme.com")
    assert (zoe["FirstName"], zoe["LastName"]) == ("Zoë", "Ünal-Çelik")
    assert zoe["MailingCountry"] == "Türkiye"
    sf_org.update("Contact", zoe["Id"], {"Title": "Genel Müdür"})
    salesforce_sync()
    sync_book(book)

    (text,) = phone.cards().values()
    card = vobject.readOne(text)
    assert card.version.value == version
    assert card.fn.value == "Zoë Ünal-Çelik"
    assert card.title.value == "Genel Müdür"
    assert sorted(e.value.lower() for e in card.contents["email"]) == [
        "zoe@acme.com",
        "zoe@gmail.com",
    ]
    assert card.note.value == long_note
    assert card.adr.value.city == "İstanbul"
    assert card.tel.value.removeprefix("tel:") == "+90 555 000 0000"
    assert Contact.objects.count() == 1
