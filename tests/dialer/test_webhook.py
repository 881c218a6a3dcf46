"""The call-results webhook: the project's secret, one run per call, runs you can look up."""

import pytest
from rest_framework.test import APIClient

from integrations.dialer import services
from integrations.dialer.models import Action, CallRun

pytestmark = pytest.mark.django_db

RECORD = {"last_name": "Lovelace", "email": "ada@engine.example", "company": "Engines"}


def test_it_answers_202_with_the_run_id(make_integration, post_call):
    make_integration(Action.UPDATE_OR_CREATE_LEAD)

    response = post_call("YES", RECORD, call_id="A-1")

    assert response.status_code == 202
    run = CallRun.objects.get(pk=response.json()["id"])
    assert run.call_id == "A-1" and run.status == CallRun.Status.SUCCEEDED
    assert response.json()["url"].endswith(f"/api/v1/dialer/runs/{run.pk}/")


@pytest.mark.parametrize("secret", ["dlr_wrong", ""])
def test_a_wrong_or_missing_secret_gets_401_and_records_nothing(secret, project):
    client = APIClient()
    if secret:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = client.post(
        "/api/v1/dialer/call-results/",
        {"project": project.pk, "call_id": "x", "result_code": "YES", "record": {}},
        format="json",
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert not CallRun.objects.exists()


def test_another_projects_secret_gets_401(project, post_call):
    other, other_secret = services.project_create(name="Inbound")

    response = post_call("YES", RECORD, secret=other_secret, project_id=project.pk)

    assert response.status_code == 401
    assert not CallRun.objects.exists()


def test_a_rotated_secret_stops_working_at_once(project, post_call):
    services.project_secret_rotate(project=project)

    assert post_call("YES", RECORD).status_code == 401


def test_the_same_call_id_twice_never_runs_twice(sf_org, make_integration, post_call):
    make_integration(Action.UPDATE_OR_CREATE_LEAD)

    first = post_call("YES", RECORD, call_id="DUP-1")
    second = post_call("YES", dict(RECORD, last_name="Byron"), call_id="DUP-1")

    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"] and second.json()["duplicate"] is True
    assert CallRun.objects.count() == 1
    assert [lead["LastName"] for lead in sf_org.rows("Lead")] == ["Lovelace"]


def test_a_result_code_no_integration_has_is_recorded_as_no_integration(
    sf_org, make_integration, post_call, run_of, mailoutbox
):
    make_integration(Action.UPDATE_OR_CREATE_LEAD, codes=("YES",))

    response = post_call("NI", RECORD)

    assert response.status_code == 202
    run = run_of(response)
    assert run["status"] == "no_integration" and run["error"] == ""
    assert "NI" in run["outcome"]
    assert sf_org.count("Lead") == 0 and mailoutbox == []


def test_an_inactive_integration_runs_nothing(sf_org, make_integration, post_call, run_of):
    integration = make_integration(Action.UPDATE_OR_CREATE_LEAD)
    integration.active = False
    integration.save()

    run = run_of(post_call("YES", RECORD))

    assert run["status"] == "no_integration" and "not active" in run["outcome"]
    assert sf_org.count("Lead") == 0


def test_a_project_secret_sees_only_its_own_runs(project, make_integration, post_call):
    make_integration(Action.UPDATE_OR_CREATE_LEAD)
    run_id = post_call("YES", RECORD).json()["id"]
    other, other_secret = services.project_create(name="Inbound")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_secret}")

    assert client.get(f"/api/v1/dialer/runs/{run_id}/").status_code == 404
    assert APIClient().get(f"/api/v1/dialer/runs/{run_id}/").status_code == 401


def test_an_admin_token_reads_runs_and_a_rep_cannot(
    api_as, admin_member, rep_user, make_integration, post_call
):
    make_integration(Action.UPDATE_OR_CREATE_LEAD)
    run_id = post_call("YES", RECORD).json()["id"]

    answer = api_as(admin_member).get(f"/api/v1/dialer/runs/{run_id}/")

    assert answer.status_code == 200
    assert answer.json()["status"] == "succeeded"
    assert answer.json()["salesforce_records"][0]["object"] == "Lead"
    assert api_as(rep_user).get(f"/api/v1/dialer/runs/{run_id}/").status_code == 403


def test_a_bad_body_gets_400(project, post_call):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {project.secret}")

    response = client.post(
        "/api/v1/dialer/call-results/", {"project": project.pk, "record": []}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()) >= {"call_id", "result_code"}
