"""The request and response objects the org's WSGI app works with."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote

from .errors import ApiError

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    302: "Found",
    300: "Multiple Choices",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    500: "Server Error",
    503: "Service Unavailable",
}
JSON = "application/json;charset=UTF-8"


class Request:
    def __init__(self, environ):
        self.method = environ["REQUEST_METHOD"].upper()
        self.path = unquote(environ.get("PATH_INFO", "") or "/")
        self.raw_path = environ.get("PATH_INFO", "") or "/"
        self.query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        self.headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            self.headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        self.body = environ["wsgi.input"].read(length) if length else b""
        scheme = environ.get("wsgi.url_scheme", "http")
        self.host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
        self.base = f"{scheme}://{self.host}"

    def json(self):
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(
                400, "JSON_PARSER_ERROR", "Unexpected character in request body"
            ) from None

    def form(self) -> dict[str, str]:
        """The urlencoded body (OAuth endpoints), the last value of each field."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return {}
        return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


class Response:
    def __init__(self, status: int, body=None, content_type=JSON):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers: list[tuple[str, str]] = []

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()
