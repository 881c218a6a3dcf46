"""Secrets never leave: the Salesforce password and security token, and the dialer's webhook
secrets, appear in no admin page, API response, log record, export or error e-mail."""

import logging
import sys

import pytest
from django.core import mail
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

import sfemulator
from crmbridge.roles import ADMIN
from tests.security.conftest import admin_request, admin_url_paths, registered_models

pytestmark = pytest.mark.django_db

SF_PASSWORD = "Pw-9f3kQz-NEVER-SHOWN"
SF_TOKEN = "Tok-7Hq2Lm-NEVER-SHOWN"
SECRETS = (SF_PASSWORD, SF_TOKEN)


@pytest.fixture
def org_password():
    return SF_PASSWORD


@pytest.fixture
def emulated_org_over_http(org_password):
    org = sfemulator.Org(":memory:", username="ops@acme.example", password=org_password)
    server = sfemulator.serve(org, port=0)
    yield org, server
    server.stop()


@pytest.fixture
def salesforce_settings(settings, emulated_org_over_http):
    """crmbridge pointed at an org over HTTP with recognisable credentials."""
    from integrations.salesforce import reset_client

    _org, server = emulated_org_over_http
    settings.SALESFORCE = {
        "EMULATOR": None,
        "INSTANCE_URL": server.url,
        "USERNAME": "ops@acme.example",
        "PASSWORD": SF_PASSWORD,
        "SECURITY_TOKEN": SF_TOKEN,
        "DOMAIN": None,
    }
    reset_client()
    yield settings.SALESFORCE
    reset_client()


def _assert_no_secret(text, where, secrets=SECRETS):
    for secret in secrets:
        assert secret not in text, f"a secret appears in {where}"


def _admin_pages_without(client, admin_user, secrets):
    """GET every page the admin site serves; none may show a secret. Returns how many opened."""
    ids = {}
    for model, model_admin in registered_models():
        obj = model_admin.get_queryset(admin_request(admin_user)).order_by("pk").first()
        ids[f"{model._meta.app_label}_{model._meta.model_name}_"] = obj.pk if obj else 1

    def fill(name, argument):
        return next((pk for prefix, pk in ids.items() if name.startswith(prefix)), 1)

    pages = 0
    for path, name in admin_url_paths(fill):
        if name in ("logout", "salesforce_connection_callback"):
            continue
        response = client.get(path)
        if response.status_code == 200 and hasattr(response, "content"):
            _assert_no_secret(response.content.decode(errors="replace"), path, secrets)
            pages += 1
    return pages


def _all_log_text(caplog):
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)


def test_the_salesforce_password_and_token_appear_on_no_admin_page(
    client, role_users, world, salesforce_settings, caplog
):
    caplog.set_level(logging.DEBUG)
    admin_user = role_users[ADMIN]
    client.force_login(admin_user)
    # "Test connection" first, so that the connection page has a live client to describe.
    tested = client.post("/admin/crmbridge/salesforceconnection/test/", follow=True)
    assert tested.status_code == 200
    assert "connected" in tested.content.decode()
    assert _admin_pages_without(client, admin_user, SECRETS) > 30
    _assert_no_secret(_all_log_text(caplog), "the logs")


@pytest.mark.parametrize("org_password", ["the-org-has-another-password"])
def test_a_failed_salesforce_login_shows_and_logs_no_secret(
    client, role_users, salesforce_settings, caplog
):
    caplog.set_level(logging.DEBUG)
    client.force_login(role_users[ADMIN])

    page = client.post("/admin/crmbridge/salesforceconnection/test/", follow=True)

    text = page.content.decode()
    assert "login failed" in text.lower()
    _assert_no_secret(text, "the connection page")
    _assert_no_secret(_all_log_text(caplog), "the logs")


def test_api_responses_carry_no_salesforce_secret(api_as, role_users, world, salesforce_settings):
    from tests.security.test_api_role_isolation import ROUTES

    api = api_as(role_users[ADMIN])
    for path in ROUTES:
        response = api.get(path)
        _assert_no_secret(response.content.decode(errors="replace"), path)


def _error_report():
    """The report of an exception in a view, as Django's AdminEmailHandler builds it."""
    request = RequestFactory().post("/api/v1/activities/", {"subject": "hello"})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info(), is_email=True)
        return reporter.get_traceback_text(), reporter.get_traceback_html()


@pytest.mark.usefixtures("salesforce_settings")
def test_error_emails_hide_the_salesforce_secrets(settings):
    """What Django mails to ADMINS on a 500: its settings dump must not show the credentials."""
    settings.ADMINS = [("ops", "ops@crmbridge.example")]
    text, html = _error_report()

    assert "SALESFORCE" in text  # the settings are in the report...
    _assert_no_secret(text, "the error e-mail (text)")  # ...with the secrets hidden
    _assert_no_secret(html, "the error e-mail (html)")


