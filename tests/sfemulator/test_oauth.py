"""OAuth 2.0 as Salesforce documents it (web server flow, refresh, revoke, userinfo), against the
emulated org in-process and over a socket."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from simple_salesforce.exceptions import SalesforceExpiredSession

import sfemulator
from tests.sfemulator.oauth_flow import (
    CALLBACK,
    TOKEN_FIELDS,
    authorize,
    callback_params,
    pkce,
    sf_for,
    token,
    web_server_flow,
)


def test_web_server_flow_with_pkce_gives_tokens_that_work(way, app):
    tokens, code, verifier = web_server_flow(way, app)
    assert TOKEN_FIELDS | {"refresh_token", "signature"} <= set(tokens)
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "api refresh_token"
    assert tokens["instance_url"] == way.base
    assert tokens["id"] == f"{way.base}/id/{way.org.org_id}/{way.org.user_id}"
    # the signature is base64(HMAC-SHA256(consumer secret, id + issued_at))
    signed = (tokens["id"] + tokens["issued_at"]).encode()
    mac = hmac.new(app.consumer_secret.encode(), signed, hashlib.sha256)
    assert tokens["signature"] == base64.b64encode(mac.digest()).decode()
    sf = sf_for(way, tokens)
    sf.Account.create({"Name": "Acme"})
    assert sf.query("SELECT Name FROM Account")["records"][0]["Name"] == "Acme"
    # the code is single-use
    again = token(
        way,
        grant_type="authorization_code",
        code=code,
        client_id=app.consumer_key,
        client_secret=app.consumer_secret,
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "invalid authorization code",
    }


def test_pkce_verifier_and_redirect_uri_are_checked(way, app):
    _, challenge = pkce()
    code = callback_params(authorize(way, app, challenge=challenge))["code"]
    r = token(
        way,
        grant_type="authorization_code",
        code=code,
        client_id=app.consumer_key,
        redirect_uri=CALLBACK,
        code_verifier="not-the-verifier",
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    code = callback_params(authorize(way, app, challenge=challenge))["code"]
    r = token(
        way,
        grant_type="authorization_code",
        code=code,
        client_id=app.consumer_key,
        redirect_uri=CALLBACK,
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    verifier, challenge = pkce()
    code = callback_params(authorize(way, app, challenge=challenge))["code"]
    r = token(
        way,
        grant_type="authorization_code",
        code=code,
        client_id=app.consumer_key,
        redirect_uri="https://evil.example/cb",
        code_verifier=verifier,
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_an_authorization_code_is_short_lived(way, app):
    verifier, challenge = pkce()
    code = callback_params(authorize(way, app, challenge=challenge))["code"]
    later = way.org.auth_clock() + 16 * 60
    way.org.auth_clock = lambda: later
    r = token(
        way,
        grant_type="authorization_code",
        code=code,
        client_id=app.consumer_key,
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_authorize_checks_client_redirect_uri_and_reports_denial(way, app):
    url = way.url("/services/oauth2/authorize")
    base = {"response_type": "code", "client_id": app.consumer_key, "redirect_uri": CALLBACK}
    r = way.session.get(url, params={**base, "client_id": "nope"}, allow_redirects=False)
    assert r.status_code == 400 and "invalid_client_id" in r.text
    r = way.session.get(
        url, params={**base, "redirect_uri": "https://evil.example/"}, allow_redirects=False
    )
    assert r.status_code == 400 and "redirect_uri_mismatch" in r.text
    assert "Location" not in r.headers  # never sent to an unregistered callback
    r = way.session.get(
        url, params={**base, "response_type": "token", "state": "s"}, allow_redirects=False
    )
    assert callback_params(r) == {
        "error": "unsupported_response_type",
        "error_description": "response type not supported",
        "state": "s",
    }
    denied = callback_params(authorize(way, app, challenge=pkce()[1], state="x", action="deny"))
    assert denied["error"] == "access_denied" and denied["state"] == "x"


def test_a_wrong_password_shows_the_login_page_again(way, app):
    r = authorize(way, app, challenge=pkce()[1], password="wrong")
    assert r.status_code == 200 and "check your username and password" in r.text


def test_the_login_page_escapes_what_it_echoes(way, org):
    app = org.create_connected_app('<script>alert("app")</script>', callback_urls=[CALLBACK])
    r = way.session.get(
        way.url("/services/oauth2/authorize"),
        params={
            "response_type": "code",
            "client_id": app.consumer_key,
            "redirect_uri": CALLBACK,
            "state": '"><script>x()</script>',
        },
    )
    assert r.status_code == 200 and "<script>" not in r.text


def test_expired_access_token_is_401_and_refresh_gives_a_new_one(way, app):
    way.org.session_seconds = 60
    tokens, _, _ = web_server_flow(way, app)
    sf = sf_for(way, tokens)
    sf.query("SELECT Id FROM Account")
    later = way.org.auth_clock() + 61
    way.org.auth_clock = lambda: later
    r = way.session.get(
        way.url("/services/data/v66.0/limits"),
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert r.status_code == 401
    assert r.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")
    r = token(
        way,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        client_id=app.consumer_key,
        client_secret=app.consumer_secret,
    )
    assert r.status_code == 200
    fresh = r.json()
    assert TOKEN_FIELDS | {"signature"} <= set(fresh) and "refresh_token" not in fresh
    assert fresh["access_token"] != tokens["access_token"]
    assert sf_for(way, fresh).query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_revoking_the_refresh_token_ends_its_access_tokens(way, app):
    tokens, _, _ = web_server_flow(way, app)
    r = way.session.post(
        way.url("/services/oauth2/revoke"), data={"token": tokens["refresh_token"]}
    )
    assert r.status_code == 200
    with pytest.raises(SalesforceExpiredSession):
        sf_for(way, tokens).query("SELECT Id FROM Account")
    r = token(
        way,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        client_id=app.consumer_key,
    )
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }
    r = way.session.post(
        way.url("/services/oauth2/revoke"), data={"token": tokens["refresh_token"]}
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_token"


def test_revoke_by_get_ends_an_access_token_only(way, app):
    tokens, _, _ = web_server_flow(way, app)
    r = way.session.get(
        way.url("/services/oauth2/revoke"), params={"token": tokens["access_token"]}
    )
    assert r.status_code == 200
    with pytest.raises(SalesforceExpiredSession):
        sf_for(way, tokens).query("SELECT Id FROM Account")
    r = token(
        way,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        client_id=app.consumer_key,
    )
    assert r.status_code == 200


def test_userinfo(way, app):
    tokens, _, _ = web_server_flow(way, app)
    r = way.session.get(
        way.url("/services/oauth2/userinfo"),
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert r.status_code == 200
    info = r.json()
    assert info["user_id"] == way.org.user_id and info["organization_id"] == way.org.org_id
    assert info["preferred_username"] == way.org.username and info["sub"] == tokens["id"]
    r = way.session.get(
        way.url("/services/oauth2/userinfo"), headers={"Authorization": "Bearer nope"}
    )
    assert r.status_code == 403 and r.text == "Bad_OAuth_Token"


def test_an_admin_can_revoke_an_apps_tokens_and_set_their_lifetime(way, app):
    tokens, _, _ = web_server_flow(way, app)
    other = way.org.create_connected_app("other", run_as=way.org.username)
    kept = token(
        way,
        grant_type="client_credentials",
        client_id=other.consumer_key,
        client_secret=other.consumer_secret,
    ).json()
    r = way.session.post(
        way.url("/_emulator/sessions/revoke"), json={"consumer_key": app.consumer_key}
    )
    assert r.status_code == 200 and r.json()["revoked"] == 2  # the refresh and access token
    r = token(
        way,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        client_id=app.consumer_key,
    )
    assert r.json()["error"] == "invalid_grant"
    assert sf_for(way, kept).query("SELECT COUNT() FROM User")["totalSize"] == 1
    r = way.session.post(way.url("/_emulator/sessions/lifetime"), json={"seconds": 5})
    assert r.json() == {"session_seconds": 5} and way.org.session_seconds == 5
    assert way.session.post(way.url("/_emulator/sessions/lifetime"), json=[5]).status_code == 400


def test_the_identity_url_of_a_token(way, app):
    tokens, _, _ = web_server_flow(way, app)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    r = way.session.get(tokens["id"], headers=headers)
    assert r.status_code == 200
    assert r.json()["username"] == way.org.username and r.json()["id"] == tokens["id"]
    assert way.session.get(tokens["id"]).text == "Missing_OAuth_Token"


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "/services/oauth2/token", {"grant_type": "authorization_code", "code": "\x00"}),
        (
            "post",
            "/services/oauth2/token",
            {"grant_type": sfemulator.oauth.JWT_BEARER, "assertion": "a." * 200_000},
        ),
        ("post", "/services/oauth2/token", b"grant_type=refresh_token&client_id=%ED%A0%80"),
        ("post", "/services/oauth2/token", b"\xff\xfe\x00"),
        ("get", "/services/oauth2/authorize", "client_id=%00&redirect_uri=%ED%A0%80&state=%00"),
        ("post", "/services/oauth2/revoke", {"token": "\x00" * 10_000}),
        ("get", "/services/oauth2/userinfo", None),
    ],
)
def test_odd_input_never_breaks_the_oauth_endpoints(way, method, path, data):
    kwargs = {"params": data} if method == "get" else {"data": data}
    if isinstance(data, dict) and method == "post":
        kwargs = {"data": {k: v.encode() for k, v in data.items()}}
    r = getattr(way.session, method)(way.url(path), **kwargs)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
