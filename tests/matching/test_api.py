"""The activities and account-domains API, as a client (and a rep) sees it."""

import pytest
from django.utils import timezone

from accounts.models import AccountDomain
from integrations.outbox.models import OutboxItem
from tests.factories import AccountFactory, ContactFactory, activity_item

pytestmark = pytest.mark.django_db


def test_it_ingests_one_activity_and_shows_the_match(api_as, rep_user, rep_sf, org_settings):
    acme = AccountFactory(name="Acme", website="acme.com")
    ContactFactory(email="jane@acme.com", account=acme)
    item = activity_item(
        rep_user,
        emails=["jane@acme.com", "bob@gmail.com"],
        external_id="m-1",
    )
    response = api_as(rep_user).post("/api/v1/activities/", item, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["match"]["status"] == "matched"
    assert body["match"]["account"] == {"sf_id": acme.sf_id, "name": "Acme"}
    assert body["match"]["reason"]
    jane, bob = body["participants"]
    assert jane["matched"]["kind"] == "contact" and jane["matched"]["rule"] == "contact_email"
    assert bob["matched"] is None and "personal mail domain" in bob["reason"]

    again = api_as(rep_user).post("/api/v1/activities/", item, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    detail = api_as(rep_user).get(f"/api/v1/activities/{body['id']}/")
    assert detail.json()["match"]["account"]["sf_id"] == acme.sf_id


def test_an_invalid_address_or_unknown_owner_is_a_400_naming_it(
    api_as, admin_member, rep_user, org_settings
):
    client = api_as(admin_member)
    bad = client.post(
        "/api/v1/activities/", activity_item(rep_user, emails=["jane@@acme"]), format="json"
    )
    assert bad.status_code == 400
    assert "jane@@acme" in bad.json()["participants"][0]
    item = {**activity_item(rep_user, emails=["a@acme.com"]), "owner": "ghost@acme.com"}
    unknown = client.post("/api/v1/activities/", item, format="json")
    assert unknown.status_code == 400
    assert "ghost@acme.com" in unknown.json()["owner"][0]


def test_bulk_gives_one_result_per_item_and_bad_items_sink_nothing(
    api_as, admin_member, rep_user, other_rep, org_settings
):
    items = [
        activity_item(rep_user, emails=["a@acme.com"], external_id="b-1"),
        activity_item(rep_user, emails=["nope"], external_id="b-2"),
        activity_item(other_rep, emails=["a@acme.com"], external_id="b-3"),
        activity_item(rep_user, emails=["a@acme.com"], external_id="b-1"),
    ]
    response = api_as(admin_member).post(
        "/api/v1/activities/bulk/", {"activities": items}, format="json"
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "created", "existing"]
    assert response.json()["summary"] == {"created": 2, "existing": 1, "rejected": 1}
    too_many = api_as(admin_member).post(
        "/api/v1/activities/bulk/", {"activities": items * 251}, format="json"
    )
    assert too_many.status_code == 400


def test_a_rep_sees_and_sends_only_their_own_activities(
    api_as, admin_member, rep_user, other_rep, csm_user, org_settings
):
    mine = api_as(rep_user).post(
        "/api/v1/activities/", activity_item(rep_user, emails=["a@acme.com"]), format="json"
    )
    theirs = api_as(other_rep).post(
        "/api/v1/activities/", activity_item(other_rep, emails=["a@acme.com"]), format="json"
    )
    forged = api_as(rep_user).post(
        "/api/v1/activities/", activity_item(other_rep, emails=["a@acme.com"]), format="json"
    )
    assert forged.status_code == 400
    listed = api_as(rep_user).get("/api/v1/activities/").json()["results"]
    assert [a["id"] for a in listed] == [mine.json()["id"]]
    assert api_as(rep_user).get(f"/api/v1/activities/{theirs.json()['id']}/").status_code == 404
    assert len(api_as(admin_member).get("/api/v1/activities/").json()["results"]) == 2
    assert len(api_as(csm_user).get("/api/v1/activities/").json()["results"]) == 2
    assert (
        api_as(csm_user)
        .post("/api/v1/activities/", activity_item(csm_user, emails=["a@b.com"]), format="json")
        .status_code
        == 403
    )


def test_admin_adds_a_domain_by_api_and_it_goes_to_salesforce(
    api_as, admin_member, rep_user, org_settings, django_capture_on_commit_callbacks
):
    acme = AccountFactory(name="Acme", website="acme.com", alternate_domains="acme.de")
    client = api_as(admin_member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/account-domains/",
            {"account": acme.sf_id, "domain": "https://www.Acme-Group.co.uk/about"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    assert response.json()["domain"] == "acme-group.co.uk"
    assert response.json()["source"] == "admin"
    push = OutboxItem.objects.get(sobject="Account", sf_id=acme.sf_id)
    assert push.payload == {"Alternate_Domains__c": "acme.de, acme-group.co.uk"}

    for bad, why in [
        ("not a domain", "not a domain"),
        ("gmail.com", "personal"),
        ("acme.com", "already"),
        ("ourco.com", "own domains"),
    ]:
        refused = client.post(
            "/api/v1/account-domains/", {"account": acme.sf_id, "domain": bad}, format="json"
        )
        assert refused.status_code == 400, bad
        assert why in str(refused.json())
    website_row = AccountDomain.objects.get(account=acme, domain="acme.com")
    assert client.delete(f"/api/v1/account-domains/{website_row.pk}/").status_code == 400
    assert api_as(rep_user).get("/api/v1/account-domains/").status_code == 403


def test_a_rep_reusing_another_reps_external_id_sees_nothing_of_theirs(
    api_as, admin_member, rep_user, other_rep, org_settings
):
    theirs = activity_item(other_rep, emails=["a@acme.com"], external_id="shared-1")
    theirs["subject"] = "Rita's secret deal"
    api_as(other_rep).post("/api/v1/activities/", theirs, format="json")
    mine = activity_item(rep_user, emails=["a@acme.com"], external_id="shared-1")

    one = api_as(rep_user).post("/api/v1/activities/", mine, format="json")
    bulk = api_as(rep_user).post("/api/v1/activities/bulk/", {"activities": [mine]}, format="json")
    by_admin = api_as(admin_member).post("/api/v1/activities/", mine, format="json")

    assert one.status_code == 400 and "external_id" in one.json()
    assert "secret" not in one.content.decode() and "secret" not in bulk.content.decode()
    assert bulk.json()["results"][0]["status"] == "rejected"
    assert by_admin.status_code == 200  # an admin sees every activity: the re-send answers


def test_a_taken_external_id_is_answered_like_any_unusable_id_without_saying_it_exists(
    api_as, rep_user, other_rep, org_settings
):
    api_as(other_rep).post(
        "/api/v1/activities/",
        activity_item(other_rep, emails=["a@acme.com"], external_id="shared-2"),
        format="json",
    )

    taken = api_as(rep_user).post(
        "/api/v1/activities/",
        activity_item(rep_user, emails=["a@acme.com"], external_id="shared-2"),
        format="json",
    )

    assert taken.status_code == 400
    message = " ".join(taken.json()["external_id"]).lower()
    assert "owner" not in message and "used" not in message and "exist" not in message


def test_what_an_ingestion_call_answers_is_what_reading_it_back_gives(
    api_as, admin_member, rep_user, rep_sf, org_settings
):
    """The answer shows each new activity as stored (built in memory, not read back): field for
    field the same as GET /activities/{id}/, for every kind of match and for a repeat."""
    from tests.factories import LeadFactory, OpportunityFactory

    acme = AccountFactory(name="Acme", website="acme.com", owner=rep_sf)
    OpportunityFactory(account=acme, owner=rep_sf)
    ContactFactory(email="jane@acme.com", account=acme, first_name="Jane", last_name="Doe")
    LeadFactory(email="lee@lead.example")
    AccountFactory(name="Twin A", website="twin.example")
    AccountFactory(name="Twin B", website="twin.example")
    people = [
        "Jane@ACME.com", "new.person@acme.com", "lee@lead.example", "bob@gmail.com",
        "x@twin.example", "me@ourco.com", "n@nowhere.example",
    ]  # fmt: skip
    items = [
        activity_item(rep_user, emails=people, external_id="r-1", body="Thanks\nNew Person"),
        activity_item(
            rep_user,
            emails=["new.person@acme.com"],
            external_id="r-2",
            kind="meeting",
            ends_at=timezone.now().isoformat(),
        ),  # fmt: skip
        activity_item(rep_user, emails=["bob@gmail.com"], external_id="r-1"),  # a repeat
    ]
    client = api_as(admin_member)
    bulk = client.post("/api/v1/activities/bulk/", {"activities": items}, format="json").json()
    single = client.post(
        "/api/v1/activities/", activity_item(rep_user, emails=people, external_id="r-3"),
        format="json",
    ).json()  # fmt: skip
    answers = [r["activity"] for r in bulk["results"]] + [single]
    assert [r["status"] for r in bulk["results"]] == ["created", "created", "existing"]
    kinds = {p["matched"]["kind"] if p["matched"] else None for p in answers[0]["participants"]}
    assert kinds == {"contact", "lead", "account", None}
    assert answers[0]["match"]["opportunity"] is not None
    for answer in answers:
        assert answer == client.get(f"/api/v1/activities/{answer['id']}/").json()
