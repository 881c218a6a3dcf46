"""OAuth 2.0 endpoints as Salesforce documents them, under ``/services/oauth2/``.

``authorize`` (web server flow: a login-and-approve page; PKCE with S256), ``token``
(``authorization_code``, ``refresh_token``, JWT bearer, ``client_credentials``), ``revoke``
(GET or POST ``token=``) and ``userinfo``. Errors are ``{"error", "error_description"}`` with
status 400, as Salesforce answers them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from html import escape
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .web import Response

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
STANDARD_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
_AUTHORIZE_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
)


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> Response:
        resp = Response(self.status, {"error": self.error, "error_description": self.description})
        resp.headers.append(
            ("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
        )
        return resp


def handle(app, req, endpoint: str) -> Response:
    try:
        if endpoint == "authorize":
            return _authorize(app.org, req)
        if endpoint == "token" and req.method == "POST":
            return _token(app.org, req)
        if endpoint == "revoke" and req.method in ("GET", "POST"):
            return _revoke(app.org, req)
        if endpoint == "userinfo" and req.method in ("GET", "POST"):
            return _userinfo(app.org, req)
    except OAuthError as exc:
        return exc.response()
    return Response(
        404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
    )


# -- authorize (web server flow) --------------------------------------------------------------
def _authorize(org, req) -> Response:
    params = dict(req.query)
    if req.method == "POST":
        params.update(req.form())
    app = org.connected_app(params.get("client_id"))
    if app is None:
        return _error_page("invalid_client_id", "client identifier invalid")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in app.callback_urls:
        return _error_page("redirect_uri_mismatch", "redirect_uri must match configuration")
    state = params.get("state")
    if params.get("response_type") != "code":
        return _redirect(
            redirect_uri,
            state,
            error="unsupported_response_type",
            error_description="response type not supported",
        )
    challenge = params.get("code_challenge")
    if challenge and params.get("code_challenge_method", "S256") != "S256":
        return _redirect(
            redirect_uri,
            state,
            error="invalid_request",
            error_description="invalid code_challenge_method",
        )
    scope = _granted_scope(app, params.get("scope"))
    if scope is None:
        return _redirect(
            redirect_uri,
            state,
            error="invalid_scope",
            error_description="the requested scope is not allowed",
        )
    if req.method != "POST":
        return _login_page(app, params)
    if params.get("action") != "allow":
        return _redirect(
            redirect_uri,
            state,
            error="access_denied",
            error_description="end-user denied authorization",
        )
    user_id = org.check_password(params.get("username", ""), params.get("password", ""))
    if user_id is None:
        return _login_page(app, params, "Please check your username and password.")
    code = org.issue_token(
        "code",
        user_id,
        consumer_key=app.consumer_key,
        scope=scope,
        data={"redirect_uri": redirect_uri, "code_challenge": challenge},
    )
    return _redirect(redirect_uri, state, code=code)


def _granted_scope(app, requested: str | None) -> str | None:
    """The scopes granted: all of the app's when none are asked for; None if any asked for is
    not the app's. ``full`` stands for every scope; ``offline_access`` is ``refresh_token``."""
    allowed = set(app.scopes)
    if not requested:
        return " ".join(app.scopes)
    asked = requested.replace("offline_access", "refresh_token").split()
    if "full" not in allowed and not set(asked) <= allowed:
        return None
    return " ".join(dict.fromkeys(asked))


def _redirect(uri: str, state: str | None, **params) -> Response:
    if state is not None:
        params["state"] = state
    sep = "&" if urlsplit(uri).query else "?"
    resp = Response(302, b"", "text/html;charset=UTF-8")
    resp.headers.append(("Location", uri + sep + urlencode(params)))
    return resp


def _error_page(error: str, description: str) -> Response:
    body = (
        "<!DOCTYPE html><html><head><title>Error</title></head><body>"
        f"<h1>Remote access application error</h1><p>error={escape(error)}&amp;"
        f"error_description={escape(description)}</p></body></html>"
    )
    return Response(400, body, "text/html;charset=UTF-8")


def _login_page(app, params: dict, message: str = "") -> Response:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(params[name])}">'
        for name in _AUTHORIZE_FIELDS
        if params.get(name) is not None
    )
    error = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Login | Salesforce (emulated)</title></head><body><main>"
        f"<h1>Allow access?</h1><p><strong>{escape(app.name)}</strong> is asking to: "
        f"{escape(', '.join(app.scopes))}.</p>{error}"
        '<form method="post" action="/services/oauth2/authorize">'
        f'{hidden}<label for="username">Username</label>'
        f'<input id="username" name="username" value="{escape(params.get("username", ""))}" '
        'autocomplete="username"><label for="password">Password</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password">'
        '<button type="submit" name="action" value="allow">Allow</button>'
        '<button type="submit" name="action" value="deny">Deny</button>'
        "</form></main></body></html>"
    )
    return Response(200, body, "text/html;charset=UTF-8")


