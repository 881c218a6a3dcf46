"""crmbridge's process-wide client, built from a connection configuration.

The configuration is a ``settings.SALESFORCE``-shaped dict. By default it is Django's
``settings.SALESFORCE``; the layer that stores the admin's connection (crmbridge) installs a
provider with ``set_config_provider`` that merges its stored row under the environment. Keys:

``AUTH_FLOW`` (``web_server``, ``jwt_bearer``, ``client_credentials``, ``password``; unset with a
USERNAME: the legacy ``password``), ``LOGIN_URL``, ``CONSUMER_KEY``, ``CONSUMER_SECRET``,
``PRIVATE_KEY``, ``USERNAME``, ``PASSWORD``, ``SECURITY_TOKEN``, ``REFRESH_TOKEN``,
``ACCESS_TOKEN`` + ``INSTANCE_URL`` (a token kept from earlier), ``API_VERSION``, ``DOMAIN``
(legacy), ``EMULATOR`` (the path of an emulated org reached in this process, whatever the flow),
and two callbacks: ``ON_TOKENS(access_token=, instance_url=, refresh_token=)`` to keep a
refreshed token, ``ON_RECONNECT_REQUIRED(message)`` when the org refuses the refresh token.

Three ways to reach an org: the embedded emulated org (``sfemulator``) in this process, from a
SQLite file; an emulated org served over HTTP at ``http://127.0.0.1:PORT``; a real org. The same
client code runs against all three.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings

import sfemulator

from .auth import (
    API_VERSION,
    PRODUCTION_LOGIN_URL,
    SOAP_LOGIN_LAST_VERSION,
    AuthFlow,
    check_legacy_version,
    client_credentials_login,
    instance_host,
    is_loopback,
    jwt_login,
    loopback_login_session,
    refresh_login,
)
from .client import SalesforceClient
from .errors import PermanentError

_client: SalesforceClient | None = None
_client_fingerprint: str | None = None
_installed: SalesforceClient | None = None
_client_lock = threading.Lock()
_orgs: dict[str, Any] = {}
_provider: Callable[[], dict] | None = None
# What a kept token or a callback changes does not call for a new client.
_NOT_IN_FINGERPRINT = {"ACCESS_TOKEN", "INSTANCE_URL", "ON_TOKENS", "ON_RECONNECT_REQUIRED"}


def _emulated_org(path: str):
    org = _orgs.get(path)
    if org is None:
        org = _orgs[path] = sfemulator.Org(path)
    return org


def flow_of(config: dict) -> str | None:
    flow = config.get("AUTH_FLOW")
    if flow:
        try:
            return AuthFlow(flow)
        except ValueError:
            raise PermanentError(
                f"SALESFORCE_AUTH_FLOW={flow!r} is not one of "
                + ", ".join(f.value for f in AuthFlow),
                error_code="NOT_CONFIGURED",
            ) from None
    if config.get("USERNAME") or config.get("INSTANCE_URL"):
        return AuthFlow.PASSWORD
    return None


def client_from_config(config: dict, **kwargs) -> SalesforceClient:
    """Build a client from a ``settings.SALESFORCE``-shaped dict (see the module docstring)."""
    flow = flow_of(config)
    if flow is None or flow == AuthFlow.PASSWORD:
        return _legacy_client(config, **kwargs)
    return _oauth_client(flow, config, **kwargs)


def session_for(config: dict) -> tuple[requests.Session, str]:
    """The HTTP session that reaches the configured org, and which kind of org it is."""
    login_url = config.get("LOGIN_URL") or PRODUCTION_LOGIN_URL
    if config.get("EMULATOR"):
        return _emulated_org(config["EMULATOR"]).session(), "emulator"
    if is_loopback(login_url):
        return loopback_login_session(login_url), "loopback"
    return requests.Session(), "org"


def _oauth_client(flow: str, config: dict, **kwargs) -> SalesforceClient:
    login_url = (config.get("LOGIN_URL") or PRODUCTION_LOGIN_URL).rstrip("/")
    version = config.get("API_VERSION") or API_VERSION
    key = config.get("CONSUMER_KEY") or ""
    if not key:
        raise PermanentError("Salesforce: the consumer key is not set", error_code="NOT_CONFIGURED")
    session, mode = session_for(config)
    if flow == AuthFlow.WEB_SERVER:
        login = refresh_login(
            login_url=login_url,
            consumer_key=key,
            consumer_secret=config.get("CONSUMER_SECRET") or "",
            refresh_token=config.get("REFRESH_TOKEN") or "",
            on_tokens=config.get("ON_TOKENS"),
        )
    elif flow == AuthFlow.JWT_BEARER:
        login = jwt_login(
            login_url=login_url,
            consumer_key=key,
            username=config.get("USERNAME") or "",
            private_key=config.get("PRIVATE_KEY") or "",
            version=version,
        )
    else:
        login = client_credentials_login(
            login_url=login_url,
            consumer_key=key,
            consumer_secret=config.get("CONSUMER_SECRET") or "",
            version=version,
        )
    kept = None
    if config.get("ACCESS_TOKEN") and config.get("INSTANCE_URL"):
        kept = (config["ACCESS_TOKEN"], instance_host(config["INSTANCE_URL"]))
    return SalesforceClient(
        mode=mode,
        flow=flow,
        login=login,
        session=session,
        username=config.get("USERNAME") or None,
        instance_url=login_url if mode == "loopback" else None,
        version=version,
        session_id=kept,
        verify_version=True,
        on_reconnect_required=config.get("ON_RECONNECT_REQUIRED"),
        **kwargs,
    )


def _legacy_client(config: dict, **kwargs) -> SalesforceClient:
    """Username-password SOAP login (INSTANCE_URL / USERNAME win over EMULATOR); an
    ``http://`` INSTANCE_URL is an emulator served on loopback."""
    instance_url = config.get("INSTANCE_URL")
    username = config.get("USERNAME")
    version = config.get("API_VERSION") or SOAP_LOGIN_LAST_VERSION
    check_legacy_version(version)
    kwargs.setdefault("version", version)
    if instance_url and instance_url.startswith("http://"):
        return SalesforceClient.for_loopback(
            instance_url, username or "", config.get("PASSWORD") or "", **kwargs
        )
    if instance_url or username:
        domain = config.get("DOMAIN")
        if not domain and instance_url:
            # https://acme.my.salesforce.com -> My Domain login "acme.my"
            host = instance_host(instance_url)
            domain = host.removesuffix(".salesforce.com") if host.endswith(".salesforce.com") \
                else None  # fmt: skip
        return SalesforceClient.for_org(
            username or "", config.get("PASSWORD") or "", config.get("SECURITY_TOKEN") or "",
            domain, **kwargs,
        )  # fmt: skip
    path = config.get("EMULATOR")
    if path:
        return SalesforceClient.for_emulator(_emulated_org(path), **kwargs)
    raise PermanentError(
        "Salesforce is not connected: an admin connects it on the Salesforce connection page "
        "(or set SALESFORCE_AUTH_FLOW and its variables, or SALESFORCE_EMULATOR)",
        error_code="NOT_CONFIGURED",
    )


