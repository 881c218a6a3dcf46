"""An Admin connects Salesforce from the control panel: the OAuth web server flow with PKCE,
through the emulated org's login-and-approve page served over a socket, in a real browser."""

import re

import pytest
from django.db import transaction

import sfemulator
from crmbridge.models import SalesforceConnection
from crmbridge.roles import ADMIN
from integrations.outbox.services import outbox_enqueue
from integrations.salesforce import reset_client
from integrations.sync.services import sync_run_execute
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def served_org(tmp_path):
    org = sfemulator.Org(str(tmp_path / "org.sqlite3"))
    server = sfemulator.serve(org, port=0)
    reset_client()
    yield org, server
    server.stop()
    org.close()
    reset_client()


def test_an_admin_connects_salesforce_in_the_browser_then_crmbridge_pushes(
    open_session, live_server, served_org
):
    org, server = served_org
    app = org.create_connected_app(
        "crmbridge", callback_urls=[f"{live_server.url}/admin/salesforce/connection/callback/"]
    )
    UserFactory(username="ada", role=ADMIN)
    s = open_session("salesforce-connect")
    page = s.page

    s.login("ada")
    page.get_by_role("link", name="Salesforce connection").first.click()
    page.get_by_role("radio", name=re.compile("web server flow")).check()
    page.get_by_label("Login URL").fill(server.url)
    page.get_by_label("Consumer key").fill(app.consumer_key)
    s.screenshot("form")
    page.get_by_role("button", name="Save and connect Salesforce").click()
    # Salesforce's (the emulated org's) own page: sign in and allow access.
    page.wait_for_url(re.compile(re.escape(server.url) + "/services/oauth2/authorize"))
    page.get_by_label("Username").fill(org.username)
    page.get_by_label("Password").fill(org.password)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(re.escape(live_server.url) + "/admin/"))

    assert "Test connection: connected" in page.locator(".messagelist").inner_text()
    assert page.get_by_role("button", name="Disconnect").is_visible()
    row = SalesforceConnection.load()
    assert row.refresh_token and row.connected_at
    with transaction.atomic():
        outbox_enqueue(sobject="Contact", crmbridge_id="b-1", payload={"LastName": "Browser"})
    run = sync_run_execute(kind="sync", trigger="admin")
    assert run.state == "succeeded", run.message
    assert [r["Crmbridge_Id__c"] for r in org.rows("Contact")] == ["b-1"]
    s.finish()
