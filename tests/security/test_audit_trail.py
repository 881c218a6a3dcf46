"""The audit trail: one page where an Admin reads who changed what, and when, across Global
Settings, Configuration Profiles, account domains, classification rules, dialer projects and
integrations, the Salesforce connection and secrets (a rotation reads "secret changed", never
the value). Newest first, filtered by model and actor, paginated; nobody but an Admin reads it."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crmbridge.models import GlobalSettings
from crmbridge.roles import ADMIN, CSM, REP
from crmbridge.services import global_settings_update
from integrations.salesforce import API_VERSION
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

AUDIT = "/admin/audit/"
SF_SECRET = "sf-consumer-secret-value-1234"


def _entries(page):
    return re.findall(r'<tr class="audit-entry" data-model="([\w.]+)">', page)


@pytest.fixture
def changes(client, role_users):
    """An Admin's day, through the API and the control panel as they would do it."""
    admin = role_users[ADMIN]
    client.force_login(admin)
    api = {"content_type": "application/json"}
    for minutes in (45, 50):
        response = client.patch("/api/v1/settings/", {"sync_interval_minutes": minutes}, **api)
        assert response.status_code == 200
    assert client.post("/api/v1/profiles/", {"name": "EMEA team"}, **api).status_code == 201
    account = AccountFactory(website="https://acme.com")
    domain = {"account": account.sf_id, "domain": "acme-europe.com"}
    assert client.post("/api/v1/account-domains/", domain, **api).status_code == 201
    rule = {"keyword": "Chief Information Officer", "dimension": "department", "value": "IT"}
    assert client.post("/api/v1/classification/rules/", rule, **api).status_code == 201
    project = client.post("/api/v1/dialer/projects/", {"name": "Outbound"}, **api).json()
    rotated = client.post(f"/api/v1/dialer/projects/{project['id']}/rotate-secret/").json()
    connection = {
        "flow": "web_server",
        "login_url": "https://login.salesforce.com",
        "consumer_key": "3MVG9example",
        "username": "",
        "api_version": API_VERSION,
        "consumer_secret": SF_SECRET,
        "private_key": "",
        "password": "",
    }
    response = client.post("/admin/crmbridge/salesforceconnection/1/change/", connection)
    assert response.status_code == 302, response.content.decode()[:2000]
    return {"secrets": [project["secret"], rotated["secret"], SF_SECRET], "admin": admin}


def test_it_says_who_changed_what_newest_first_and_never_a_secret(client, changes):
    page = client.get(AUDIT).content.decode()
    models = list(dict.fromkeys(_entries(page)))  # each model where it first appears
    assert models[:6] == [
        "crmbridge.salesforceconnection",
        "dialer.dialerproject",
        "classification.classificationrule",
        "accounts.accountdomain",
        "crmbridge.configurationprofile",
        "crmbridge.globalsettings",
    ]
    assert "Sync interval minutes: 45 → 50" in page
    assert "acme-europe.com" in page and "EMEA team" in page
    assert page.count("Secret changed") >= 2  # the rotation and the connection's secret
    assert "consumer secret" in page
    assert changes["admin"].username in page
    for secret in changes["secrets"]:
        assert secret not in page


def test_it_filters_by_model_and_by_actor(client, changes, role_users):
    only = _entries(client.get(AUDIT, {"model": "dialer.dialerproject"}).content.decode())
    assert only and set(only) == {"dialer.dialerproject"}
    mine = _entries(client.get(AUDIT, {"actor": changes["admin"].pk}).content.decode())
    assert len(mine) >= 7
    theirs = _entries(client.get(AUDIT, {"actor": role_users[CSM].pk}).content.decode())
    assert theirs == []
    # Nonsense in the filters is an empty or whole list, never an error.
    for params in ({"model": "nope.nothing"}, {"actor": "x"}, {"page": "9999"}):
        assert client.get(AUDIT, params).status_code == 200


def test_it_pages_fifty_entries_at_a_time(client, role_users):
    admin = role_users[ADMIN]
    for minutes in range(31, 31 + 60):
        global_settings_update(changes={"sync_interval_minutes": minutes}, user=admin)
    client.force_login(admin)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(AUDIT, {"model": "crmbridge.globalsettings"}).content.decode()
    assert len(_entries(first)) == 50
    with CaptureQueriesContext(connection) as fewer:
        client.get(AUDIT, {"model": "crmbridge.globalsettings", "page": 2})
    assert len(queries) == len(fewer)  # 50 entries cost what 11 do: no query per entry
    assert "Sync interval minutes: 89 → 90" in first  # the newest first
    second = client.get(AUDIT, {"model": "crmbridge.globalsettings", "page": 2}).content.decode()
    assert 10 <= len(_entries(second)) <= 12
    assert "Sync interval minutes: 31 → 32" in second
    assert "(the first version recorded)" in second  # the row the migration made had none
    assert "page=2" in first and "model=crmbridge.globalsettings" in first


@pytest.mark.parametrize("role", [CSM, REP])
def test_nobody_but_an_admin_reads_it_by_any_door(role_users, role):
    settings = GlobalSettings.load()
    global_settings_update(changes={"sync_interval_minutes": 44}, user=role_users[ADMIN])
    other = Client()
    other.force_login(role_users[role])
    doors = [
        AUDIT,
        f"{AUDIT}?model=crmbridge.globalsettings",
        f"{AUDIT}?actor={role_users[ADMIN].pk}&page=2",
        f"{AUDIT}export/",
        "/admin/crmbridge/salesforceconnection/1/history/",
        "/admin/crmbridge/configurationprofile/1/history/",
        "/admin/autocomplete/?app_label=crmbridge&model_name=historicalglobalsettings"
        "&field_name=history_user&term=a",
        "/admin/autocomplete/?app_label=crmbridge&model_name=globalsettings"
        "&field_name=history_user&term=a",
    ]
    for url in doors:
        response = other.get(url)
        assert response.status_code in (403, 404), (url, response.status_code)
        assert b"44" not in response.content or response.status_code == 404, url
    assert settings.pk == 1
