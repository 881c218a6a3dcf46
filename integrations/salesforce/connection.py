"""crmbridge's process-wide client, built from ``settings.SALESFORCE``.

Three ways to reach an org: the embedded emulated org (``sfemulator``) in this process, from a
SQLite file; an emulated org served over HTTP at ``http://127.0.0.1:PORT``; a real org.
The same client code runs against all three.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

import sfemulator

from .client import SalesforceClient
from .errors import PermanentError

_client: SalesforceClient | None = None
_client_lock = threading.Lock()
_orgs: dict[str, Any] = {}


def client_from_config(config: dict, **kwargs) -> SalesforceClient:
    """Build a client from a ``settings.SALESFORCE``-shaped dict. INSTANCE_URL / USERNAME win over
    EMULATOR; an ``http://`` INSTANCE_URL is an emulator served on loopback."""
    instance_url = config.get("INSTANCE_URL")
    username = config.get("USERNAME")
    if instance_url and instance_url.startswith("http://"):
        return SalesforceClient.for_loopback(
            instance_url, username or "", config.get("PASSWORD") or "", **kwargs
        )
    if instance_url or username:
        domain = config.get("DOMAIN")
        if not domain and instance_url:
            # https://acme.my.salesforce.com -> My Domain login "acme.my"
            host = instance_url.split("://", 1)[-1].split("/", 1)[0]
            domain = host.removesuffix(".salesforce.com") if host.endswith(".salesforce.com") \
                else None  # fmt: skip
        return SalesforceClient.for_org(
            username or "", config.get("PASSWORD") or "", config.get("SECURITY_TOKEN") or "",
            domain, **kwargs,
        )  # fmt: skip
    path = config.get("EMULATOR")
    if path:
        org = _orgs.get(path)
        if org is None:
            org = _orgs[path] = sfemulator.Org(path)
        return SalesforceClient.for_emulator(org, **kwargs)
    raise PermanentError(
        "Salesforce is not configured: set SALESFORCE_EMULATOR, or SALESFORCE_INSTANCE_URL / "
        "SALESFORCE_USERNAME",
        error_code="NOT_CONFIGURED",
    )


def get_client() -> SalesforceClient:
    """The process-wide client, built from ``settings.SALESFORCE`` on first use."""
    global _client
    with _client_lock:
        if _client is None:
            _client = client_from_config(getattr(settings, "SALESFORCE", {}) or {})
        return _client


def install_client(client: SalesforceClient | None) -> None:
    """Make `client` the process-wide client (tests point crmbridge at an in-memory org)."""
    global _client
    with _client_lock:
        _client = client


def reset_client() -> None:
    """Forget the process-wide client (tests, or after settings change)."""
    global _client
    with _client_lock:
        _client = None
