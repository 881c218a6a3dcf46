"""The Salesforce connection an Admin sets up: its stored row, the environment over it, and the
writes of the connection page (save, connect by OAuth, disconnect).

integrations.salesforce sits below crmbridge and cannot read this app's models, so crmbridge
hands it a configuration provider (``connection_config``, installed in ``AppConfig.ready``).
The client asks it on every ``get_client()``: a connection changed in one process (the admin's
web server) is followed by every other (the sync workers) on their next run.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from integrations.salesforce import (
    AuthFlow,
    SalesforceError,
    authorize_url,
    exchange_code,
    get_client,
    pkce_pair,
    revoke,
    session_for,
)

from .models import SalesforceConnection

log = logging.getLogger(__name__)

# Row field -> settings.SALESFORCE key (and SALESFORCE_<key> environment variable).
FIELD_KEYS = {
    "flow": "AUTH_FLOW",
    "login_url": "LOGIN_URL",
    "consumer_key": "CONSUMER_KEY",
    "username": "USERNAME",
    "api_version": "API_VERSION",
    "consumer_secret": "CONSUMER_SECRET",
    "private_key": "PRIVATE_KEY",
    "password": "PASSWORD",
    "refresh_token": "REFRESH_TOKEN",
    "access_token": "ACCESS_TOKEN",
    "instance_url": "INSTANCE_URL",
}
# Changing one of these makes the tokens of the old connection useless.
IDENTITY_FIELDS = ("flow", "login_url", "consumer_key")


def environment() -> dict:
    """What SALESFORCE_* variables set (the values that win), without the unset ones."""
    return {k: v for k, v in (getattr(settings, "SALESFORCE", {}) or {}).items() if v}


def set_by_environment() -> set[str]:
    """Row fields the environment decides, which the connection page shows read-only."""
    env = environment()
    keys = {field for field, key in FIELD_KEYS.items() if key in env}
    if "AUTH_FLOW" not in env and ({"USERNAME", "INSTANCE_URL"} & env.keys()):
        keys.add("flow")  # the legacy variables name the username-password flow
    return keys


def _is_configured(row: SalesforceConnection) -> bool:
    if row.flow == AuthFlow.PASSWORD:
        return bool(row.username)
    return bool(row.consumer_key)


def _row_config(row: SalesforceConnection) -> dict:
    if not _is_configured(row):
        return {}
    config = {key: getattr(row, field) for field, key in FIELD_KEYS.items()}
    return {k: v for k, v in config.items() if v}


@sensitive_variables()
def connection_config() -> dict:
    """The configuration get_client builds from: the stored row, with every environment
    variable that is set winning over it, and the callbacks that keep tokens."""
    env = environment()
    config = _row_config(SalesforceConnection.load())
    if "AUTH_FLOW" not in env and ({"USERNAME", "INSTANCE_URL"} & env.keys()):
        config["AUTH_FLOW"] = AuthFlow.PASSWORD.value
    config.update(env)
    config["ON_TOKENS"] = salesforce_tokens_keep
    config["ON_RECONNECT_REQUIRED"] = salesforce_reconnect_required
    return config


# -- writes the client calls back -------------------------------------------------------------
@sensitive_variables()
def salesforce_tokens_keep(*, access_token: str, instance_url: str, refresh_token=None) -> None:
    """Keep a refreshed access token (and a rotated refresh token) for every process."""
    changes = {"access_token": access_token, "reconnect_required": False, "problem": ""}
    if instance_url:
        changes["instance_url"] = instance_url
    if refresh_token:
        changes["refresh_token"] = refresh_token
    # update(): no history row for every refreshed token.
    SalesforceConnection.objects.filter(pk=SalesforceConnection.SINGLETON_PK).update(**changes)


def salesforce_answer_record(*, client) -> None:
    """Keep what the org last told `client` (its instance, today's API usage) for the pages of
    every process; nothing when the client has not heard from the org."""
    if client.api_max is None:
        return
    SalesforceConnection.load()
    SalesforceConnection.objects.filter(pk=SalesforceConnection.SINGLETON_PK).update(
        last_answer_at=timezone.now(),
        last_instance_url=(client.instance_url or "")[:200],
        api_used=client.api_used,
        api_max=client.api_max,
    )


def salesforce_last_answer() -> dict:
    """What the org last told any process: {"at", "instance_url", "api_used", "api_max"}, or {}."""
    row = SalesforceConnection.objects.filter(pk=SalesforceConnection.SINGLETON_PK).first()
    if row is None or row.last_answer_at is None:
        return {}
    return {
        "at": row.last_answer_at,
        "instance_url": row.last_instance_url,
        "api_used": row.api_used,
        "api_max": row.api_max,
    }


def salesforce_reconnect_required(message: str) -> None:
    log.warning("salesforce: the org refused crmbridge's refresh token; an admin must reconnect")
    SalesforceConnection.load()
    SalesforceConnection.objects.filter(pk=SalesforceConnection.SINGLETON_PK).update(
        reconnect_required=True, problem=message[:500], access_token=""
    )


# -- the connection page's writes -----------------------------------------------------------
@transaction.atomic
@sensitive_variables()
def salesforce_connection_update(*, changes: dict) -> SalesforceConnection:
    """Save the page's fields. A secret left blank keeps the stored one; a new flow, login URL
    or consumer key forgets the old connection's tokens."""
    row = SalesforceConnection.load()
    for name, value in changes.items():
        if name in SalesforceConnection.SECRET_FIELDS and not value:
            continue
        setattr(row, name, value)
    if any(name in changes and changes[name] != _initial(row, name) for name in IDENTITY_FIELDS):
        row.refresh_token = row.access_token = row.instance_url = row.connected_as = ""
        row.connected_at = None
    row.full_clean()
    row.save()
    return row


def _initial(row, name):
    return row.__class__.objects.filter(pk=row.pk).values_list(name, flat=True).first()


def salesforce_connect_start(*, redirect_uri: str) -> dict:
    """Begin the web server flow: where to send the admin's browser, and the state and PKCE
    verifier to keep in their session until Salesforce sends them back."""
    config = connection_config()
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    url = authorize_url(
        login_url=config.get("LOGIN_URL", ""),
        consumer_key=config.get("CONSUMER_KEY", ""),
        redirect_uri=redirect_uri,
        state=state,
        code_challenge=challenge,
    )
    return {"url": url, "state": state, "verifier": verifier}


@sensitive_variables()
def salesforce_connect_finish(*, code: str, verifier: str, redirect_uri: str) -> dict:
    """The code Salesforce sent back, for tokens; then one call to prove the connection
    (which also checks the API version). Returns {"ok", "message"}."""
    config = connection_config()
    session, _ = session_for(config)
    tokens = exchange_code(
        session,
        login_url=config.get("LOGIN_URL", ""),
        consumer_key=config.get("CONSUMER_KEY", ""),
        consumer_secret=config.get("CONSUMER_SECRET", ""),
        code=code,
        code_verifier=verifier,
        redirect_uri=redirect_uri,
    )
    SalesforceConnection.load()
    SalesforceConnection.objects.filter(pk=SalesforceConnection.SINGLETON_PK).update(
        refresh_token=tokens.get("refresh_token", ""),
        access_token=tokens["access_token"],
        instance_url=tokens.get("instance_url", ""),
        connected_as=_identity(tokens),
        connected_at=timezone.now(),
        reconnect_required=False,
        problem="",
    )
    return salesforce_connection_test()


def _identity(tokens: dict) -> str:
    # The identity URL ends with the org id and user id: enough to say who approved.
    return "/".join((tokens.get("id") or "").rstrip("/").split("/")[-2:])


def salesforce_connection_test() -> dict:
    """One cheap call with the process's client (built from the current configuration)."""
    try:
        client = get_client()
    except SalesforceError as exc:
        return {"ok": False, "message": str(exc)}
    result = client.test_connection()
    salesforce_answer_record(client=client)
    if not result["ok"]:
        SalesforceConnection.objects.filter(pk=SalesforceConnection.SINGLETON_PK).update(
            problem=result["message"][:500]
        )
    return result


def salesforce_connection_describe() -> dict:
    """What this process's client knows: flow, org, user, API usage, last error (no secret)."""
    try:
        info = get_client().describe_connection()
    except SalesforceError as exc:
        return {"problem": str(exc)}
    last = salesforce_last_answer()
    as_of = ""
    if not info.get("api_max") and last.get("api_max"):
        # This process has not called the org yet; a sync (in a worker) has.
        info = {**info, "api_used": last["api_used"], "api_max": last["api_max"]}
        as_of = f" at {timezone.localtime(last['at']):%Y-%m-%d %H:%M}, the org's last answer"
    if not info.get("instance_url") and last.get("instance_url"):
        info = {**info, "instance_url": last["instance_url"]}
    usage = None
    if info.get("api_max"):
        share = round(100 * info["api_used"] / info["api_max"], 1)
        usage = f"{info['api_used']} of {info['api_max']} daily API calls used ({share}%){as_of}"
    return {**info, "usage": usage, "last_answer_at": last.get("at")}


@sensitive_variables()
def salesforce_disconnect() -> bool:
    """Revoke crmbridge's token at the org and forget every token. True when the org revoked
    it (False: it was unknown there already, or the org could not be reached)."""
    config = connection_config()
    token = config.get("REFRESH_TOKEN") or config.get("ACCESS_TOKEN")
    revoked = False
    if token:
        try:
            session, _ = session_for(config)
            revoked = revoke(session, login_url=config.get("LOGIN_URL", ""), token=token)
        except SalesforceError as exc:
            log.warning("salesforce: revoking the token failed: %s", exc.error_code)
    row = SalesforceConnection.load()
    row.refresh_token = row.access_token = row.instance_url = row.connected_as = ""
    row.connected_at = None
    row.reconnect_required = False
    row.problem = ""
    row.save()
    return revoked
