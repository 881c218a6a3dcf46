"""Two ways for requests (and so simple-salesforce) to reach an emulated org.

* ``EmulatorAdapter``: an in-process transport adapter; any host, http or https, is served by
  the org's WSGI app without a socket.
* ``LoopbackAdapter``: for an org served on ``http://127.0.0.1:PORT``. simple-salesforce always
  builds ``https://{instance}`` URLs; mounted on ``https://127.0.0.1:PORT`` this adapter sends
  those requests as plain HTTP over a real socket to the loopback server.
"""

from __future__ import annotations

import io
import sys
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

from .faults import InjectedFault


class EmulatorAdapter(BaseAdapter):
    def __init__(self, app):
        super().__init__()
        self.app = app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        environ = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": url.path or "/",
            "QUERY_STRING": url.query,
            "SERVER_NAME": url.hostname or "localhost",
            "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": url.scheme,
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "HTTP_HOST": url.netloc,
        }
        for key, value in request.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[name] = value
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers

        try:
            chunks = self.app(environ, start_response)
            content = b"".join(chunks)
        except InjectedFault as fault:
            if fault.kind == "timeout":
                raise requests.exceptions.ReadTimeout(
                    f"emulated read timeout for {request.method} {request.url}", request=request
                ) from None
            raise requests.exceptions.ConnectionError(
                f"emulated dropped connection for {request.method} {request.url}", request=request
            ) from None
        resp = requests.Response()
        code, _, reason = captured["status"].partition(" ")
        resp.status_code = int(code)
        resp.reason = reason
        resp.headers = CaseInsensitiveDict(captured["headers"])
        resp.headers["Content-Length"] = str(len(content))
        resp._content = content
        resp.raw = io.BytesIO(content)
        resp.url = request.url
        resp.request = request
        resp.encoding = "utf-8"
        resp.connection = self
        return resp

    def close(self):
        pass


class LoopbackAdapter(HTTPAdapter):
    """Sends https://127.0.0.1:PORT/... requests as http:// to a loopback emulator server."""

    def send(self, request, *args, **kwargs):
        if request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://") :]
        return super().send(request, *args, **kwargs)


def emulator_session(org) -> requests.Session:
    session = requests.Session()
    adapter = EmulatorAdapter(org.wsgi_app)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def loopback_session(base_url: str, session: requests.Session | None = None) -> requests.Session:
    """A session that reaches an emulator served at ``base_url`` (``http://127.0.0.1:PORT``),
    including through the https:// URLs simple-salesforce builds."""
    session = session or requests.Session()
    session.trust_env = False  # never send loopback traffic through an environment proxy
    parts = urlsplit(base_url)
    session.mount(f"https://{parts.netloc}", LoopbackAdapter())
    return session
