"""Every way of connecting, end to end through the product against the emulated org served over
a socket: the admin's web server flow, JWT bearer with a key pair made here, client credentials;
tokens that expire mid-sync; a revoked token that stops the sync until an admin reconnects."""

import datetime as dt
import itertools

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.urls import reverse

from crmbridge.models import SalesforceConnection
from crmbridge.salesforce_connection import salesforce_connection_test, salesforce_connection_update
from integrations.outbox.models import OutboxItem
from integrations.salesforce import get_client
from integrations.sync.services import sync_run_execute

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def key_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crmbridge test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    return private_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def contacts(enqueue, n, prefix="c"):
    for i in range(n):
        enqueue(sobject="Contact", crmbridge_id=f"{prefix}-{i}",
                payload={"LastName": f"Person {i}", "Email": f"p{i}@acme.example"})  # fmt: skip


def pushed_once(org, n, prefix="c"):
    ids = [r["Crmbridge_Id__c"] for r in org.rows("Contact")]
    wanted = {f"{prefix}-{i}" for i in range(n)}
    return wanted <= set(ids) and all(ids.count(i) == 1 for i in wanted)


def test_an_admin_connects_by_the_web_server_flow_then_crmbridge_syncs_and_pushes(
    connect, org, enqueue
):
    page = connect()

    assert "Test connection: connected" in page.content.decode()
    row = SalesforceConnection.load()
    assert row.refresh_token and row.access_token and row.connected_at
    assert get_client().flow == "web_server"
    contacts(enqueue, 3)
    run = sync_run_execute(kind="sync", trigger="admin")
    assert run.state == "succeeded", run.message
    assert pushed_once(org, 3)


def test_the_jwt_bearer_flow_signs_in_with_a_key_pair_made_in_the_test(served, org, enqueue):
    private_pem, certificate = key_pair()
    app = org.create_connected_app("crmbridge jwt", certificate=certificate)
    salesforce_connection_update(changes={
        "flow": "jwt_bearer", "login_url": served.url, "consumer_key": app.consumer_key,
        "username": org.username, "private_key": private_pem,
    })  # fmt: skip

    assert salesforce_connection_test()["ok"], salesforce_connection_test()
    contacts(enqueue, 2)
    assert sync_run_execute(kind="push", trigger="admin").state == "succeeded"
    assert pushed_once(org, 2)
    # Another key than the certificate's is refused, and the page says what to check.
    other_pem, _ = key_pair()
    salesforce_connection_update(changes={"private_key": other_pem, "username": "x@y.example"})
    result = salesforce_connection_test()
    assert not result["ok"] and "certificate" in result["message"]


def test_the_client_credentials_flow_signs_in_with_key_and_secret(served, org, app, enqueue):
    salesforce_connection_update(changes={
        "flow": "client_credentials", "login_url": served.url,
        "consumer_key": app.consumer_key, "consumer_secret": app.consumer_secret,
    })  # fmt: skip

    contacts(enqueue, 2)
    assert sync_run_execute(kind="push", trigger="admin").state == "succeeded"
    assert pushed_once(org, 2)
    assert get_client().flow == "client_credentials"


def test_access_tokens_that_expire_mid_sync_are_refreshed_and_nothing_is_lost_or_sent_twice(
    connect, org, enqueue
):
    connect()
    ticks = itertools.count()
    start = org.auth_clock()
    org.auth_clock = lambda: start + next(ticks)  # every look at the clock is a second later
    org.session_seconds = 3  # so an access token lasts a few calls
    org.expire_sessions()  # the token of the connect was issued on the real clock
    contacts(enqueue, 450)

    run = sync_run_execute(kind="push", trigger="admin")

    assert run.state == "succeeded", run.message
    assert get_client().logins >= 2  # refreshed more than once during the push
    assert pushed_once(org, 450)
    assert not OutboxItem.objects.exclude(state="sent").exists()
    assert SalesforceConnection.load().access_token  # the newest token is kept


def test_a_revoked_token_asks_to_reconnect_and_the_outbox_waits_then_goes_out_once(
    connect, org, enqueue, client
):
    connect()
    org.revoke_token(SalesforceConnection.load().refresh_token)  # revoked in Salesforce Setup
    contacts(enqueue, 2)

    run = sync_run_execute(kind="sync", trigger="admin")

    assert run.state == "failed" and "RECONNECT_REQUIRED" in run.message
    assert set(OutboxItem.objects.values_list("state", "attempts")) == {("pending", 0)}
    home = client.get(reverse("admin:index")).content.decode()
    assert "Reconnect Salesforce" in home
    assert org.count("Contact") == 0

    connect()
    assert "Reconnect Salesforce" not in client.get(reverse("admin:index")).content.decode()
    assert sync_run_execute(kind="sync", trigger="admin").state == "succeeded"
    assert sync_run_execute(kind="sync", trigger="admin").state == "succeeded"
    assert pushed_once(org, 2) and org.count("Contact") == 2


def test_disconnect_revokes_the_token_at_salesforce_and_forgets_it(connect, org, client):
    connect()
    refresh = SalesforceConnection.load().refresh_token

    page = client.post(reverse("admin:crmbridge_salesforceconnection_disconnect"), follow=True)

    assert "revoked at Salesforce" in page.content.decode()
    assert org.token(refresh) is None
    row = SalesforceConnection.load()
    assert (row.refresh_token, row.access_token) == ("", "")


@pytest.mark.parametrize(("version", "says"), [("30.0", "retired"), ("99.0", "unknown")])
def test_an_api_version_the_org_does_not_serve_is_named_at_connect_time(
    served, org, app, version, says
):
    salesforce_connection_update(changes={
        "flow": "client_credentials", "login_url": served.url, "api_version": version,
        "consumer_key": app.consumer_key, "consumer_secret": app.consumer_secret,
    })  # fmt: skip

    result = salesforce_connection_test()

    assert not result["ok"] and says in result["message"] and "68.0" in result["message"]
