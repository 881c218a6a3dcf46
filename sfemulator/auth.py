"""Who may call the org: connected apps, OAuth tokens and API sessions, stored in the org.

Tokens live in the org's SQLite file, so every process that opens the same org (the loopback
server, an in-process client) honours them. Access tokens expire after ``session_seconds``
(read against ``auth_clock``, seconds since the epoch); refresh tokens last until revoked.
"""
# ruff: noqa: S608 -- table names are constants; values are always bound.

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field

DEFAULT_SESSION_SECONDS = 7200
CODE_SECONDS = 15 * 60  # Salesforce: an authorization code is valid for 15 minutes
DEFAULT_SCOPES = ("api", "refresh_token")

AUTH_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS _connected_app (consumer_key TEXT PRIMARY KEY, name TEXT, "
    "consumer_secret TEXT, certificate TEXT, callback_urls TEXT, scopes TEXT, run_as TEXT)",
    "CREATE TABLE IF NOT EXISTS _token (token TEXT PRIMARY KEY, kind TEXT NOT NULL, "
    "user_id TEXT, consumer_key TEXT, scope TEXT, expires_at REAL, parent TEXT, data TEXT)",
    "CREATE INDEX IF NOT EXISTS ix_token_parent ON _token (parent)",
)


@dataclass
class ConnectedApp:
    """A connected app as an admin configures it in Setup (the emulator keeps the fields OAuth
    needs). ``certificate`` is the PEM certificate (or public key) that verifies JWT bearer
    assertions; ``run_as`` is the execution user of the client credentials flow."""

    name: str
    consumer_key: str
    consumer_secret: str
    callback_urls: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=lambda: list(DEFAULT_SCOPES))
    certificate: str | None = None
    run_as: str | None = None

    @classmethod
    def from_row(cls, row) -> ConnectedApp:
        key, name, secret, cert, callbacks, scopes, run_as = row
        return cls(
            name=name,
            consumer_key=key,
            consumer_secret=secret,
            callback_urls=[u for u in (callbacks or "").split("\n") if u],
            scopes=(scopes or "").split(),
            certificate=cert,
            run_as=run_as,
        )


@dataclass
class Token:
    token: str
    kind: str  # access, refresh, code
    user_id: str
    consumer_key: str | None
    scope: str
    expires_at: float | None
    parent: str | None
    data: dict


