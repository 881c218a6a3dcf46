"""A small local OAuth2 provider standing in for Google / Microsoft 365 (which tests cannot
reach): a token endpoint that exchanges refresh tokens for access tokens, and the token
introspection endpoint Dovecot's oauth2 passdb asks whether an access token is valid.

    provider = OAuthProvider(); provider.start()
    refresh = provider.issue_refresh_token("rep@example.com")
    provider.token_url, provider.introspection_url, provider.token_calls, provider.revoke(refresh)
"""

import json
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.servers import free_port


class OAuthProvider:
    def __init__(self, *, lifetime=3600):
        self.port = free_port()
        self.lifetime = lifetime
        self.refresh_tokens = {}  # refresh token -> username
        self.access_tokens = {}  # access token -> username
        self.token_calls = 0
        self.rotate = False  # True: every exchange returns a new refresh token
        self.token_url = f"http://127.0.0.1:{self.port}/token"
        self.introspection_url = f"http://127.0.0.1:{self.port}/introspect"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())

    def start(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def issue_refresh_token(self, username):
        token = secrets.token_urlsafe(24)
        self.refresh_tokens[token] = username
        return token

    def revoke(self, refresh_token):
        self.refresh_tokens.pop(refresh_token, None)

    def _exchange(self, form):
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        username = self.refresh_tokens.get(form.get("refresh_token", ""))
        if username is None:
            return 400, {"error": "invalid_grant", "error_description": "Token has been revoked."}
        self.token_calls += 1
        access = secrets.token_urlsafe(24)
        self.access_tokens[access] = username
        body = {"access_token": access, "token_type": "Bearer", "expires_in": self.lifetime}
        if self.rotate:
            self.revoke(form["refresh_token"])
            body["refresh_token"] = self.issue_refresh_token(username)
        return 200, body

    def _introspect(self, form, headers):
        token = form.get("token") or headers.get("Authorization", "").removeprefix("Bearer ")
        username = self.access_tokens.get(token)
        return 200, ({"active": True, "username": username} if username else {"active": False})

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                if self.path.startswith("/token"):
                    status, body = provider._exchange(form)
                else:
                    status, body = provider._introspect(form, self.headers)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        return Handler
