"""The control panel's navigation follows what each role does, not Django's app order."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db

SECTIONS = [
    "Activity", "Salesforce", "Accounts & domains", "Classification", "Dialer", "Settings",
    "System",
]  # fmt: skip


def app_list(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.context["app_list"], response.content.decode()


def names(section):
    return [entry["name"] for entry in section["models"]]


def test_an_admin_sees_the_sections_by_task_with_system_last_and_collapsed(client, admin_member):
    sections, html = app_list(client, admin_member)

    assert [s["name"] for s in sections] == SECTIONS
    by_name = {s["name"]: s for s in sections}
    assert names(by_name["Activity"])[:3] == ["Activities", "Why no Contact?", "Contact decisions"]
    assert "Sync dashboard" in names(by_name["Salesforce"])
    assert {"Tokens", "Access attempts", "Scheduled tasks", "Watermarks"} <= set(
        names(by_name["System"])
    )
    assert '<details class="nav-system' in html and '<details class="nav-system" open' not in html


def test_every_model_an_admin_may_open_is_listed_once(client, admin_member):
    sections, _ = app_list(client, admin_member)

    listed = [e["admin_url"] for s in sections for e in s["models"] if e.get("model")]
    assert len(listed) == len(set(listed))
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert url in listed, model


def test_a_csm_sees_no_system_and_a_rep_only_their_work(client, csm_user, rep_user):
    csm_sections, _ = app_list(client, csm_user)
    rep_sections, rep_html = app_list(client, rep_user)

    assert "System" not in [s["name"] for s in csm_sections]
    assert "Sync dashboard" not in [n for s in csm_sections for n in names(s)]
    assert [s["name"] for s in rep_sections] == ["Activity", "Accounts & domains"]
    assert reverse("admin:sync_syncrun_dashboard") not in rep_html


def test_an_app_page_still_lists_its_models(client, admin_member):
    client.force_login(admin_member)

    response = client.get(reverse("admin:app_list", args=["classification"]))

    assert response.status_code == 200
    assert "Classification rules" in response.content.decode()
