"""XOAUTH2 login against a real Dovecot with its oauth2 passdb. The identity provider is a local
stand-in for Google / Microsoft 365 (tests/servers/oauth.py): it exchanges refresh tokens and
answers Dovecot's token introspection."""

import pytest

from activities.models import Activity
from integrations.capture.models import CaptureRun, CaptureSource
from tests.capture import mail
from tests.capture.test_imap import run

SOURCES = "/api/v1/capture/sources/"


@pytest.fixture
def oauth_box(oauth_dovecot):
    server, provider = oauth_dovecot
    box = server.add_user()
    with box.connect() as client:
        client.append(
            "INBOX",
            mail.message(sender="Ann Buyer <ann@acme.com>", message_id="<oauth-1@acme.com>"),
        )
    return box, provider


@pytest.fixture
def oauth_source(org, rep_user, oauth_box):
    box, provider = oauth_box
    return CaptureSource.objects.create(
        kind=CaptureSource.Kind.IMAP,
        owner=rep_user,
        host=box.host,
        port=box.port,
        security=CaptureSource.Security.NONE,
        username=box.username,
        auth=CaptureSource.Auth.XOAUTH2,
        secret=provider.issue_refresh_token(box.username),
        oauth_client_id="crmbridge-test",
        oauth_client_secret="client-secret-xyz",
        oauth_token_url=provider.token_url,
    )


def test_capture_over_xoauth2_reads_the_mailbox(oauth_source):
    done = run(oauth_source)

    assert done.state == CaptureRun.State.DONE, done.errors
    assert done.captured == 1
    assert Activity.objects.filter(external_id="oauth-1@acme.com").count() == 1


def test_the_access_token_is_reused_within_its_lifetime(oauth_source, oauth_box):
    _, provider = oauth_box
    before = provider.token_calls

    run(oauth_source)
    oauth_source.refresh_from_db()
    run(oauth_source)

    assert provider.token_calls - before == 1


def test_a_rotated_refresh_token_is_stored(oauth_source, oauth_box):
    _, provider = oauth_box
    old = oauth_source.secret
    provider.rotate = True
    try:
        assert run(oauth_source).state == CaptureRun.State.DONE
    finally:
        provider.rotate = False
    oauth_source.refresh_from_db()
    assert oauth_source.secret and oauth_source.secret != old
    assert provider.refresh_tokens[oauth_source.secret] == oauth_source.username


def test_a_revoked_refresh_token_is_a_clear_error_on_the_source(oauth_source, oauth_box):
    _, provider = oauth_box
    provider.revoke(oauth_source.secret)

    failed = run(oauth_source)

    oauth_source.refresh_from_db()
    assert failed.state == CaptureRun.State.FAILED
    assert "refused the refresh token (invalid_grant" in oauth_source.last_error
    assert failed.errors == [oauth_source.last_error]
    assert oauth_source.running_since is None


def test_the_api_takes_oauth_secrets_and_never_returns_them(api_as, rep_user, oauth_box, org):
    box, provider = oauth_box
    refresh = provider.issue_refresh_token(box.username)
    client = api_as(rep_user)
    body = {
        "kind": "imap",
        "host": box.host,
        "port": box.port,
        "security": "none",
        "username": box.username,
        "auth": "xoauth2",
        "secret": refresh,
        "oauth_client_id": "crmbridge-test",
        "oauth_client_secret": "client-secret-xyz",
        "oauth_token_url": provider.token_url,
    }
    created = client.post(SOURCES, body, format="json")
    assert created.status_code == 201, created.content
    source_id = created.json()["id"]
    tested = client.post(f"{SOURCES}{source_id}/test-connection/").json()
    listed = client.get(SOURCES)

    assert tested["ok"] is True, tested
    for response in (created, listed, client.get(f"{SOURCES}{source_id}/")):
        text = response.content.decode()
        assert refresh not in text and "client-secret-xyz" not in text
        assert "oauth_client_secret" not in text
    access = CaptureSource.objects.get(pk=source_id).oauth_access_token
    assert access and access not in listed.content.decode()


def test_xoauth2_without_a_token_endpoint_is_a_clear_400(api_as, rep_user, org):
    response = api_as(rep_user).post(
        SOURCES,
        {"kind": "imap", "host": "h", "username": "u", "auth": "xoauth2", "secret": "r"},
        format="json",
    )

    assert response.status_code == 400
    assert "token endpoint" in response.content.decode()
