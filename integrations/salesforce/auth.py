"""How crmbridge signs in to an org: OAuth 2.0 flows, and username-password SOAP login as a legacy.

* Web server flow with PKCE: an admin approves crmbridge in the browser once
  (``authorize_url`` -> Salesforce -> our callback -> ``exchange_code``); crmbridge keeps the
  refresh token and gets new access tokens with it (``refresh_login``).
* JWT bearer and client credentials: server to server, through simple-salesforce's own
  ``SalesforceLogin`` (consumer key + private key, consumer key + secret).
* Username-password SOAP ``login()``: Salesforce offers it up to API 64.0 and retires it in
  Summer '27, so it is refused for later versions.

Every login function takes the ``requests.Session`` to use and returns ``(access_token,
instance host)``, the shape of simple-salesforce's own ``SalesforceLogin``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from enum import StrEnum
from urllib.parse import urlencode, urlsplit

import requests
from django.views.decorators.debug import sensitive_variables
from simple_salesforce.exceptions import SalesforceAuthenticationFailed
from simple_salesforce.login import SalesforceLogin

from sfemulator.transport import loopback_session

from .errors import PermanentError, TransientError

# The newest version on every production org since Winter '27 finished rolling out (Oct 2026);
# Salesforce supports a version for at least three years after its release.
API_VERSION = "68.0"
# SOAP login() is not available from API 65.0 (Winter '26) and is retired in Summer '27.
SOAP_LOGIN_LAST_VERSION = "64.0"
SCOPES = "api refresh_token"
PRODUCTION_LOGIN_URL = "https://login.salesforce.com"
SANDBOX_LOGIN_URL = "https://test.salesforce.com"


class AuthFlow(StrEnum):
    WEB_SERVER = "web_server"
    JWT_BEARER = "jwt_bearer"
    CLIENT_CREDENTIALS = "client_credentials"
    PASSWORD = "password"  # legacy SOAP login()


FLOW_LABELS = {
    AuthFlow.WEB_SERVER: "OAuth 2.0 web server flow with PKCE (Connect Salesforce)",
    AuthFlow.JWT_BEARER: "OAuth 2.0 JWT bearer flow (server to server: certificate)",
    AuthFlow.CLIENT_CREDENTIALS: "OAuth 2.0 client credentials flow (server to server: secret)",
    AuthFlow.PASSWORD: (
        "Legacy: username, password and security token (SOAP login(); not available from API "
        "65.0, off by default in orgs created since Winter '26, retired in Summer '27)"
    ),
}


class ReconnectRequired(PermanentError):
    """The org no longer accepts crmbridge's refresh token (revoked, expired, or never given):
    an admin must connect again. Nothing is sent or pulled until then."""

    def __init__(self, message: str):
        super().__init__(message, error_code="RECONNECT_REQUIRED", status=400)


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in str(version).split("."))


def check_legacy_version(version: str) -> None:
    if version_tuple(version) > version_tuple(SOAP_LOGIN_LAST_VERSION):
        raise PermanentError(
            f"Username-password login (SOAP login()) is not available from API version 65.0; "
            f"API {version} was asked for. Connect by OAuth instead (or choose API "
            f"{SOAP_LOGIN_LAST_VERSION} until Salesforce retires login() in Summer '27).",
            error_code="UNSUPPORTED_API_VERSION",
        )


# -- where the org is -----------------------------------------------------------------------------
def is_loopback(login_url: str) -> bool:
    return urlsplit(login_url).scheme == "http"


def login_domain(login_url: str) -> str:
    """simple-salesforce's ``domain`` for a login URL: ``login``, ``test`` or a My Domain name
    (``https://acme.my.salesforce.com`` -> ``acme.my``). An emulator served on loopback stands
    for a My Domain; its session routes every ``*.salesforce.com`` URL to it."""
    host = urlsplit(login_url).hostname or ""
    if is_loopback(login_url):
        return "emulated-org.my"
    if not host.endswith(".salesforce.com"):
        raise PermanentError(
            f"{login_url} is not a Salesforce login URL (login.salesforce.com, "
            "test.salesforce.com or https://<my domain>.my.salesforce.com)",
            error_code="INVALID_LOGIN_URL",
        )
    return host.removesuffix(".salesforce.com")


def loopback_login_session(base_url: str) -> requests.Session:
    """Every https:// URL simple-salesforce builds (login host, instance) goes to the emulator."""
    return loopback_session(base_url, every_host=True)


# -- web server flow with PKCE ------------------------------------------------------------------
def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) with S256, as RFC 7636 and Salesforce describe."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(
    *, login_url: str, consumer_key: str, redirect_uri: str, state: str, code_challenge: str
) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": consumer_key,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{login_url.rstrip('/')}/services/oauth2/authorize?{query}"


@sensitive_variables()
def _token_post(session: requests.Session, login_url: str, data: dict) -> dict:
    """POST to the org's token endpoint; Salesforce's OAuth errors become ours."""
    url = f"{login_url.rstrip('/')}/services/oauth2/token"
    try:
        response = session.post(url, data=data, timeout=60)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(f"token: {type(exc).__name__}", error_code="CONNECTION") from None
    if response.status_code >= 500:
        raise TransientError(f"token: HTTP {response.status_code}", status=response.status_code)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not body.get("access_token"):
        error = body.get("error") or f"HTTP {response.status_code}"
        description = body.get("error_description") or ""
        if error == "invalid_grant":
            raise ReconnectRequired(
                f"Salesforce refused crmbridge's token ({error}: {description}); connect again"
            )
        raise PermanentError(f"{error}: {description}".rstrip(": "), error_code=error, status=400)
    return body


