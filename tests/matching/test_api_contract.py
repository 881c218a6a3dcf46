"""The activities API keeps its contract: every field error at once, the documented filters
work (and refuse what they do not know), and the schema types `match`."""

import pytest

from activities.models import Activity
from tests.factories import AccountFactory, activity_item

pytestmark = pytest.mark.django_db
URL = "/api/v1/activities/"


def test_every_field_error_is_reported_at_once(api_as, admin_member):
    response = api_as(admin_member).post(URL, {"subject": "x"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"external_id", "kind", "occurred_at", "owner"}


def test_every_bad_participant_is_named(api_as, admin_member, rep_user, org_settings):
    item = activity_item(rep_user, emails=["jane@@acme", "ok@acme.com", "bob@"])
    item["kind"] = "fax"

    response = api_as(admin_member).post(URL, item, format="json")

    assert response.status_code == 400
    body = response.json()
    assert "fax" in body["kind"][0]
    said = " ".join(body["participants"])
    assert "jane@@acme" in said and "bob@" in said and "ok@acme.com" not in said


@pytest.mark.parametrize("name", ["match_status", "status"])
def test_the_list_filters_by_match_status(api_as, admin_member, rep_user, org_settings, name):
    AccountFactory(name="Acme", website="acme.com")
    client = api_as(admin_member)
    for ext, email in [("f-1", "jane@acme.com"), ("f-2", "bob@nowhere.example")]:
        item = activity_item(rep_user, emails=[email], external_id=ext)
        assert client.post(URL, item, format="json").status_code == 201

    unmatched = client.get(URL, {name: "unmatched"}).json()["results"]

    assert [a["external_id"] for a in unmatched] == ["f-2"]
    assert {a["match"]["status"] for a in unmatched} == {Activity.MatchStatus.UNMATCHED}


def test_an_unknown_filter_value_is_a_400_naming_it(api_as, admin_member):
    response = api_as(admin_member).get(URL, {"match_status": "sort-of"})

    assert response.status_code == 400
    assert "match_status" in response.json()


def test_the_schema_documents_the_filters_and_types_match(api_as, admin_member):
    schema = api_as(admin_member).get("/api/schema/?format=json").json()

    listing = schema["paths"]["/api/v1/activities/"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"match_status", "kind", "account", "owner"} <= names
    match = schema["components"]["schemas"]["ActivityMatch"]
    assert set(match["properties"]) == {
        "status", "account", "opportunity", "reason_code", "reason", "edited",
    }  # fmt: skip
    activity = schema["components"]["schemas"]["Activity"]
    assert activity["properties"]["match"]["allOf"][0]["$ref"].endswith("/ActivityMatch")