# -- token ------------------------------------------------------------------------------------
def _token(org, req) -> Response:
    form = req.form()
    grant = form.get("grant_type")
    if not grant:
        raise OAuthError("invalid_request", "grant type not supported")
    if grant == "authorization_code":
        return _code_grant(org, req, form)
    if grant == "refresh_token":
        return _refresh_grant(org, req, form)
    if grant == JWT_BEARER:
        return _jwt_grant(org, req, form)
    if grant == "client_credentials":
        return _client_credentials_grant(org, req, form)
    raise OAuthError("unsupported_grant_type", "grant type not supported")


def _client(org, req, form, *, secret_required: bool):
    """The connected app a token request names (form fields or HTTP Basic)."""
    key, secret = form.get("client_id"), form.get("client_secret")
    auth = req.headers.get("authorization", "")
    if auth.startswith("Basic "):
        try:
            key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "invalid client credentials") from None
    app = org.connected_app(key)
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    checked = secret is not None or secret_required
    if checked and not hmac.compare_digest((secret or "").encode(), app.consumer_secret.encode()):
        raise OAuthError("invalid_client", "invalid client credentials")
    return app


def _code_grant(org, req, form) -> Response:
    app = _client(org, req, form, secret_required=False)
    code = org.consume_code(form.get("code"))
    if code is None or code.consumer_key != app.consumer_key:
        raise OAuthError("invalid_grant", "invalid authorization code")
    if form.get("redirect_uri") != code.data.get("redirect_uri"):
        raise OAuthError("invalid_grant", "redirect_uri must match configuration")
    challenge = code.data.get("code_challenge")
    verifier = form.get("code_verifier")
    if challenge:
        if not verifier:
            raise OAuthError("invalid_grant", "invalid code verifier")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
            raise OAuthError("invalid_request", "invalid code verifier")
    elif form.get("client_secret") is None:
        raise OAuthError("invalid_client", "invalid client credentials")  # no PKCE: secret
    refresh = None
    if "refresh_token" in code.scope.split():
        refresh = org.issue_token(
            "refresh", code.user_id, consumer_key=app.consumer_key, scope=code.scope
        )
    return _token_response(org, req, app, code.user_id, code.scope, refresh=refresh)


def _refresh_grant(org, req, form) -> Response:
    app = _client(org, req, form, secret_required=False)
    refresh = org.token(form.get("refresh_token"), "refresh")
    if refresh is None or refresh.consumer_key != app.consumer_key:
        raise OAuthError("invalid_grant", "expired access/refresh token")
    return _token_response(
        org, req, app, refresh.user_id, refresh.scope, parent=refresh.token, include_refresh=False
    )


