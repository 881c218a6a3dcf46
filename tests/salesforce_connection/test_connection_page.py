"""The Salesforce connection page: Admins only, secrets write-only, the environment wins, and the
legacy username-password flow refused where Salesforce no longer offers it."""

import pytest
from django.urls import reverse

from crmbridge.models import SalesforceConnection
from crmbridge.salesforce_connection import connection_config
from integrations.salesforce import PermanentError, client_from_config

pytestmark = pytest.mark.django_db

PAGE = "admin:crmbridge_salesforceconnection_changelist"
SECRET = "cs-4Jx9-NEVER-RENDERED"


def _change_url():
    return reverse("admin:crmbridge_salesforceconnection_change", args=[1])


def _form(**overrides):
    data = {
        "flow": "client_credentials",
        "login_url": "https://acme.my.salesforce.com",
        "consumer_key": "3MVG9-key",
        "username": "",
        "api_version": "68.0",
        "consumer_secret": "",
        "private_key": "",
        "password": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_an_admin_saves_the_connection_and_the_secret_is_never_shown_again(client, admin_member):
    client.force_login(admin_member)
    assert client.get(reverse(PAGE)).status_code == 302

    saved = client.post(_change_url(), _form(consumer_secret=SECRET))
    assert saved.status_code == 302, saved.content.decode()[:2000]

    row = SalesforceConnection.load()
    assert row.consumer_secret == SECRET and row.flow == "client_credentials"
    page = client.get(_change_url()).content.decode()
    assert SECRET not in page
    assert "A value is stored; leave blank to keep it." in page
    # Saving again with the field blank keeps the stored secret.
    client.post(_change_url(), _form(api_version="67.0"))
    row.refresh_from_db()
    assert row.consumer_secret == SECRET and row.api_version == "67.0"
    history = client.get(reverse("admin:crmbridge_salesforceconnection_history", args=[1]))
    assert history.status_code == 200 and SECRET not in history.content.decode()


def test_a_new_consumer_key_forgets_the_old_connections_tokens(client, admin_member):
    SalesforceConnection.objects.create(
        pk=1, flow="web_server", consumer_key="old-key", refresh_token="5Aep-old",
        access_token="00D-old", instance_url="https://acme.my.salesforce.com",
    )  # fmt: skip
    client.force_login(admin_member)
    client.post(_change_url(), _form(flow="web_server", consumer_key="new-key"))
    row = SalesforceConnection.load()
    assert (row.consumer_key, row.refresh_token, row.access_token) == ("new-key", "", "")


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com",
        "javascript:alert(1)",
        "https://acme.my.salesforce.com/services/oauth2/authorize",
        "http://acme.my.salesforce.com",
        "\x00",
    ],
)
def test_a_login_url_that_is_not_salesforces_is_refused_with_a_clear_message(
    client, admin_member, url
):
    client.force_login(admin_member)
    response = client.post(_change_url(), _form(login_url=url))
    assert response.status_code in (200, 400)
    assert "My Domain" in response.content.decode() or response.status_code == 400
    assert SalesforceConnection.load().consumer_key == ""


@pytest.mark.parametrize("path", ["change", "history", "test", "disconnect", "callback"])
def test_csm_and_rep_can_neither_open_nor_post_the_connection_page(
    client, csm_user, rep_user, path
):
    SalesforceConnection.load()
    if path == "callback":
        url = reverse("admin:salesforce_connection_callback")
    elif path in ("change", "history"):
        url = reverse(f"admin:crmbridge_salesforceconnection_{path}", args=[1])
    else:
        url = reverse(f"admin:crmbridge_salesforceconnection_{path}")
    for user in (csm_user, rep_user):
        client.force_login(user)
        assert client.get(url).status_code == 403, (user, path)
        assert client.post(url, _form(consumer_secret=SECRET)).status_code == 403, (user, path)
    assert SalesforceConnection.load().consumer_secret == ""


def test_the_environment_wins_over_the_stored_connection(client, admin_member, settings):
    SalesforceConnection.objects.create(
        pk=1, flow="jwt_bearer", consumer_key="stored-key", login_url="https://test.salesforce.com"
    )
    settings.SALESFORCE = {**settings.SALESFORCE, "CONSUMER_KEY": "env-key", "AUTH_FLOW": None}

    config = connection_config()
    assert config["CONSUMER_KEY"] == "env-key" and config["AUTH_FLOW"] == "jwt_bearer"
    client.force_login(admin_member)
    page = client.get(_change_url()).content.decode()
    assert "Set by the environment, which wins over this page." in page
    client.post(_change_url(), _form(flow="jwt_bearer", consumer_key="typed-key"))
    assert SalesforceConnection.load().consumer_key == "stored-key"


def test_the_legacy_password_flow_is_refused_from_api_65():
    with pytest.raises(PermanentError) as refused:
        client_from_config(
            {"AUTH_FLOW": "password", "USERNAME": "u@x.example", "PASSWORD": "p",
             "API_VERSION": "65.0"}
        )  # fmt: skip
    assert "not available from API version 65.0" in str(refused.value)
    assert client_from_config({"USERNAME": "u@x.example", "PASSWORD": "p"}).version == "64.0"


def test_a_callback_whose_state_does_not_match_changes_nothing(client, admin_member):
    SalesforceConnection.objects.create(pk=1, flow="web_server", consumer_key="k")
    client.force_login(admin_member)
    response = client.get(
        reverse("admin:salesforce_connection_callback"),
        {"code": "aPrx-stolen", "state": "forged"},
        follow=True,
    )
    assert "did not match the connection started here" in response.content.decode()
    assert SalesforceConnection.load().refresh_token == ""