# -- the process-wide client ------------------------------------------------------------------
def set_config_provider(provider: Callable[[], dict] | None) -> None:
    """Where get_client reads its configuration (None: ``settings.SALESFORCE``). The provider
    is asked on every get_client(); a changed configuration builds a new client, so that every
    process follows an admin's reconnect."""
    global _provider
    _provider = provider


def current_config() -> dict:
    if _provider is not None:
        return _provider()
    return dict(getattr(settings, "SALESFORCE", {}) or {})


def _fingerprint(config: dict) -> str:
    stable = sorted((k, str(v)) for k, v in config.items() if k not in _NOT_IN_FINGERPRINT)
    return hashlib.sha256(repr(stable).encode()).hexdigest()


def get_client() -> SalesforceClient:
    """The process-wide client: the installed one, else built from the current configuration
    (and built again when that changed)."""
    global _client, _client_fingerprint
    with _client_lock:
        if _installed is not None:
            return _installed
        config = current_config()
        fingerprint = _fingerprint(config)
        if _client is None or fingerprint != _client_fingerprint:
            _client = client_from_config(config)
            _client_fingerprint = fingerprint
        return _client


def install_client(client: SalesforceClient | None) -> None:
    """Make `client` the process-wide client (tests point crmbridge at an in-memory org);
    None goes back to the configured one."""
    global _installed, _client
    with _client_lock:
        _installed = client
        _client = None


def reset_client() -> None:
    """Forget the process-wide client (tests, or after settings change)."""
    global _client, _installed
    with _client_lock:
        _client = None
        _installed = None