# -- dialer webhook secrets ---------------------------------------------------------------------
def test_a_dialer_webhook_secret_is_shown_once_and_then_never_again(
    client, api_as, role_users, caplog
):
    from integrations.dialer.models import DialerProject
    from integrations.dialer.services import project_create

    caplog.set_level(logging.DEBUG)
    project, secret = project_create(name="Outbound EMEA")
    admin_user = role_users[ADMIN]
    client.force_login(admin_user)
    api = api_as(admin_user)

    # The webhook works with it...
    posted = client.post(
        "/api/v1/dialer/call-results/",
        {"project": project.pk, "call_id": "c-1", "result_code": "NOPE", "record": {}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert posted.status_code == 202, posted.content
    # ...and nothing shows it afterwards: not the admin, not the API, not the logs, not e-mail.
    opts = DialerProject._meta
    for path in [
        f"/admin/{opts.app_label}/{opts.model_name}/",
        f"/admin/{opts.app_label}/{opts.model_name}/{project.pk}/change/",
        f"/admin/{opts.app_label}/{opts.model_name}/{project.pk}/history/",
        "/admin/dialer/callrun/",
    ]:
        page = client.get(path)
        if page.status_code == 200:
            _assert_no_secret(page.content.decode(), path, secrets=[secret])
    for path in [
        "/api/v1/dialer/projects/",
        f"/api/v1/dialer/projects/{project.pk}/",
        "/api/v1/dialer/runs/",
    ]:
        _assert_no_secret(api.get(path).content.decode(), path, secrets=[secret])
    _assert_no_secret(_all_log_text(caplog), "the logs", secrets=[secret])
    for message in mail.outbox:
        _assert_no_secret(message.body + message.subject, "an e-mail", secrets=[secret])


def test_one_projects_secret_does_not_read_another_projects_runs(client):
    from integrations.dialer.services import project_create

    first, first_secret = project_create(name="First")
    second, second_secret = project_create(name="Second")
    client.post(
        "/api/v1/dialer/call-results/",
        {"project": second.pk, "call_id": "c-2", "result_code": "X", "record": {}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {second_secret}",
    )

    as_first = client.get("/api/v1/dialer/runs/", HTTP_AUTHORIZATION=f"Bearer {first_secret}")
    cross_post = client.post(
        "/api/v1/dialer/call-results/",
        {"project": second.pk, "call_id": "c-3", "result_code": "X", "record": {}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {first_secret}",
    )

    assert as_first.status_code == 200
    assert as_first.json()["results"] == []
    assert cross_post.status_code in (400, 401, 403, 404)


# -- OAuth secrets: consumer secret, private key, refresh and access tokens ----------------------
CONSUMER_SECRET = "CS-8Kd2Wq-NEVER-SHOWN"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nPK-3Vb7Zr-NEVER-SHOWN\n-----END PRIVATE KEY-----"


@pytest.fixture
def oauth_connection(emulated_org_over_http):
    """A web server flow connection holding a real refresh token of the emulated org, a typed
    consumer secret and a private key; one refresh puts a real access token in the row."""
    from crmbridge.models import SalesforceConnection
    from crmbridge.salesforce_connection import salesforce_connection_test
    from integrations.salesforce import reset_client

    org, server = emulated_org_over_http
    app = org.create_connected_app("crmbridge", consumer_secret=CONSUMER_SECRET)
    refresh = org.issue_token(
        "refresh", org.user_id, consumer_key=app.consumer_key, scope="api refresh_token"
    )
    SalesforceConnection.objects.update_or_create(
        pk=1,
        defaults={
            "flow": "web_server", "login_url": server.url, "consumer_key": app.consumer_key,
            "consumer_secret": CONSUMER_SECRET, "private_key": PRIVATE_KEY,
            "refresh_token": refresh,
        },
    )  # fmt: skip
    reset_client()
    assert salesforce_connection_test()["ok"]
    access = SalesforceConnection.load().access_token
    assert access
    yield (CONSUMER_SECRET, PRIVATE_KEY, refresh, access)
    reset_client()


def test_oauth_secrets_appear_on_no_admin_page_api_response_log_line_or_error_email(
    client, api_as, role_users, world, oauth_connection, caplog
):
    from tests.security.test_api_role_isolation import ROUTES

    caplog.set_level(logging.DEBUG)
    admin_user = role_users[ADMIN]
    client.force_login(admin_user)
    client.post("/admin/crmbridge/salesforceconnection/test/")
    assert _admin_pages_without(client, admin_user, oauth_connection) > 30
    api = api_as(admin_user)
    for path in ROUTES:
        _assert_no_secret(api.get(path).content.decode(errors="replace"), path, oauth_connection)
    # An error e-mail about the connection form's POST shows what was typed as stars.
    posted = client.post(
        "/admin/crmbridge/salesforceconnection/1/change/",
        {"flow": "web_server", "login_url": "not a url", "consumer_secret": CONSUMER_SECRET,
         "private_key": PRIVATE_KEY, "api_version": "68.0"},
    )  # fmt: skip
    report = _report_for(posted.wsgi_request)
    assert "consumer_secret" in report
    _assert_no_secret(report, "the error e-mail", oauth_connection)
    _assert_no_secret(posted.content.decode(), "the refused form", oauth_connection)
    _assert_no_secret(_all_log_text(caplog), "the logs", oauth_connection)
    for message in mail.outbox:
        _assert_no_secret(message.body + message.subject, "an e-mail", oauth_connection)


def _report_for(request):
    """Django's error e-mail about `request` (raised here, so no test frame's locals show)."""
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info(), is_email=True)
        return reporter.get_traceback_text() + reporter.get_traceback_html()


def test_oauth_secrets_are_stored_encrypted(oauth_connection):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT consumer_secret, private_key, refresh_token, access_token "
            "FROM crmbridge_salesforceconnection"
        )
        stored = " ".join(cursor.fetchone())
    _assert_no_secret(stored, "the database", oauth_connection)
