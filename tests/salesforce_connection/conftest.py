"""An emulated org served over a socket with a connected app, and the admin's connect journey
driven through the product (Django's test client) and the org's own authorize page."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse

import sfemulator
from integrations.salesforce import reset_client

CALLBACK = "http://testserver/admin/salesforce/connection/callback/"


class AuthorizeForm(HTMLParser):
    """The hidden fields of the org's login-and-approve page."""

    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")


@pytest.fixture
def org(tmp_path):
    org = sfemulator.Org(str(tmp_path / "org.sqlite3"))
    yield org
    org.close()


@pytest.fixture
def served(org):
    server = sfemulator.serve(org, port=0)
    reset_client()
    yield server
    server.stop()
    reset_client()


@pytest.fixture
def app(org):
    return org.create_connected_app(
        "crmbridge", callback_urls=[CALLBACK], run_as=org.username, scopes=["api", "refresh_token"]
    )


def connection_form(**fields):
    data = {
        "flow": "web_server",
        "login_url": "",
        "consumer_key": "",
        "username": "",
        "api_version": "68.0",
        "consumer_secret": "",
        "private_key": "",
        "password": "",
    }
    data.update(fields)
    return data


def approve_in_salesforce(authorize_url, org, *, allow=True):
    """What the admin does on Salesforce's page: sign in and Allow. Returns the callback URL
    Salesforce redirects the browser to."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    form = AuthorizeForm()
    form.feed(page.text)
    data = {**form.fields, "username": org.username, "password": org.password,
            "action": "allow" if allow else "deny"}  # fmt: skip
    base = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    answer = requests.post(
        base + "/services/oauth2/authorize", data=data, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Location"]


@pytest.fixture
def connect(client, admin_member, served, app, org):
    """connect() -> the Django response after the whole web server flow, from the admin's
    "Save and connect Salesforce" to the callback."""
    client.force_login(admin_member)

    def run(**fields):
        change = reverse("admin:crmbridge_salesforceconnection_change", args=[1])
        form = connection_form(login_url=served.url, consumer_key=app.consumer_key, **fields)
        started = client.post(change, {**form, "_connect": "1"})
        assert started.status_code == 302, started.content.decode()[:3000]
        assert started["Location"].startswith(served.url + "/services/oauth2/authorize?")
        assert re.search(r"code_challenge_method=S256", started["Location"])
        back = approve_in_salesforce(started["Location"], org)
        assert back.startswith(CALLBACK)
        return client.get(back[len("http://testserver") :], follow=True)

    return run
