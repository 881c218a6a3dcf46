"""The published schema of an incoming activity is the rule it is held to: what the schema says is
required, how long each text may be and which values a choice takes is exactly what the API (and
the import, which shares the serializer) accepts and refuses."""

import io
import json

import pytest
from django.core.management import call_command

from activities.models import Activity
from tests.factories import activity_item

pytestmark = pytest.mark.django_db
URL = "/api/v1/activities/"
ADDRESSES = {"owner", "email"}  # limited by the address rules, exercised in test_matching


@pytest.fixture
def api(api_as, admin_member):
    return api_as(admin_member)


@pytest.fixture
def schemas(api):
    return api.get("/api/schema/?format=json").json()["components"]["schemas"]


def _limits(schema):
    return {
        name: prop["maxLength"]
        for name, prop in schema["properties"].items()
        if "maxLength" in prop and name not in ADDRESSES
    }


def _enum(schemas, prop):
    ref = (prop.get("allOf") or prop.get("oneOf") or [prop])[0].get("$ref", "")
    return schemas[ref.rsplit("/", 1)[-1]]["enum"] if ref else prop["enum"]


def test_the_required_fields_are_the_documented_ones(api, schemas):
    refused = api.post(URL, {"subject": "x"}, format="json")

    assert refused.status_code == 400
    assert set(refused.json()) == set(schemas["ActivityInRequest"]["required"])


def test_each_documented_length_is_the_enforced_one(api, schemas, rep_user, org_settings):
    limits = _limits(schemas["ActivityInRequest"])
    assert {"external_id", "source", "subject", "body"} <= set(limits)
    for name, limit in limits.items():
        at_limit = activity_item(rep_user, emails=["jane@acme.com"], **{name: "x" * limit})
        over = activity_item(rep_user, emails=["jane@acme.com"], **{name: "x" * (limit + 1)})

        assert api.post(URL, at_limit, format="json").status_code == 201, name
        refused = api.post(URL, over, format="json")
        assert refused.status_code == 400 and list(refused.json()) == [name], name
        assert str(limit) in refused.json()[name][0]


def test_each_documented_participant_length_is_the_enforced_one(
    api, schemas, rep_user, org_settings
):
    limits = _limits(schemas["ParticipantInRequest"])
    assert {"name", "title", "phone", "country"} <= set(limits)
    for name, limit in limits.items():
        at_limit = activity_item(rep_user, emails=[])
        at_limit["participants"] = [{"email": "jane@acme.com", name: "x" * limit}]
        over = activity_item(rep_user, emails=[])
        over["participants"] = [{"email": "jane@acme.com", name: "x" * (limit + 1)}]

        assert api.post(URL, at_limit, format="json").status_code == 201, name
        refused = api.post(URL, over, format="json")
        assert refused.status_code == 400, name
        (reason,) = refused.json()["participants"]
        assert reason.startswith(f"jane@acme.com: {name}:") and str(limit) in reason


def test_every_documented_choice_is_accepted_and_nothing_else(api, schemas, rep_user, org_settings):
    kinds = _enum(schemas, schemas["ActivityInRequest"]["properties"]["kind"])
    participant = schemas["ParticipantInRequest"]["properties"]
    roles, responses = _enum(schemas, participant["role"]), _enum(schemas, participant["response"])
    assert set(kinds) == set(Activity.Kind.values)
    for kind in kinds:
        item = activity_item(rep_user, emails=["jane@acme.com"], kind=kind.upper())
        assert api.post(URL, item, format="json").status_code == 201, kind
    for field, values in (("role", roles), ("response", responses)):
        for value in values:
            item = activity_item(rep_user, emails=[])
            item["participants"] = [{"email": "jane@acme.com", field: value}]
            assert api.post(URL, item, format="json").status_code == 201, (field, value)

    fax = api.post(URL, activity_item(rep_user, emails=[], kind="fax"), format="json")
    bad_role = activity_item(rep_user, emails=[])
    bad_role["participants"] = [{"email": "jane@acme.com", "role": "bcc-ish"}]
    refused_role = api.post(URL, bad_role, format="json")

    assert fax.status_code == 400 and "'fax' is not one of" in fax.json()["kind"][0]
    assert refused_role.status_code == 400
    assert "bcc-ish" in refused_role.json()["participants"][0]


@pytest.mark.parametrize("value", [{"a": 1}, ["to"], 7, True])
def test_a_value_of_the_wrong_type_is_refused_for_each_field(api, rep_user, org_settings, value):
    item = activity_item(rep_user, emails=[])
    for name in ("external_id", "kind", "occurred_at", "subject", "body"):
        refused = api.post(URL, {**item, name: value}, format="json")
        assert refused.status_code == 400 and list(refused.json()) == [name], (name, value)
    for name in ("email", "role", "response", "name"):
        person = {"email": "jane@acme.com", name: value}
        refused = api.post(URL, {**item, "participants": [person]}, format="json")
        assert refused.status_code == 400 and list(refused.json()) == ["participants"], name


@pytest.mark.parametrize("person", [None, "jane@acme.com", ["jane@acme.com"], 3])
def test_a_participant_that_is_not_an_object_is_named(api, rep_user, org_settings, person):
    item = activity_item(rep_user, emails=["ok@acme.com"])
    item["participants"].append(person)

    one = api.post(URL, item, format="json")
    bulk = api.post(f"{URL}bulk/", {"activities": [item, None, "x"]}, format="json")

    assert one.status_code == 400
    assert one.json() == {"participants": ["Each participant must be an object."]}
    results = bulk.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert results[1]["errors"] == {"non_field_errors": ["Each activity must be a JSON object."]}


def test_the_import_is_held_to_the_same_contract(tmp_path, rep_user, org_settings):
    good = activity_item(rep_user, emails=["jane@acme.com"], external_id="imp-1")
    too_long = activity_item(rep_user, emails=["jane@acme.com"], external_id="imp-2")
    too_long["subject"] = "x" * 999
    path = tmp_path / "activities.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in (good, too_long)))

    out = io.StringIO()
    call_command("import_activities", str(path), "--no-progress", stdout=out)

    assert list(Activity.objects.values_list("external_id", flat=True)) == ["imp-1"]
    assert "line 2: subject: At most 998 characters." in out.getvalue()
