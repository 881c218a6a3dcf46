"""The one place that speaks CardDAV (RFC 6352) over HTTP: discovery, address books, cards.

Plain WebDAV requests through `requests`, bodies built and read with lxml: `caldav` has no
address-book objects (its collections and searches are calendar ones), and what is needed here
is six request shapes. Changes are read with sync-collection (RFC 6578) when the server offers
it, else by listing ETags; cards are fetched in batches with addressbook-multiget.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urljoin, urlsplit

import requests
from lxml import etree

DAV = "DAV:"
CARD = "urn:ietf:params:xml:ns:carddav"
NS = {"d": DAV, "c": CARD}
TIMEOUT = 30
MULTIGET_BATCH = 200
XML = {"Content-Type": "application/xml; charset=utf-8"}


class CardDavError(Exception):
    """The server refused or failed; `message` says so in words an admin understands."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class CardDavAuthError(CardDavError):
    pass


class SyncTokenInvalid(CardDavError):
    pass


class PreconditionFailed(CardDavError):
    """The card changed on the server since we read it (If-Match / If-None-Match)."""


@dataclass
class Changes:
    changed: dict[str, str | None] = field(default_factory=dict)  # href -> etag
    removed: set[str] = field(default_factory=set)
    token: str = ""


def _el(tag, ns=DAV, parent=None, text=None):
    node = (
        etree.Element(f"{{{ns}}}{tag}", nsmap=NS)
        if parent is None
        else etree.SubElement(parent, f"{{{ns}}}{tag}")
    )
    if text is not None:
        node.text = text
    return node


