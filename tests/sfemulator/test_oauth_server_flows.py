"""OAuth 2.0 server-to-server flows against the emulated org: JWT bearer and client credentials
through simple-salesforce, the connected-app command line, logins over a socket."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import subprocess
import sys

import jwt
import pytest
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

import sfemulator
from sfemulator.seed import DEMO_CALLBACK_URL, DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, seed_demo
from tests.sfemulator.oauth_flow import (
    CALLBACK,
    TOKEN_FIELDS,
    key_pair,
    sf_for,
    token,
)


def jwt_assertion(private_pem, *, iss, sub, aud, exp_minutes=3):
    exp = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=exp_minutes)
    claims = {"iss": iss, "sub": sub, "aud": aud, "exp": int(exp.timestamp())}
    return jwt.encode(claims, private_pem, algorithm="RS256")


def test_jwt_bearer_through_simple_salesforce(org):
    private_pem, cert_pem = key_pair()
    app = org.create_connected_app("server", certificate=cert_pem)
    session = org.session()
    sid, instance = SalesforceLogin(
        username=org.username,
        consumer_key=app.consumer_key,
        privatekey=private_pem,
        domain="sfemulator",
        session=session,
    )
    sf = Salesforce(session_id=sid, instance=instance, session=session)
    assert sf.query("SELECT COUNT() FROM LeadStatus")["totalSize"] == 4
    other_pem, _ = key_pair()
    with pytest.raises(SalesforceAuthenticationFailed) as exc:
        SalesforceLogin(
            username=org.username,
            consumer_key=app.consumer_key,
            privatekey=other_pem,
            domain="sfemulator",
            session=session,
        )
    assert "invalid_grant" in str(exc.value)


def test_jwt_bearer_checks_signature_claims_and_expiry(way):
    private_pem, cert_pem = key_pair()
    app = way.org.create_connected_app("server", certificate=cert_pem)
    good = {"iss": app.consumer_key, "sub": way.org.username, "aud": way.base}

    def grant(assertion):
        return token(way, grant_type=sfemulator.oauth.JWT_BEARER, assertion=assertion)

    r = grant(jwt_assertion(private_pem, **good))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= TOKEN_FIELDS and "refresh_token" not in body
    assert sf_for(way, body).query("SELECT COUNT() FROM Account")["totalSize"] == 0
    cases = [
        (jwt_assertion(key_pair()[0], **good), "invalid_grant"),
        (jwt_assertion(private_pem, **{**good, "aud": "https://evil.example"}), "invalid_grant"),
        (jwt_assertion(private_pem, **good, exp_minutes=-5), "invalid_grant"),
        (jwt_assertion(private_pem, **{**good, "sub": "nobody@x.example"}), "invalid_grant"),
        (jwt_assertion(private_pem, **{**good, "iss": "unknown"}), "invalid_client_id"),
        ("not.a.jwt", "invalid_grant"),
    ]
    for assertion, error in cases:
        r = grant(assertion)
        assert r.status_code == 400 and r.json()["error"] == error, r.text
    assert grant(jwt_assertion(private_pem, **{**good, "aud": "https://x"})).json() == {
        "error": "invalid_grant",
        "error_description": "audience is invalid",
    }


def test_client_credentials_through_simple_salesforce(org, app):
    session = org.session()
    sid, instance = SalesforceLogin(
        consumer_key=app.consumer_key,
        consumer_secret=app.consumer_secret,
        domain="sfemulator",
        session=session,
    )
    sf = Salesforce(session_id=sid, instance=instance, session=session)
    assert sf.query("SELECT Username FROM User")["records"][0]["Username"] == org.username
    with pytest.raises(SalesforceAuthenticationFailed) as exc:
        SalesforceLogin(
            consumer_key=app.consumer_key,
            consumer_secret="wrong",
            domain="sfemulator",
            session=session,
        )
    assert "invalid_client" in str(exc.value)


def test_client_credentials_need_an_execution_user(way, app):
    basic = base64.b64encode(f"{app.consumer_key}:{app.consumer_secret}".encode()).decode()
    r = way.session.post(
        way.url("/services/oauth2/token"),
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200 and set(r.json()) >= TOKEN_FIELDS
    no_user = way.org.create_connected_app("no user")
    r = token(
        way,
        grant_type="client_credentials",
        client_id=no_user.consumer_key,
        client_secret=no_user.consumer_secret,
    )
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_grant",
        "error_description": "no client credentials user enabled",
    }


def test_token_endpoint_errors(way, app):
    r = token(way, grant_type="password", client_id=app.consumer_key)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = token(way, grant_type="refresh_token", refresh_token="x", client_id="unknown")
    assert r.json() == {
        "error": "invalid_client_id",
        "error_description": "client identifier invalid",
    }


def test_connected_app_from_the_command_line(tmp_path):
    _, cert_pem = key_pair()
    (tmp_path / "cert.pem").write_text(cert_pem)
    data = tmp_path / "org.sqlite3"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sfemulator",
            "connected-app",
            "--data",
            str(data),
            "--name",
            "cli app",
            "--callback-url",
            CALLBACK,
            "--callback-url",
            "http://localhost/cb",
            "--certificate",
            str(tmp_path / "cert.pem"),
            "--run-as",
            sfemulator.DEFAULT_USERNAME,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    printed = json.loads(out.stdout)
    assert re.fullmatch(r"3MVG9[\w.]+", printed["consumer_key"]) and printed["consumer_secret"]
    org = sfemulator.Org(str(data))
    app = org.connected_app(printed["consumer_key"])
    assert app.callback_urls == [CALLBACK, "http://localhost/cb"]
    assert app.certificate == cert_pem and app.run_as == sfemulator.DEFAULT_USERNAME
    assert app.consumer_secret == printed["consumer_secret"]


def test_the_demo_org_has_the_demo_connected_app(org):
    seed_demo(org, accounts=2, leads=1, opportunities=1)
    app = org.connected_app(DEMO_CONSUMER_KEY)
    assert app.consumer_secret == DEMO_CONSUMER_SECRET
    assert app.callback_urls == [DEMO_CALLBACK_URL] and app.run_as == org.username


def test_simple_salesforce_oauth_logins_over_a_socket(org, app):
    private_pem, cert_pem = key_pair()
    jwt_app = org.create_connected_app("server", certificate=cert_pem)
    server = sfemulator.serve(org)
    session = sfemulator.loopback_session(server.url, every_host=True)
    try:
        logins = [
            SalesforceLogin(
                username=org.username,
                consumer_key=jwt_app.consumer_key,
                privatekey=private_pem,
                domain="acme.my",
                session=session,
            ),
            SalesforceLogin(
                consumer_key=app.consumer_key,
                consumer_secret=app.consumer_secret,
                domain="acme.my",
                session=session,
            ),
        ]
        for sid, instance in logins:
            assert instance == server.url.removeprefix("http://")
            sf = Salesforce(session_id=sid, instance=instance, session=session)
            assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 1
    finally:
        session.close()
        server.stop()