@sensitive_variables()
def exchange_code(
    session: requests.Session, *, login_url: str, consumer_key: str, consumer_secret: str,
    code: str, code_verifier: str, redirect_uri: str,
) -> dict:  # fmt: skip
    """The authorization code (and its PKCE verifier) for tokens: ``{access_token,
    refresh_token, instance_url, id, ...}``."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": consumer_key,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    if consumer_secret:
        data["client_secret"] = consumer_secret
    return _token_post(session, login_url, data)


@sensitive_variables()
def revoke(session: requests.Session, *, login_url: str, token: str) -> bool:
    """Revoke a token at the org (a refresh token takes its access tokens with it). False when
    the org did not know it (already revoked)."""
    url = f"{login_url.rstrip('/')}/services/oauth2/revoke"
    try:
        response = session.post(url, data={"token": token}, timeout=60)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(f"revoke: {type(exc).__name__}", error_code="CONNECTION") from None
    return response.status_code == 200


def instance_host(instance_url: str) -> str:
    return instance_url.split("://", 1)[-1].split("/", 1)[0]


def refresh_login(
    *, login_url: str, consumer_key: str, consumer_secret: str, refresh_token: str,
    on_tokens: Callable[..., None] | None = None,
) -> Callable[[requests.Session], tuple[str, str]]:  # fmt: skip
    """A login function for the web server flow: a new access token from the refresh token."""

    @sensitive_variables()
    def login(session):
        if not refresh_token:
            raise ReconnectRequired("crmbridge is not connected to Salesforce yet")
        data = {
            "grant_type": "refresh_token",
            "client_id": consumer_key,
            "refresh_token": refresh_token,
        }
        if consumer_secret:
            data["client_secret"] = consumer_secret
        body = _token_post(session, login_url, data)
        if on_tokens is not None:
            on_tokens(
                access_token=body["access_token"],
                instance_url=body.get("instance_url", ""),
                refresh_token=body.get("refresh_token"),  # set when the app rotates them
            )
        return body["access_token"], instance_host(body["instance_url"])

    return login


# -- JWT bearer, client credentials: simple-salesforce's own support ------------------------------
def jwt_login(
    *, login_url: str, consumer_key: str, username: str, private_key: str, version: str
) -> Callable[[requests.Session], tuple[str, str]]:
    # The assertion's audience is the login server: an emulator on loopback stands for
    # login.salesforce.com there, since its own URL is not a *.salesforce.com name.
    domain = "login" if is_loopback(login_url) else login_domain(login_url)

    @sensitive_variables()
    def login(session):
        return SalesforceLogin(
            username=username,
            consumer_key=consumer_key,
            privatekey=private_key,
            domain=domain,
            sf_version=version,
            session=session,
        )

    return login


def client_credentials_login(
    *, login_url: str, consumer_key: str, consumer_secret: str, version: str
) -> Callable[[requests.Session], tuple[str, str]]:
    domain = login_domain(login_url)
    if domain in ("login", "test"):
        raise PermanentError(
            "The client credentials flow needs the org's My Domain login URL "
            "(https://<my domain>.my.salesforce.com), not login or test.salesforce.com",
            error_code="INVALID_LOGIN_URL",
        )

    @sensitive_variables()
    def login(session):
        return SalesforceLogin(
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            domain=domain,
            sf_version=version,
            session=session,
        )

    return login


def login_failure(exc: SalesforceAuthenticationFailed, flow: str) -> PermanentError:
    """A readable error for a refused login, naming what to check (never a secret)."""
    what = {
        AuthFlow.JWT_BEARER: "the consumer key, the username, and that the certificate "
        "uploaded to the connected app matches the private key",
        AuthFlow.CLIENT_CREDENTIALS: "the consumer key and secret, the My Domain URL, and the "
        "app's client credentials run-as user",
    }.get(flow, "the username, password and security token")
    return PermanentError(
        f"Salesforce login failed ({exc.code}); check {what}",
        error_code=str(exc.code) if exc.code else "INVALID_LOGIN",
        status=401,
    )


# -- API versions ---------------------------------------------------------------------------------
def check_api_version(session: requests.Session, instance: str, version: str) -> None:
    """Compare the version crmbridge asks for with the org's ``/services/data/`` list."""
    response = session.get(f"https://{instance}/services/data/", timeout=60)
    if response.status_code != 200:
        return  # the calls themselves will say what is wrong
    served = sorted({str(v.get("version")) for v in response.json()}, key=version_tuple)
    if not served or version in served:
        return
    if version_tuple(version) < version_tuple(served[0]):
        raise PermanentError(
            f"API version {version} is retired: this org serves {served[0]} to {served[-1]}. "
            f"Choose {served[-1]}.",
            error_code="API_VERSION_RETIRED",
        )
    raise PermanentError(
        f"API version {version} is unknown to this org, whose newest is {served[-1]}. "
        f"Choose {served[-1]} or lower.",
        error_code="API_VERSION_UNKNOWN",
    )
