"""The address books' API and admin: roles, the write-only encrypted secret, runs."""

import pytest
from django.db import connection

from integrations.addressbooks.models import AddressBook, AddressBookRun
from integrations.addressbooks.services import address_book_create


@pytest.fixture
def rita_book(other_rep, world):
    return address_book_create(
        owner=other_rep, url="https://dav.example.com/", username="rita", secret="rita-pw"
    )


def new_book(**extra):
    return {"url": "https://dav.example.com/", "username": "rex", "secret": "s3cret!", **extra}


@pytest.mark.django_db
def test_anonymous_calls_are_401(api_as, rita_book):
    client = api_as(None)
    assert client.get("/api/v1/address-books/").status_code == 401
    assert client.post(f"/api/v1/address-books/{rita_book.pk}/runs/").status_code == 401


@pytest.mark.django_db
def test_a_rep_keeps_their_own_address_book_and_never_sees_anothers(api_as, rep_user, rita_book):
    client = api_as(rep_user)

    made = client.post("/api/v1/address-books/", new_book(), format="json")

    assert made.status_code == 201, made.json()
    assert made.json()["owner"] == rep_user.username
    assert "secret" not in made.json() and made.json()["has_secret"] is True
    assert [b["id"] for b in client.get("/api/v1/address-books/").json()["results"]] == [
        made.json()["id"]
    ]
    assert client.get(f"/api/v1/address-books/{rita_book.pk}/").status_code == 404
    assert client.post(f"/api/v1/address-books/{rita_book.pk}/runs/").status_code == 404
    refused = client.post(
        "/api/v1/address-books/", new_book(owner=rita_book.owner.username), format="json"
    )
    assert refused.status_code == 400
    assert "own address book" in str(refused.json())
    assert client.delete(f"/api/v1/address-books/{rita_book.pk}/").status_code == 404
    assert client.delete(f"/api/v1/address-books/{made.json()['id']}/").status_code == 204
    assert list(AddressBook.objects.all()) == [rita_book]


@pytest.mark.django_db
@pytest.mark.parametrize("form", ["json", "multipart"])
def test_an_owner_left_blank_is_the_caller(api_as, rep_user, form):
    made = api_as(rep_user).post("/api/v1/address-books/", new_book(owner=""), format=form)

    assert made.status_code == 201, made.json()
    assert made.json()["owner"] == rep_user.username
    assert AddressBook.objects.get(pk=made.json()["id"]).owner == rep_user


@pytest.mark.django_db
def test_an_admin_manages_any_reps_address_book(api_as, admin_member, rep_user, rita_book):
    client = api_as(admin_member)

    made = client.post("/api/v1/address-books/", new_book(owner="rex"), format="json")

    assert made.status_code == 201
    assert AddressBook.objects.get(pk=made.json()["id"]).owner == rep_user
    assert client.get("/api/v1/address-books/").json()["count"] == 2
    changed = client.patch(
        f"/api/v1/address-books/{rita_book.pk}/", {"enabled": False}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert client.delete(f"/api/v1/address-books/{rita_book.pk}/").status_code == 204


@pytest.mark.django_db
def test_the_secret_is_write_only_and_encrypted_at_rest(api_as, rep_user):
    client = api_as(rep_user)
    made = client.post("/api/v1/address-books/", new_book(), format="json").json()

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM addressbooks_addressbook WHERE id = %s", [made["id"]])
        (stored,) = cursor.fetchone()
    assert "s3cret!" not in stored
    assert AddressBook.objects.get(pk=made["id"]).secret == "s3cret!"
    assert "s3cret!" not in client.get(f"/api/v1/address-books/{made['id']}/").content.decode()
    # A blank secret on an update keeps the stored one.
    client.patch(f"/api/v1/address-books/{made['id']}/", {"secret": ""}, format="json")
    assert AddressBook.objects.get(pk=made["id"]).secret == "s3cret!"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad",
    [
        {"url": "not a url"},
        {"url": "ftp://dav.example.com/"},
        {"view": "everything"},
        {"view": "accounts", "accounts": []},
        {"username": "rex\x00"},
        {"accounts": ["001000000000000AAA"], "view": "accounts"},
    ],
)
def test_bad_input_is_a_clear_400(api_as, rep_user, bad):
    response = api_as(rep_user).post("/api/v1/address-books/", new_book(**bad), format="json")
    assert response.status_code == 400
    assert set(response.json()) & set(bad)


