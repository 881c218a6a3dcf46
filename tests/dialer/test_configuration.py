"""Configuring projects and integrations in the admin and the API (Admin role)."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from integrations.dialer import selectors
from integrations.dialer.models import (
    Action,
    DialerProject,
    Integration,
    ResultCode,
)
from tests.factories import DialerProjectFactory

pytestmark = pytest.mark.django_db


def inline_form(project, *, name, codes, action=Action.UPDATE_ONLY, mappings=()):
    data = {
        "project": str(project.pk),
        "name": name,
        "action": action,
        "email_on_error": "ops@crmbridge.example",
        "active": "on",
    }
    groups = {
        "result_codes": [{"code": c} for c in codes],
        "secondary_keys": [{"position": "0", "dialer_field": "email", "salesforce_field": "Email"}],
        "field_mappings": [
            {"dialer_field": d, "sobject": o, "salesforce_field": s} for d, o, s in mappings
        ],
    }
    for prefix, rows in groups.items():
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(len(rows)),
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
        for i, row in enumerate(rows):
            data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


# -- one integration per result code in a project ----------------------------------------------
def test_the_database_refuses_a_result_code_twice_in_a_project(project, make_integration):
    first = make_integration(Action.UPDATE_ONLY, codes=("YES",), name="Hot")
    second = make_integration(Action.UPDATE_ONLY, codes=("CB",), name="Callback")

    with pytest.raises(IntegrityError), transaction.atomic():
        ResultCode.objects.create(project=project, integration=second, code="YES")
    assert selectors.integration_for_code(project_id=project.pk, code="YES") == first


def test_the_admin_names_the_integration_that_already_has_the_code(
    client, admin_member, project, make_integration
):
    make_integration(Action.UPDATE_ONLY, codes=("YES", "CB"), name="Hot leads")
    client.force_login(admin_member)

    response = client.post(
        reverse("admin:dialer_integration_add"), inline_form(project, name="Other", codes=["CB"])
    )

    assert response.status_code == 200  # the form again, with the error
    assert "Result code &#x27;CB&#x27; already triggers integration &#x27;Hot leads&#x27;" in (
        response.content.decode()
    )
    assert not Integration.objects.filter(name="Other").exists()


def test_the_same_code_in_another_project_is_fine(client, admin_member, make_integration):
    make_integration(Action.UPDATE_ONLY, codes=("YES",))
    other = DialerProjectFactory(name="Inbound")
    client.force_login(admin_member)

    response = client.post(
        reverse("admin:dialer_integration_add"), inline_form(other, name="In", codes=["YES"])
    )

    assert response.status_code == 302
    assert ResultCode.objects.get(project=other).code == "YES"


def test_the_api_names_the_integration_that_already_has_the_code(
    api_as, admin_member, project, make_integration
):
    make_integration(Action.UPDATE_ONLY, codes=("YES",), name="Hot leads")

    response = api_as(admin_member).post(
        "/api/v1/dialer/integrations/",
        {"project": project.pk, "name": "Other", "action": "update_only", "result_codes": ["YES"]},
        format="json",
    )

    assert response.status_code == 400
    assert "'Hot leads'" in response.json()["result_codes"][0]
    assert not Integration.objects.filter(name="Other").exists()


# -- mandatory fields without a mapping: a warning on save -----------------------------------------
def test_the_admin_warns_about_unmapped_mandatory_fields(client, admin_member, project, sf_client):
    client.force_login(admin_member)
    data = inline_form(
        project,
        name="Create leads",
        codes=["YES"],
        action=Action.UPDATE_OR_CREATE_LEAD,
        mappings=[("last_name", "Lead", "LastName")],
    )

    response = client.post(reverse("admin:dialer_integration_add"), data, follow=True)

    page = response.content.decode()
    assert "Creating a Lead will fail: Salesforce requires Company" in page


def test_the_api_returns_warnings_and_none_when_all_is_mapped(
    api_as, admin_member, project, sf_client
):
    api = api_as(admin_member)
    body = {
        "project": project.pk,
        "name": "Create contacts",
        "action": "update_or_create_contact",
        "result_codes": ["YES", "CB"],
        "secondary_keys": [{"dialer_field": "email", "salesforce_field": "Email"}],
        "field_mappings": [
            {"dialer_field": "email", "object": "Contact", "salesforce_field": "Email"},
            {"dialer_field": "deal", "object": "Opportunity", "salesforce_field": "Name"},
        ],
        "email_on_error": ["ops@crmbridge.example"],
    }

    created = api.post("/api/v1/dialer/integrations/", body, format="json")

    assert created.status_code == 201, created.json()
    warnings = created.json()["warnings"]
    assert any("Contact" in w and "LastName" in w for w in warnings)
    assert any("Opportunity" in w and "StageName" in w and "CloseDate" in w for w in warnings)
    assert created.json()["result_codes"] == ["CB", "YES"]
    fixed = api.patch(
        f"/api/v1/dialer/integrations/{created.json()['id']}/",
        {"action": "update_only"},
        format="json",
    )
    assert fixed.status_code == 200 and fixed.json()["warnings"] == []


def test_bad_recipients_and_field_names_are_refused(api_as, admin_member, project):
    response = api_as(admin_member).post(
        "/api/v1/dialer/integrations/",
        {
            "project": project.pk,
            "name": "Bad",
            "action": "update_only",
            "secondary_keys": [{"dialer_field": "email", "salesforce_field": "Email; DROP"}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert not Integration.objects.exists()


# -- the project secret: shown once, stored as a hash --------------------------------------------
def test_the_api_shows_a_new_projects_secret_once(api_as, admin_member):
    api = api_as(admin_member)

    created = api.post("/api/v1/dialer/projects/", {"name": "Outbound"}, format="json")

    assert created.status_code == 201
    secret = created.json()["secret"]
    project = DialerProject.objects.get(pk=created.json()["id"])
    assert secret not in project.secret_hash
    assert selectors.project_for_secret(secret=secret) == project
    again = api.get(f"/api/v1/dialer/projects/{project.pk}/").json()
    assert "secret" not in again
    rotated = api.post(f"/api/v1/dialer/projects/{project.pk}/rotate-secret/").json()["secret"]
    assert rotated != secret
    assert selectors.project_for_secret(secret=secret) is None


def test_the_admin_shows_the_secret_once_after_adding_and_after_rotating(client, admin_member):
    client.force_login(admin_member)

    added = client.post(reverse("admin:dialer_dialerproject_add"), {"name": "Outbound"})

    assert added.status_code == 200 and "no-store" in added["Cache-Control"]
    project = DialerProject.objects.get(name="Outbound")
    page = added.content.decode()
    secret = page.split('class="dialer-secret">')[1].split("<")[0]
    assert selectors.project_for_secret(secret=secret) == project
    change_page = client.get(reverse("admin:dialer_dialerproject_change", args=[project.pk]))
    assert secret not in change_page.content.decode()

    rotated = client.post(
        reverse("admin:dialer_dialerproject_changelist"),
        {"action": "rotate_secret", "_selected_action": [str(project.pk)]},
    )

    new_secret = rotated.content.decode().split('class="dialer-secret">')[1].split("<")[0]
    assert new_secret != secret
    assert selectors.project_for_secret(secret=new_secret) == project
    assert selectors.project_for_secret(secret=secret) is None


@pytest.mark.parametrize("who", ["csm_user", "rep_user"])
def test_only_admins_configure_the_dialer_through_the_api(who, request, api_as):
    api = api_as(request.getfixturevalue(who))

    assert api.get("/api/v1/dialer/projects/").status_code == 403
    assert api.post("/api/v1/dialer/projects/", {"name": "X"}, format="json").status_code == 403
    assert api.get("/api/v1/dialer/integrations/").status_code == 403


def test_the_admin_pages_open(client, admin_member, make_integration, post_call):
    integration = make_integration(Action.UPDATE_ONLY)
    run_id = post_call("YES", {"email": "x@y.example"}).json()["id"]
    client.force_login(admin_member)

    for url in [
        reverse("admin:dialer_dialerproject_changelist"),
        reverse("admin:dialer_integration_changelist"),
        reverse("admin:dialer_integration_change", args=[integration.pk]),
        reverse("admin:dialer_callrun_changelist") + "?status__exact=failed&q=call",
        reverse("admin:dialer_callrun_change", args=[run_id]),
    ]:
        assert client.get(url).status_code == 200, url
