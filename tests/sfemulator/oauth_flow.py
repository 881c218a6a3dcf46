"""Walking the emulated org's OAuth 2.0 flows as a client would: PKCE, the login form, tokens."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from simple_salesforce import Salesforce

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
