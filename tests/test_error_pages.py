"""Error pages in the control panel's look, each with a way back; an ordinary 403 is one log
line, not a traceback; a role is not offered a button it cannot open."""

import logging

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def assert_styled_with_a_way_back(html):
    assert "admin/css/base.css" in html
    assert "crmbridge control panel" in html
    assert f'href="{reverse("admin:index")}"' in html


def test_an_unknown_page_is_a_styled_404(client, rep_user):
    client.force_login(rep_user)

    response = client.get("/admin/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "URLconf" not in html
    assert_styled_with_a_way_back(html)


def test_a_page_beyond_the_role_is_a_styled_403_logged_without_a_traceback(
    client, rep_user, caplog
):
    client.force_login(rep_user)
    caplog.set_level(logging.WARNING, logger="django.request")

    response = client.get(reverse("admin:sync_syncrun_dashboard"))

    assert response.status_code == 403
    html = response.content.decode()
    assert "Your role does not open this page" in html
    assert_styled_with_a_way_back(html)
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert "Forbidden" in record.getMessage()


def test_a_server_error_is_a_styled_500_with_a_way_back():
    response = server_error(RequestFactory().get("/admin/"))

    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert_styled_with_a_way_back(html)


def test_the_sync_runs_list_offers_the_dashboard_only_to_those_who_can_open_it(
    client, csm_user, admin_member
):
    dashboard = reverse("admin:sync_syncrun_dashboard")
    runs = reverse("admin:sync_syncrun_changelist")

    client.force_login(csm_user)
    assert dashboard not in client.get(runs).content.decode()
    client.force_login(admin_member)
    assert dashboard in client.get(runs).content.decode()