@pytest.mark.django_db
def test_sync_now_queues_a_run_whose_counts_the_owner_can_read(
    api_as, rep_user, radicale_user, world, other_rep, django_capture_on_commit_callbacks
):
    book = address_book_create(
        owner=rep_user,
        url=radicale_user.url,
        username=radicale_user.username,
        secret=radicale_user.password,
    )
    client = api_as(rep_user)

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/api/v1/address-books/{book.pk}/runs/")

    assert started.status_code == 202
    run = client.get(f"/api/v1/address-books/runs/{started.json()['id']}/").json()
    assert run["state"] == "succeeded", run  # tasks run inline in the tests
    assert set(run["counts"]) == {"to_address_book", "to_salesforce"}
    assert set(run["counts"]["to_salesforce"]) == set(AddressBookRun.COUNT_KEYS)
    assert api_as(other_rep).get(f"/api/v1/address-books/runs/{run['id']}/").status_code == 404


@pytest.mark.django_db
def test_the_admin_tests_the_connection_and_syncs_now(
    client, rep_user, radicale_user, world, django_capture_on_commit_callbacks
):
    book = address_book_create(
        owner=rep_user, url=radicale_user.url, username=radicale_user.username, secret="wrong"
    )
    client.force_login(rep_user)
    page = f"/admin/addressbooks/addressbook/{book.pk}/change/"
    assert "wrong" not in client.get(page).content.decode()

    failed = client.post(f"/admin/addressbooks/addressbook/{book.pk}/test/", follow=True)
    assert "refused the user name or password" in failed.content.decode()
    book.secret = radicale_user.password
    book.save()
    ok = client.post(f"/admin/addressbooks/addressbook/{book.pk}/test/", follow=True)
    assert "Connected" in ok.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        synced = client.post(f"/admin/addressbooks/addressbook/{book.pk}/sync/", follow=True)
    assert "queued" in synced.content.decode()
    assert book.runs.get().state == "succeeded"
    assert "Succeeded" in client.get(page).content.decode()


@pytest.mark.django_db
def test_a_rep_sees_only_their_own_address_books_in_the_admin(client, rep_user, rita_book):
    client.force_login(rep_user)
    listing = client.get("/admin/addressbooks/addressbook/")
    assert listing.status_code == 200
    assert (
        "rita" not in listing.content.decode()
        and str(rita_book.owner) not in listing.content.decode()
    )
    assert client.get(f"/admin/addressbooks/addressbook/{rita_book.pk}/change/").status_code in (
        302,
        404,
    )
    assert client.post(f"/admin/addressbooks/addressbook/{rita_book.pk}/sync/").status_code == 404


@pytest.mark.django_db
def test_a_csm_keeps_no_address_book_in_the_api_or_the_admin(api_as, client, csm_user, rita_book):
    api = api_as(csm_user)
    assert api.get("/api/v1/address-books/").status_code == 403
    assert api.post("/api/v1/address-books/", new_book(), format="json").status_code == 403
    assert api.get(f"/api/v1/address-books/{rita_book.pk}/").status_code == 403
    assert api.post(f"/api/v1/address-books/{rita_book.pk}/runs/").status_code == 403
    assert api.get("/api/v1/address-books/runs/").status_code == 403
    assert not AddressBook.objects.filter(owner=csm_user).exists()

    client.force_login(csm_user)
    assert client.get("/admin/addressbooks/addressbook/").status_code == 403
    change = f"/admin/addressbooks/addressbook/{rita_book.pk}/change/"
    assert client.get(change).status_code in (403, 404)
    for button in ("test", "sync"):
        url = f"/admin/addressbooks/addressbook/{rita_book.pk}/{button}/"
        assert client.post(url).status_code in (403, 404)
    assert not rita_book.runs.exists()


