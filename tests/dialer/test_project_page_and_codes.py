"""What an admin needs to connect the dialer is on the project's page; runs say the action in
words; result codes do not depend on case (kept in capitals)."""

import re
from html import unescape

import pytest
from django.urls import reverse

from integrations.dialer.models import Action, ResultCode
from tests.dialer.test_configuration import inline_form

pytestmark = pytest.mark.django_db


def text_of(response):
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_the_project_page_shows_the_webhook_the_project_id_and_its_integrations(
    client, admin_member, project, make_integration
):
    make_integration(Action.UPDATE_OR_CREATE_CONTACT, codes=("YES", "CB"), name="Book a meeting")
    client.force_login(admin_member)

    page = text_of(client.get(reverse("admin:dialer_dialerproject_change", args=[project.pk])))

    assert "Webhook URL http://testserver/api/v1/dialer/call-results/" in page
    assert f"Project id {project.pk}" in page
    assert "Authorization: Bearer" in page
    assert "Book a meeting Update, and create CONTACT if no match found CB, YES yes" in page


def test_runs_say_the_action_in_words(client, admin_member, make_integration, post_call):
    make_integration(Action.UPDATE_ONLY, name="Check the number")
    post_call("YES", {"email": "x@y.example"})
    client.force_login(admin_member)

    page = text_of(client.get(reverse("admin:dialer_callrun_changelist")))

    assert "Update only (Lead or Contact)" in page
    assert "update_only" not in page


def test_a_result_code_in_any_case_finds_its_integration(make_integration, post_call, run_of):
    make_integration(Action.UPDATE_ONLY, codes=("cb",))

    run = run_of(post_call("Cb", {"email": "nobody@y.example"}))

    assert ResultCode.objects.get().code == "CB"
    assert run["integration"] is not None
    assert run["status"] != "no_integration"


def test_the_admin_refuses_a_code_that_differs_only_in_case(
    client, admin_member, project, make_integration
):
    make_integration(Action.UPDATE_ONLY, codes=("YES",), name="Yes people")
    client.force_login(admin_member)

    response = client.post(
        reverse("admin:dialer_integration_add"), inline_form(project, name="Other", codes=["yes"])
    )

    assert response.status_code == 200
    assert "already triggers integration" in response.content.decode()
    assert "Yes people" in response.content.decode()
