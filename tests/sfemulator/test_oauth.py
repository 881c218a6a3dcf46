"""OAuth 2.0 as Salesforce documents it, against the emulated org in-process and over a socket."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

import sfemulator
from sfemulator.seed import DEMO_CALLBACK_URL, DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, seed_demo

CALLBACK = "https://crm.example/admin/salesforce/connection/callback/"
TOKEN_FIELDS = {"access_token", "instance_url", "id", "token_type", "issued_at", "scope"}


class _Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields, self.action, self.buttons = {}, None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "button":
            self.buttons.append(a.get("value"))


def key_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crmbridge test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return private_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def pkce():
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def app(org):
    return org.create_connected_app(
        "crmbridge", callback_urls=[CALLBACK], run_as=org.username, scopes=["api", "refresh_token"]
    )


def authorize(way, app, *, challenge, state="st-1", action="allow", password=None):
    """Open the authorize page, then submit its login form; returns the redirect response."""
    params = {
        "response_type": "code",
        "client_id": app.consumer_key,
        "redirect_uri": CALLBACK,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = way.session.get(way.url("/services/oauth2/authorize"), params=params)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    form = _Form()
    form.feed(page.text)
    assert form.action == "/services/oauth2/authorize" and form.buttons == ["allow", "deny"]
    data = {
        **form.fields,
        "username": way.org.username,
        "password": way.org.password if password is None else password,
        "action": action,
    }
    return way.session.post(way.url(form.action), data=data, allow_redirects=False)


def callback_params(resp) -> dict:
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def token(way, **data):
    return way.session.post(way.url("/services/oauth2/token"), data=data)


def sf_for(way, tokens) -> Salesforce:
    host = urlsplit(tokens["instance_url"]).netloc
    return Salesforce(instance=host, session_id=tokens["access_token"], session=way.session)


def web_server_flow(way, app):
    verifier, challenge = pkce()
    params = callback_params(authorize(way, app, challenge=challenge))
    assert params["state"] == "st-1"
    r = token(
        way,
        grant_type="authorization_code",
        code=params["code"],
        client_id=app.consumer_key,
        client_secret=app.consumer_secret,
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )
    assert r.status_code == 200, r.text
    return r.json(), params["code"], verifier


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
