"""A loopback HTTP server for an Org (threaded, stdlib only)."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .faults import InjectedFault
from .wsgi_call import call_app, read_chunked

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sfemulator"

    def log_message(self, fmt, *args):  # route to logging instead of stderr
        log.debug("%s - %s", self.address_string(), fmt % args)

    def _handle(self):
        path, _, query = self.path.partition("?")
        try:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                body = read_chunked(self.rfile)
            else:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
        except ValueError:
            self.close_connection = True
            self.send_error(400, "Bad request body")
            return
        try:
            code, reason, headers, content = call_app(
                self.server.app,
                method=self.command,
                path=path,
                query=query,
                headers=self.headers,
                body=body,
                scheme="http",
                server_name=self.server.server_address[0],
                server_port=self.server.server_address[1],
                protocol=self.request_version,
            )
        except InjectedFault as fault:
            if fault.kind == "timeout":
                # Hold the connection without answering until the client gives up (or the
                # server stops), then drop it.
                self.server.stopping.wait(self.server.fault_hold_seconds)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(code, reason)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, org, host="127.0.0.1", port=0, fault_hold_seconds=5.0):
        super().__init__((host, port), _Handler)
        self.app = org.wsgi_app
        self.org = org
        self.fault_hold_seconds = fault_hold_seconds
        self.stopping = threading.Event()
        self._thread = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread; returns self (use ``.url``, then ``.stop()``)."""
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sfemulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)


def serve(org, host="127.0.0.1", port=0, fault_hold_seconds=5.0) -> EmulatorServer:
    """Start a loopback server for org in a background thread and return it."""
    return EmulatorServer(org, host, port, fault_hold_seconds).start()