@pytest.mark.django_db
def test_an_admin_tests_and_syncs_any_reps_address_book_in_the_admin(
    client, admin_member, rep_user, rita_book, radicale_user, django_capture_on_commit_callbacks
):
    book = address_book_create(
        owner=rep_user,
        url=radicale_user.url,
        username=radicale_user.username,
        secret=radicale_user.password,
    )
    client.force_login(admin_member)

    listing = client.get("/admin/addressbooks/addressbook/").content.decode()
    assert str(rita_book.owner) in listing and str(rep_user) in listing
    page = f"/admin/addressbooks/addressbook/{book.pk}/change/"
    shown = client.get(page).content.decode()
    assert "Test connection" in shown and "No runs yet." in shown
    assert radicale_user.password not in shown
    ok = client.post(f"/admin/addressbooks/addressbook/{book.pk}/test/", follow=True)
    assert "Connected" in ok.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/addressbooks/addressbook/{book.pk}/sync/", follow=True)
    run = book.runs.get()
    assert run.state == "succeeded" and run.started_by == admin_member
    assert "Succeeded" in client.get(page).content.decode()
    assert (
        f"/admin/addressbooks/addressbookrun/{run.pk}/"
        in client.get("/admin/addressbooks/addressbookrun/").content.decode()
    )


@pytest.mark.django_db
def test_a_rep_has_one_address_book(api_as, admin_member, rep_user, rita_book):
    rep = api_as(rep_user)
    first = rep.post("/api/v1/address-books/", new_book(), format="json")
    assert first.status_code == 201

    second = rep.post("/api/v1/address-books/", new_book(name="Also mine"), format="json")
    assert second.status_code == 400
    assert "already has an address book" in str(second.json()["owner"])

    admin = api_as(admin_member)
    for_rita = admin.post("/api/v1/address-books/", new_book(owner="rita"), format="json")
    assert for_rita.status_code == 400
    assert "already has an address book" in str(for_rita.json()["owner"])
    moved = admin.patch(
        f"/api/v1/address-books/{first.json()['id']}/", {"owner": "rita"}, format="json"
    )
    assert moved.status_code == 400
    # Saving a book without changing its owner is not a clash with itself.
    kept = admin.patch(f"/api/v1/address-books/{rita_book.pk}/", {"owner": "rita"}, format="json")
    assert kept.status_code == 200
    assert AddressBook.objects.filter(owner=rep_user).count() == 1
    assert AddressBook.objects.filter(owner=rita_book.owner).count() == 1


def _second_book_form(owner):
    """The admin's add form for another address book of `owner`."""
    return {
        "owner": owner.pk,
        "url": "https://dav.example.com/",
        "username": "rita2",
        "secret": "pw",
        "name": "Salesforce Contacts",
        "view": "owned",
        "enabled": "on",
    }


@pytest.mark.django_db
def test_the_admin_refuses_a_second_address_book_for_a_rep(client, admin_member, rita_book):
    client.force_login(admin_member)
    form = _second_book_form(rita_book.owner)
    page = client.post("/admin/addressbooks/addressbook/add/", form)

    assert page.status_code == 200
    assert "already has an address book" in page.content.decode()
    assert AddressBook.objects.filter(owner=rita_book.owner).count() == 1


@pytest.mark.django_db
def test_a_second_address_book_racing_past_the_check_is_a_validation_error(monkeypatch, rita_book):
    from django.core.exceptions import ValidationError

    # Two requests at once both pass the model's check; the database's constraint decides.
    monkeypatch.setattr(AddressBook, "validate_constraints", lambda self, exclude=None: None)
    with pytest.raises(ValidationError, match="already has an address book"):
        address_book_create(owner=rita_book.owner, url="https://dav.example.com/", username="r2")
    assert AddressBook.objects.filter(owner=rita_book.owner).count() == 1


@pytest.mark.django_db
def test_the_admin_says_so_when_a_second_address_book_races_past_the_check(
    monkeypatch, client, admin_member, rita_book
):
    # Two requests at once both pass the form's check; the database's constraint decides.
    monkeypatch.setattr(AddressBook, "validate_constraints", lambda self, exclude=None: None)
    client.force_login(admin_member)
    form = _second_book_form(rita_book.owner)
    page = client.post("/admin/addressbooks/addressbook/add/", form, follow=True)

    assert page.status_code == 200
    assert "already has an address book" in page.content.decode()
    assert AddressBook.objects.filter(owner=rita_book.owner).count() == 1