class OrgAuth:
    """Mixed into Org: connected apps, tokens and sessions."""

    auth_clock = staticmethod(time.time)

    def _create_auth_schema(self) -> None:
        for sql in AUTH_SCHEMA:
            self.conn.execute(sql)

    # -- configuration ------------------------------------------------------------------------
    @property
    def session_seconds(self) -> int:
        return int(self._meta_get("session_seconds", DEFAULT_SESSION_SECONDS))

    @session_seconds.setter
    def session_seconds(self, value: int) -> None:
        with self.lock:
            self._meta_set("session_seconds", int(value))

    # -- connected apps -----------------------------------------------------------------------
    def create_connected_app(
        self,
        name: str,
        *,
        callback_urls=(),
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        certificate: str | None = None,
        scopes=DEFAULT_SCOPES,
        run_as: str | None = None,
    ) -> ConnectedApp:
        """Create (or, for an existing consumer key, replace) a connected app; returns it with
        its consumer key and secret (generated when not given)."""
        app = ConnectedApp(
            name=name,
            consumer_key=consumer_key or "3MVG9" + secrets.token_urlsafe(60).replace("-", "."),
            consumer_secret=consumer_secret or secrets.token_hex(32).upper(),
            callback_urls=list(callback_urls),
            scopes=list(scopes),
            certificate=certificate,
            run_as=run_as,
        )
        if run_as and self.user_by_username(run_as) is None:
            raise ValueError(f"no active user with username {run_as!r}")
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO _connected_app (consumer_key, name, consumer_secret, "
                "certificate, callback_urls, scopes, run_as) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    app.consumer_key,
                    app.name,
                    app.consumer_secret,
                    app.certificate,
                    "\n".join(app.callback_urls),
                    " ".join(app.scopes),
                    app.run_as,
                ),
            )
        return app

    def connected_app(self, consumer_key: str | None) -> ConnectedApp | None:
        if not consumer_key:
            return None
        with self.lock:
            row = self.conn.execute(
                "SELECT consumer_key, name, consumer_secret, certificate, callback_urls, scopes, "
                "run_as FROM _connected_app WHERE consumer_key = ?",
                (consumer_key,),
            ).fetchone()
        return ConnectedApp.from_row(row) if row else None

    def connected_apps(self) -> list[ConnectedApp]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT consumer_key, name, consumer_secret, certificate, callback_urls, scopes, "
                "run_as FROM _connected_app ORDER BY name"
            ).fetchall()
        return [ConnectedApp.from_row(r) for r in rows]

    def user_by_username(self, username: str) -> dict | None:
        with self.lock:
            row = self.conn.execute(
                'SELECT Id, Name, Email, Username FROM "User" WHERE Username = ? '
                "AND IsDeleted = 0 AND IsActive = 1",
                (username or "",),
            ).fetchone()
        if row is None:
            return None
        return dict(zip(("Id", "Name", "Email", "Username"), row, strict=True))

    def check_password(self, username: str, password: str) -> str | None:
        """The user id when the credentials are the org's API user's (password, or password
        followed by the security token); else None."""
        ok = username == self.username and password in (
            self.password,
            self.password + self.security_token,
        )
        return self.user_id if ok else None

    # -- tokens -------------------------------------------------------------------------------
    def issue_token(
        self,
        kind: str,
        user_id: str,
        *,
        consumer_key: str | None = None,
        scope: str = "",
        parent: str | None = None,
        data: dict | None = None,
    ) -> str:
        prefix = {"access": f"{self.org_id[:15]}!", "refresh": "5Aep861", "code": "aPrx"}[kind]
        token = prefix + secrets.token_urlsafe(48 if kind == "access" else 40)
        lifetime = {"access": self.session_seconds, "code": CODE_SECONDS}.get(kind)
        expires = None if lifetime is None else self.auth_clock() + lifetime
        with self.lock:
            self.conn.execute(
                "INSERT INTO _token (token, kind, user_id, consumer_key, scope, expires_at, "
                "parent, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    token,
                    kind,
                    user_id,
                    consumer_key,
                    scope,
                    expires,
                    parent,
                    json.dumps(data or {}),
                ),
            )
        return token

    def token(self, token: str | None, kind: str | None = None) -> Token | None:
        """A live (unexpired, unrevoked) token, optionally of one kind."""
        if not token:
            return None
        with self.lock:
            row = self.conn.execute(
                "SELECT token, kind, user_id, consumer_key, scope, expires_at, parent, data "
                "FROM _token WHERE token = ?",
                (token,),
            ).fetchone()
        if row is None:
            return None
        found = Token(*row[:7], json.loads(row[7] or "{}"))
        if kind is not None and found.kind != kind:
            return None
        if found.expires_at is not None and found.expires_at <= self.auth_clock():
            return None
        return found

    def consume_code(self, code: str | None) -> Token | None:
        """An authorization code, once: a second use finds nothing."""
        with self.lock:
            found = self.token(code, "code")
            self.conn.execute("DELETE FROM _token WHERE token = ? AND kind = 'code'", (code,))
        return found

    def revoke_token(self, token: str | None) -> bool:
        """Revoke an access token, or a refresh token and every access token it issued."""
        with self.lock:
            found = self.token(token)
            if found is None or found.kind == "code":
                return False
            self.conn.execute("DELETE FROM _token WHERE token = ? OR parent = ?", (token, token))
        return True

    def revoke_app_tokens(self, consumer_key: str | None = None) -> int:
        """What an admin's "Revoke" in Setup does: every refresh and access token of one
        connected app (or of every app) stops working. Returns how many were revoked."""
        with self.lock:
            where = "consumer_key = ?" if consumer_key else "consumer_key IS NOT NULL"
            args = (consumer_key,) if consumer_key else ()
            cur = self.conn.execute(f"DELETE FROM _token WHERE {where}", args)
        return cur.rowcount

    # -- sessions (what REST and SOAP calls carry) ---------------------------------------------
    def login(self, username: str, password: str) -> str | None:
        """SOAP login(): a session id for the API user's credentials, else None."""
        user_id = self.check_password(username, password)
        return None if user_id is None else self.issue_token("access", user_id, scope="api")

    def check_session(self, sid: str | None) -> bool:
        return self.token(sid, "access") is not None

    def session_user_id(self, sid: str | None) -> str | None:
        found = self.token(sid, "access")
        return found.user_id if found else None

    def expire_sessions(self) -> None:
        """Every access token expires now (refresh tokens stay valid): the next call gets
        401 INVALID_SESSION_ID and an OAuth client refreshes."""
        with self.lock:
            self.conn.execute("DELETE FROM _token WHERE kind = 'access'")