def _body(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _propfind(*props) -> bytes:
    root = _el("propfind")
    prop = _el("prop", parent=root)
    for ns, tag in props:
        _el(tag, ns, prop)
    return _body(root)


def _parse(content: bytes):
    try:
        return etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise CardDavError(f"The server's answer is not XML: {exc}") from None


def _status_ok(node) -> bool:
    status = node.findtext("d:status", namespaces=NS) or ""
    return " 2" in status or status.startswith("2")


class CardDavClient:
    """A session with one CardDAV account. `requests_made` counts every HTTP request."""

    def __init__(self, url: str, username: str, password: str, *, timeout=TIMEOUT):
        self.base_url = url if url.endswith("/") else url + "/"
        self.session = requests.Session()
        self.session.auth = (username, password)
        self.session.headers["User-Agent"] = "crmbridge"
        self.timeout = timeout
        self.requests_made = 0

    # -- the one place that does HTTP ---------------------------------------------------------
    def request(self, method, url, *, body=None, headers=None, ok=(200, 207)):
        self.requests_made += 1
        try:
            response = self.session.request(
                method,
                urljoin(self.base_url, url),
                data=body,
                headers=headers or {},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise CardDavError(f"Cannot reach the CardDAV server: {type(exc).__name__}") from None
        if response.status_code == 401:
            raise CardDavAuthError(
                "The CardDAV server refused the user name or password.", status=401
            )
        if response.status_code == 412:
            raise PreconditionFailed("The card changed on the server meanwhile.", status=412)
        if response.status_code not in ok:
            raise CardDavError(
                f"{method} {urlsplit(response.url).path} answered {response.status_code}.",
                status=response.status_code,
            )
        return response

    def _multistatus(self, method, url, body, depth):
        response = self.request(method, url, body=body, headers={**XML, "Depth": str(depth)})
        return response, _parse(response.content)

    def absolute(self, href: str) -> str:
        return urljoin(self.base_url, href)

    def _href(self, response) -> str:
        """A response's href as an absolute, unquoted URL (the form cards are kept under)."""
        return unquote(self.absolute(response.findtext("d:href", namespaces=NS).strip()))

    # -- discovery ----------------------------------------------------------------------------
    def _href_prop(self, url, ns, tag) -> str | None:
        _, root = self._multistatus("PROPFIND", url, _propfind((ns, tag)), 0)
        href = root.findtext(f".//{{{ns}}}{tag}/d:href", namespaces=NS)
        return self.absolute(href.strip()) if href else None

    def home_url(self) -> str:
        """The account's address-book home, through .well-known/carddav (RFC 6764) when the
        URL given is the server's root, else the URL given."""
        start = self.base_url
        if urlsplit(start).path in ("", "/"):
            start = urljoin(start, "/.well-known/carddav")
        principal = self._href_prop(start, DAV, "current-user-principal") or self.base_url
        home = self._href_prop(principal, CARD, "addressbook-home-set")
        return home or principal

    def address_books(self, home: str) -> dict[str, str]:
        """url -> display name of the address books under `home`."""
        body = _propfind((DAV, "resourcetype"), (DAV, "displayname"))
        _, root = self._multistatus("PROPFIND", home, body, 1)
        found = {}
        for response in root.findall("d:response", NS):
            if response.find(".//d:resourcetype/c:addressbook", NS) is None:
                continue
            href = self.absolute(response.findtext("d:href", namespaces=NS).strip())
            found[href] = (response.findtext(".//d:displayname", namespaces=NS) or "").strip()
        return found

    def address_book_create(self, home: str, name: str) -> str:
        """A new address book called `name` under `home` (extended MKCOL, RFC 5689)."""
        url = urljoin(home if home.endswith("/") else home + "/", f"{uuid.uuid4().hex}/")
        root = _el("mkcol")
        prop = _el("prop", parent=_el("set", parent=root))
        kind = _el("resourcetype", parent=prop)
        _el("collection", parent=kind)
        _el("addressbook", CARD, kind)
        _el("displayname", parent=prop, text=name)
        self.request("MKCOL", url, body=_body(root), headers=XML, ok=(201,))
        return url

    # -- what changed -------------------------------------------------------------------------
    def sync_collection(self, book: str, token: str) -> Changes:
        """Changes since `token` ("" = everything), RFC 6578."""
        root = _el("sync-collection")
        _el("sync-token", parent=root, text=token or None)
        _el("sync-level", parent=root, text="1")
        _el("getetag", parent=_el("prop", parent=root))
        try:
            _, tree = self._multistatus("REPORT", book, _body(root), 0)
        except CardDavError as exc:
            if exc.status in (403, 409) and token:
                raise SyncTokenInvalid(
                    "The server forgot our sync token.", status=exc.status
                ) from None
            raise
        changes = Changes(token=(tree.findtext("d:sync-token", namespaces=NS) or "").strip())
        book_path = unquote(urlsplit(self.absolute(book)).path)
        for response in tree.findall("d:response", NS):
            href = self._href(response)
            if urlsplit(href).path == book_path:
                continue
            if "404" in (response.findtext("d:status", namespaces=NS) or ""):
                changes.removed.add(href)
                continue
            etag = response.findtext(".//d:getetag", namespaces=NS)
            changes.changed[href] = etag.strip() if etag else None
        return changes

    def etags(self, book: str) -> dict[str, str | None]:
        """href -> ETag of every card (for servers without sync-collection)."""
        _, root = self._multistatus("PROPFIND", book, _propfind((DAV, "getetag")), 1)
        book_path = unquote(urlsplit(self.absolute(book)).path)
        out = {}
        for response in root.findall("d:response", NS):
            href = self._href(response)
            if urlsplit(href).path != book_path:
                etag = response.findtext(".//d:getetag", namespaces=NS)
                out[href] = etag.strip() if etag else None
        return out

    def supports_sync(self, book: str) -> bool:
        body = _propfind((DAV, "supported-report-set"))
        _, root = self._multistatus("PROPFIND", book, body, 0)
        return root.find(".//d:supported-report/d:report/d:sync-collection", NS) is not None

    def multiget(self, book: str, hrefs) -> dict[str, tuple[str | None, str]]:
        """href -> (etag, vCard text), in batches of MULTIGET_BATCH hrefs per REPORT."""
        hrefs = list(hrefs)
        out = {}
        for start in range(0, len(hrefs), MULTIGET_BATCH):
            root = _el("addressbook-multiget", CARD)
            prop = _el("prop", parent=root)
            _el("getetag", parent=prop)
            _el("address-data", CARD, prop)
            for href in hrefs[start : start + MULTIGET_BATCH]:
                _el("href", parent=root, text=quote(urlsplit(href).path))
            _, tree = self._multistatus("REPORT", book, _body(root), 1)
            for response in tree.findall("d:response", NS):
                data = response.findtext(".//c:address-data", namespaces=NS)
                if data is None:
                    continue
                etag = response.findtext(".//d:getetag", namespaces=NS)
                out[self._href(response)] = (etag.strip() if etag else None, data)
        return out

    # -- writing cards ------------------------------------------------------------------------
    def put(self, url: str, text: str, *, etag: str | None = None) -> str | None:
        """Write a card: only if it is still `etag`, or only if it is new (etag None).
        Returns the new ETag when the server gives it."""
        headers = {"Content-Type": "text/vcard; charset=utf-8"}
        headers["If-Match" if etag else "If-None-Match"] = etag or "*"
        response = self.request("PUT", url, body=text.encode(), headers=headers, ok=(200, 201, 204))
        return response.headers.get("ETag")

    def delete(self, url: str, *, etag: str | None = None) -> None:
        headers = {"If-Match": etag} if etag else {}
        try:
            self.request("DELETE", url, headers=headers, ok=(200, 204))
        except CardDavError as exc:
            if exc.status != 404:  # already gone is what we wanted
                raise
