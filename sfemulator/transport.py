"""Two ways for requests (and so simple-salesforce) to reach an emulated org.

* ``EmulatorAdapter``: an in-process transport adapter; any host, http or https, is served by
  the org's WSGI app without a socket.
* ``LoopbackAdapter``: for an org served on ``http://127.0.0.1:PORT``. simple-salesforce always
  builds ``https://{instance}`` URLs; mounted on ``https://127.0.0.1:PORT`` this adapter sends
  those requests as plain HTTP over a real socket to the loopback server.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

from .faults import InjectedFault
from .wsgi_call import call_app


class EmulatorAdapter(BaseAdapter):
    def __init__(self, app):
        super().__init__()
        self.app = app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, bytes):  # a generator or file: sent chunked over a socket
            body = b"".join(c.encode("utf-8") if isinstance(c, str) else c for c in body)
        try:
            code, reason, headers, content = call_app(
                self.app,
                method=request.method,
                path=url.path,
                query=url.query,
                headers=request.headers,
                body=body,
                scheme=url.scheme,
                server_name=url.hostname or "localhost",
                server_port=url.port or (443 if url.scheme == "https" else 80),
                host=url.netloc,
            )
        except InjectedFault as fault:
            if fault.kind == "timeout":
                raise requests.exceptions.ReadTimeout(
                    f"emulated read timeout for {request.method} {request.url}", request=request
                ) from None
            raise requests.exceptions.ConnectionError(
                f"emulated dropped connection for {request.method} {request.url}", request=request
            ) from None
        resp = requests.Response()
        resp.status_code = code
        resp.reason = reason
        resp.headers = CaseInsensitiveDict(headers)
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
    """Sends https://127.0.0.1:PORT/... requests as http:// to a loopback emulator server; with
    ``netloc``, requests for any host go to that server (``https://login.salesforce.com/...``)."""

    def __init__(self, netloc: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.netloc = netloc

    def send(self, request, *args, **kwargs):
        parts = urlsplit(request.url)
        if parts.scheme == "https" or self.netloc:
            netloc = self.netloc or parts.netloc
            request.url = urlunsplit(("http", netloc, parts.path, parts.query, parts.fragment))
        return super().send(request, *args, **kwargs)


def emulator_session(org) -> requests.Session:
    session = requests.Session()
    adapter = EmulatorAdapter(org.wsgi_app)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def loopback_session(
    base_url: str, session: requests.Session | None = None, *, every_host: bool = False
) -> requests.Session:
    """A session that reaches an emulator served at ``base_url`` (``http://127.0.0.1:PORT``),
    including through the https:// URLs simple-salesforce builds. ``every_host=True`` sends
    every https:// request to it, so simple-salesforce's own OAuth logins (which post to
    ``https://{domain}.salesforce.com``) reach the org over the socket too."""
    session = session or requests.Session()
    session.trust_env = False  # never send loopback traffic through an environment proxy
    parts = urlsplit(base_url)
    session.mount(f"https://{parts.netloc}", LoopbackAdapter())
    if every_host:
        session.mount("https://", LoopbackAdapter(parts.netloc))
    return session
