"""Bad input over the API, the admin and the dialer webhook: a NUL in a query parameter, a lone
surrogate in a subject, a date past the end of the calendar, JSON nested 100,000 deep. Each is a
400 naming what is wrong (or an empty result), never a 500; a dialer call that cannot be run is
still recorded, as failed, with its reason.

Run on PostgreSQL too (CI does): PostgreSQL refuses NUL and lone surrogates in text, so what slips
past validation is a 500 there and not on SQLite.
"""

import json
import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from crmbridge.roles import ADMIN
from integrations.dialer import services as dialer_services
from integrations.dialer.models import CallRun

pytestmark = pytest.mark.django_db

NUL = "%00"
DEEP = "[" * 100_000 + "]" * 100_000

API_QUERIES = [
    ("/api/v1/activities/", "status"),
    ("/api/v1/activities/", "kind"),
    ("/api/v1/activities/", "account"),
    ("/api/v1/activities/", "owner"),
    ("/api/v1/classification/rules/", "search"),
    ("/api/v1/classification/rules/", "dimension"),
    ("/api/v1/account-domains/", "account"),
    ("/api/v1/account-domains/", "domain"),
    ("/api/v1/diagnostics/contact-creation/", "email"),
    ("/api/v1/dialer/runs/", "page"),
]
ADMIN_QUERIES = [
    "/admin/activities/activity/?match_status__exact=%00",
    "/admin/activities/activity/?kind__exact=%00",
    "/admin/activities/activity/?q=%00",
    "/admin/activities/contactdecision/why-no-contact/?email=%00",
    "/admin/autocomplete/?app_label=crmbridge&model_name=profilemembership&field_name=user"
    "&term=%00",
    "/admin/classification/classificationrule/unclassified/?q=%00",
    "/admin/classification/classificationrule/?q=%00",
    "/admin/accounts/account/?q=%00",
]


@pytest.fixture
def admin_api(api_as, role_users):
    return api_as(role_users[ADMIN])


def _post_raw(client, path, text, **headers):
    return client.generic("POST", path, text.encode(), content_type="application/json", **headers)


def _activity(**changes):
    item = {
        "external_id": "bad-input-1",
        "kind": "email",
        "occurred_at": "2026-11-02T09:30:00Z",
        "owner": "ada@crmbridge.example",
        "subject": "Hello",
        "participants": [{"email": "jane.doe@prospect.example", "name": "Jane Doe"}],
    }
    item.update(changes)
    return item


@pytest.mark.parametrize(("path", "param"), API_QUERIES)
def test_a_nul_in_an_api_query_parameter_is_a_400_naming_it(admin_api, path, param):
    response = admin_api.get(f"{path}?{param}={NUL}")

    assert response.status_code == 400, response.content[:300]
    assert param in response.json()


@pytest.mark.parametrize("url", ADMIN_QUERIES)
def test_a_nul_in_an_admin_query_parameter_is_never_a_500(client, role_users, url):
    client.force_login(role_users[ADMIN])

    response = client.get(url)

    assert response.status_code in (200, 400), (url, response.status_code)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("subject", '"\\ud800"'),
        ("external_id", '"x\\udfff"'),
        ("occurred_at", '"9999-12-31T23:59:59-12:00"'),
        ("occurred_at", '"0001-01-01T00:00:00+14:00"'),
    ],
)
def test_an_activity_with_an_impossible_value_is_a_400_naming_the_field(
    admin_api, role_users, field, text
):
    item = json.dumps(_activity(owner=role_users[ADMIN].email, **{field: "PLACEHOLDER"}))
    body = item.replace('"PLACEHOLDER"', text)

    one = _post_raw(admin_api, "/api/v1/activities/", body)
    bulk = _post_raw(admin_api, "/api/v1/activities/bulk/", f"[{body}]")

    assert one.status_code == 400, one.content[:300]
    assert field in json.dumps(one.json())
    assert bulk.status_code in (200, 400), bulk.content[:300]
    if bulk.status_code == 200:
        assert bulk.json()["summary"]["rejected"] == 1


def _json_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                yield method.upper(), path


JSON_OPERATIONS = sorted(set(_json_operations()))


def test_the_walk_finds_the_json_endpoints():
    found = {path for _, path in JSON_OPERATIONS}
    assert {"/api/v1/activities/bulk/", "/api/v1/dialer/call-results/"} <= found, found


@pytest.mark.parametrize(("method", "path"), JSON_OPERATIONS)
def test_json_nested_100000_deep_is_a_400_on_every_json_endpoint(admin_api, project, method, path):
    url = re.sub(r"\{[^}]+\}", "1", path)
    if path.startswith("/api/v1/dialer/call-results/"):
        admin_api.credentials(HTTP_AUTHORIZATION=f"Bearer {project.secret}")

    response = admin_api.generic(method, url, DEEP.encode(), content_type="application/json")

    if path.endswith("/rotate-secret/"):  # takes no body and never reads one
        assert response.status_code in (200, 404), response.status_code
    else:
        assert response.status_code in (400, 404), (method, path, response.status_code)


@pytest.fixture
def project(db):
    project, secret = dialer_services.project_create(name="Outbound EMEA")
    project.secret = secret
    return project


@pytest.mark.parametrize(
    ("record", "where"),
    [
        ('{"last_name": "Doe\\u0000"}', "last_name"),
        ('{"last_name": "\\ud800"}', "last_name"),
        ('{"nested": {"deeper": ["ok", "\\udfff"]}}', "nested"),
    ],
)
def test_a_dialer_call_with_unstorable_text_is_recorded_as_failed_with_its_reason(
    client, project, record, where
):
    body = f'{{"project": {project.pk}, "call_id": "call-77", "result_code": "YES", '
    body += f'"record": {record}}}'

    response = _post_raw(
        client, "/api/v1/dialer/call-results/", body, HTTP_AUTHORIZATION=f"Bearer {project.secret}"
    )

    assert response.status_code == 400, response.content[:300]
    run = CallRun.objects.get(project=project, call_id="call-77")
    assert run.status == CallRun.Status.FAILED
    assert where in run.error
    assert where in json.dumps(response.json())


def test_a_dialer_call_that_is_not_json_is_recorded_as_failed(client, project):
    response = _post_raw(
        client,
        "/api/v1/dialer/call-results/",
        DEEP,
        HTTP_AUTHORIZATION=f"Bearer {project.secret}",
    )

    assert response.status_code == 400
    run = CallRun.objects.get(project=project)
    assert run.status == CallRun.Status.FAILED
    assert "JSON" in run.error