def _jwt_grant(org, req, form) -> Response:
    assertion = form.get("assertion", "")
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise OAuthError("invalid_grant", "invalid assertion") from None
    app = org.connected_app(str(claims.get("iss", "")))
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if not app.certificate:
        raise OAuthError("invalid_grant", "invalid assertion")
    audiences = [*STANDARD_AUDIENCES, req.base, "https://" + req.host]
    aud = claims.get("aud")
    if isinstance(aud, str) and re.fullmatch(r"https://[a-z0-9.-]+\.salesforce\.com", aud):
        audiences.append(aud)  # a My Domain login URL: every salesforce.com host is this org
    try:
        claims = jwt.decode(
            assertion,
            _public_key(app.certificate),
            algorithms=["RS256"],
            audience=audiences,
            options={"require": ["iss", "sub", "aud", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise OAuthError("invalid_grant", "expired authorization code") from None
    except jwt.InvalidAudienceError:
        raise OAuthError("invalid_grant", "audience is invalid") from None
    except jwt.PyJWTError:
        raise OAuthError("invalid_grant", "invalid assertion") from None
    user = org.user_by_username(str(claims.get("sub", "")))
    if user is None:
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    scope = " ".join(s for s in app.scopes if s != "refresh_token")
    return _token_response(org, req, app, user["Id"], scope, include_refresh=False, signed=False)


def _public_key(pem: str):
    data = pem.encode()
    if b"CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return load_pem_public_key(data)


def _client_credentials_grant(org, req, form) -> Response:
    if urlsplit(req.base).hostname in ("login.salesforce.com", "test.salesforce.com"):
        raise OAuthError("invalid_request", "request not supported on this domain")
    app = _client(org, req, form, secret_required=True)
    user = org.user_by_username(app.run_as) if app.run_as else None
    if user is None:
        raise OAuthError("invalid_grant", "no client credentials user enabled")
    scope = " ".join(s for s in app.scopes if s != "refresh_token")
    return _token_response(org, req, app, user["Id"], scope, include_refresh=False)


def _token_response(
    org, req, app, user_id, scope, *, refresh=None, parent=None, include_refresh=True, signed=True
) -> Response:
    access = org.issue_token(
        "access", user_id, consumer_key=app.consumer_key, scope=scope, parent=parent or refresh
    )
    issued_at = str(int(org.auth_clock() * 1000))
    identity = f"{req.base}/id/{org.org_id}/{user_id}"
    body = {"access_token": access}
    if include_refresh and refresh:
        body["refresh_token"] = refresh
    if signed:
        mac = hmac.new(app.consumer_secret.encode(), (identity + issued_at).encode(), "sha256")
        body["signature"] = base64.b64encode(mac.digest()).decode()
    body.update(
        scope=scope, instance_url=req.base, id=identity, token_type="Bearer", issued_at=issued_at
    )
    resp = Response(200, body)
    resp.headers.append(("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private"))
    return resp


# -- revoke, userinfo -------------------------------------------------------------------------
def _revoke(org, req) -> Response:
    token = req.form().get("token") if req.method == "POST" else None
    token = token or req.query.get("token")
    if not token:
        raise OAuthError("unsupported_token_type", "Token type not supported")
    if not org.revoke_token(token):
        raise OAuthError("invalid_token", "invalid token")
    return Response(200, b"", "text/html;charset=UTF-8")


def _bearer_user(org, req) -> tuple[dict | None, Response | None]:
    """The user a Bearer access token stands for, or the 403 Salesforce answers instead."""
    auth = req.headers.get("authorization", "")
    if not auth.startswith(("Bearer ", "OAuth ")):
        return None, Response(403, "Missing_OAuth_Token", "text/plain;charset=UTF-8")
    found = org.token(auth.split(" ", 1)[1].strip(), "access")
    if found is None:
        return None, Response(403, "Bad_OAuth_Token", "text/plain;charset=UTF-8")
    return org.get("User", found.user_id), None


def _urls(req, user) -> dict:
    base = f"{req.base}/services/data/v{{version}}"  # Salesforce leaves {version} to the client
    return {
        "rest": base + "/",
        "sobjects": base + "/sobjects/",
        "query": base + "/query/",
        "profile": f"{req.base}/{user['Id']}",
    }


def _userinfo(org, req) -> Response:
    user, refused = _bearer_user(org, req)
    if refused:
        return refused
    first, _, last = (user["Name"] or "").rpartition(" ")
    return Response(
        200,
        {
            "sub": f"{req.base}/id/{org.org_id}/{user['Id']}",
            "user_id": user["Id"],
            "organization_id": org.org_id,
            "preferred_username": user["Username"],
            "nickname": (user["Username"] or "").split("@")[0],
            "name": user["Name"],
            "email": user["Email"],
            "email_verified": True,
            "given_name": first or None,
            "family_name": last,
            "zoneinfo": "Europe/London",
            "active": bool(user["IsActive"]),
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
            "updated_at": user["LastModifiedDate"],
            "is_app_installed": True,
            "urls": _urls(req, user),
        },
    )


def identity(app, req, org_id: str, user_id: str) -> Response:
    """``GET /id/{orgId}/{userId}``: the identity URL a token response's ``id`` names."""
    org = app.org
    user, refused = _bearer_user(org, req)
    if refused:
        return refused
    if org_id != org.org_id or user_id != user["Id"]:
        return Response(403, "Bad_Id", "text/plain;charset=UTF-8")
    first, _, last = (user["Name"] or "").rpartition(" ")
    return Response(
        200,
        {
            "id": f"{req.base}/id/{org.org_id}/{user['Id']}",
            "asserted_user": True,
            "user_id": user["Id"],
            "organization_id": org.org_id,
            "username": user["Username"],
            "nick_name": (user["Username"] or "").split("@")[0],
            "display_name": user["Name"],
            "email": user["Email"],
            "email_verified": True,
            "first_name": first or None,
            "last_name": last,
            "timezone": "Europe/London",
            "active": bool(user["IsActive"]),
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
            "last_modified_date": user["LastModifiedDate"],
            "is_app_installed": True,
            "urls": _urls(req, user),
        },
    )
