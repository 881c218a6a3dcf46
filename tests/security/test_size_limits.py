"""Size limits: participants per activity, an activity's body, a request's size. Over a limit is
a 400 that says which limit, before anything is stored; the limits are in the OpenAPI schema."""

import json

import pytest
from django.test import override_settings

from activities.contract import MAX_BODY_CHARS, MAX_PARTICIPANTS
from activities.models import Activity
from crmbridge.roles import ADMIN

pytestmark = pytest.mark.django_db


def _activity(owner, *, people=1, body="", external_id="big-1"):
    return {
        "external_id": external_id,
        "kind": "meeting",
        "occurred_at": "2026-11-02T09:30:00Z",
        "owner": owner,
        "subject": "All hands",
        "body": body,
        "participants": [
            {"email": f"person{n}@prospect.example", "name": f"Pat Person{n}"}
            for n in range(people)
        ],
    }


@pytest.fixture
def admin_api(api_as, role_users):
    return api_as(role_users[ADMIN]), role_users[ADMIN].email


def test_an_activity_with_too_many_participants_is_refused(admin_api):
    api, owner = admin_api

    one = api.post(
        "/api/v1/activities/", _activity(owner, people=MAX_PARTICIPANTS + 1), format="json"
    )
    bulk = api.post(
        "/api/v1/activities/bulk/",
        [_activity(owner, people=MAX_PARTICIPANTS + 1, external_id="big-2"),
         _activity(owner, people=MAX_PARTICIPANTS, external_id="big-3")],
        format="json",
    )  # fmt: skip

    assert one.status_code == 400
    assert f"At most {MAX_PARTICIPANTS}" in one.json()["participants"][0]
    assert [r["status"] for r in bulk.json()["results"]] == ["rejected", "created"]
    assert set(Activity.objects.values_list("external_id", flat=True)) == {"big-3"}


def test_an_activity_with_a_body_over_the_limit_is_refused(admin_api):
    api, owner = admin_api

    response = api.post(
        "/api/v1/activities/", _activity(owner, body="x" * (MAX_BODY_CHARS + 1)), format="json"
    )

    assert response.status_code == 400
    assert str(MAX_BODY_CHARS) in response.json()["body"][0]
    assert not Activity.objects.exists()


@override_settings(MAX_REQUEST_BYTES=50_000)
def test_a_request_over_the_size_limit_is_a_400_before_any_view_reads_it(admin_api, client):
    api, owner = admin_api
    body = json.dumps([_activity(owner, people=400, external_id=f"r{n}") for n in range(3)])

    response = api.generic(
        "POST", "/api/v1/activities/bulk/", body, content_type="application/json"
    )
    admin_page = client.post("/admin/login/", {"username": "x" * 60_000, "password": "y"})

    assert len(body) > 50_000
    assert response.status_code == 400
    assert "50000 bytes" in response.json()["body"][0]
    assert admin_page.status_code == 400
    assert not Activity.objects.exists()


def test_the_limits_are_in_the_openapi_schema(admin_api):
    api, _ = admin_api

    schema = api.get("/api/schema/?format=json").content.decode()

    assert f"{MAX_PARTICIPANTS} participants" in schema
    assert "10485760 bytes" in schema
