"""One request through the org's WSGI app: what both ways in (in-process and loopback) share."""

from __future__ import annotations

import io
import sys

MAX_BODY = 64 * 1024 * 1024


def read_chunked(stream) -> bytes:
    """An HTTP/1.1 ``Transfer-Encoding: chunked`` request body, decoded (trailers skipped)."""
    out, total = [], 0
    while True:
        line = stream.readline(1024)
        if not line:
            raise ValueError("chunked body ended early")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while stream.readline(1024) not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(out)
        total += size
        if total > MAX_BODY:
            raise ValueError("request body too large")
        out.append(stream.read(size))
        stream.readline(1024)  # the CRLF after each chunk


def call_app(
    app,
    *,
    method: str,
    path: str,
    query: str,
    headers,
    body: bytes,
    scheme: str,
    server_name: str,
    server_port: int,
    protocol: str = "HTTP/1.1",
    host: str | None = None,
) -> tuple[int, str, list, bytes]:
    """Returns (status code, reason, headers, content). An injected fault that has no HTTP
    answer (timeout, dropped connection) propagates as ``InjectedFault`` for the caller to play."""
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path or "/",
        "QUERY_STRING": query,
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": protocol,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": headers.get("Content-Type", ""),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": scheme,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if host:
        environ["HTTP_HOST"] = host
    for key, value in headers.items():
        name = "HTTP_" + key.upper().replace("-", "_")
        # The body reaches the app decoded, with its length: no transfer coding is left.
        if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING"):
            environ[name] = value
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = response_headers

    content = b"".join(app(environ, start_response))
    code, _, reason = captured["status"].partition(" ")
    return int(code), reason, captured["headers"], content
