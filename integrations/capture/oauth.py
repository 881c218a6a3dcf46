"""XOAUTH2 for IMAP sources: the stored refresh token is exchanged at the source's token
endpoint (Google, Microsoft 365 or any OAuth2 provider) for an access token, which is kept,
encrypted, until shortly before it expires. A provider that rotates refresh tokens gets the new
one stored."""

import datetime as dt

import requests
from django.utils import timezone

from .models import CaptureSource

TIMEOUT = 30
# Renew this long before the provider's expiry so a token never lapses mid-run.
MARGIN = dt.timedelta(minutes=2)


class TokenExchangeError(Exception):
    """The provider refused the refresh token (revoked, expired, wrong client)."""


def access_token(source: CaptureSource) -> str:
    now = timezone.now()
    if (
        source.oauth_access_token
        and source.oauth_access_expires
        and (source.oauth_access_expires - MARGIN > now)
    ):
        return source.oauth_access_token
    form = {
        "grant_type": "refresh_token",
        "refresh_token": source.secret,
        "client_id": source.oauth_client_id,
    }
    if source.oauth_client_secret:
        form["client_secret"] = source.oauth_client_secret
    try:
        response = requests.post(source.oauth_token_url, data=form, timeout=TIMEOUT)
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise TokenExchangeError(
            f"The token endpoint {source.oauth_token_url} did not answer usably"
            f" ({type(exc).__name__})."
        ) from None
    if response.status_code != 200 or "access_token" not in body:
        code = body.get("error", f"HTTP {response.status_code}")
        description = str(body.get("error_description", ""))[:200]
        raise TokenExchangeError(
            f"The token endpoint refused the refresh token ({code}"
            f"{': ' + description if description else ''}); connect the account again."
        )
    source.oauth_access_token = body["access_token"]
    source.oauth_access_expires = now + dt.timedelta(seconds=int(body.get("expires_in", 3600)))
    fields = ["oauth_access_token", "oauth_access_expires"]
    if body.get("refresh_token"):
        source.secret = body["refresh_token"]
        fields.append("secret")
    source.save(update_fields=fields)
    return source.oauth_access_token
