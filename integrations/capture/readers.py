"""Where capture reads from: one reader per source kind, each yielding raw items (message or
calendar bytes) with the watermark that reading it moves the source to.

A reader never writes: the run applies an item's `mark` to the source's state only after the
item has been stored, so a crash re-reads instead of losing anything."""

import contextlib
import datetime as dt
import hashlib
import mailbox
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import caldav
import imapclient
import requests
from caldav.lib import error as caldav_error
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import SENT

from .models import CaptureSource
from .oauth import TokenExchangeError, access_token

FETCH_CHUNK = 200
TIMEOUT = 30


class CaptureSourceError(Exception):
    """The source cannot be read at all (unreachable, refused the login, not found)."""


@dataclass
class Item:
    key: str  # where it came from, for counts and error messages
    data: bytes | None  # None: nothing to read, only a watermark to record
    kind: str = "message"  # message | calendar
    fingerprint: str = ""  # set: an unchanged item (same key, same fingerprint) is passed over
    fallback_date: dt.datetime | None = None
    mark: dict = field(default_factory=dict)  # merged into CaptureSource.state once stored


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ImapReader:
    """INBOX and Sent (or the source's folders), incremental by UIDVALIDITY + last UID."""

    def __init__(self, source: CaptureSource, *, since: dt.datetime):
        self.source, self.since, self.round_trips = source, since, 0

    def _connect(self):
        source = self.source
        use_ssl = source.security == CaptureSource.Security.SSL
        port = source.port or (993 if use_ssl else 143)
        try:
            client = imapclient.IMAPClient(
                source.host, port=port, ssl=use_ssl, timeout=TIMEOUT, use_uid=True
            )
            if source.security == CaptureSource.Security.STARTTLS:
                client.starttls(ssl.create_default_context())
            if source.auth == CaptureSource.Auth.XOAUTH2:
                client.oauth2_login(source.username, access_token(source))
            else:
                client.login(source.username, source.secret or "")
        except TokenExchangeError as exc:
            raise CaptureSourceError(str(exc)) from None
        except LoginError as exc:
            raise CaptureSourceError(
                f"{source.host} refused the user name or password of {source.username!r}"
                f" ({_words(exc)})."
            ) from None
        except (OSError, IMAPClientError, ssl.SSLError) as exc:
            raise CaptureSourceError(
                f"Could not connect to {source.host}:{port}: {_words(exc)}."
            ) from None
        self.round_trips += 2
        return client

    def _folders(self, client):
        if self.source.folders:
            return list(self.source.folders)
        self.round_trips += 1
        sent = client.find_special_folder(SENT)
        return ["INBOX", sent] if sent else ["INBOX"]

    def test(self) -> str:
        client = self._connect()
        try:
            counts = []
            for folder in self._folders(client):
                status = client.folder_status(folder, [b"MESSAGES"])
                counts.append(f"{folder}: {status[b'MESSAGES']} messages")
            return "Connected. " + ", ".join(counts) + "."
        except IMAPClientError as exc:
            raise CaptureSourceError(f"The mailbox could not be read: {_words(exc)}.") from None
        finally:
            client.logout()

    def items(self) -> Iterator[Item]:
        client = self._connect()
        try:
            for folder in self._folders(client):
                yield from self._folder_items(client, folder)
        except IMAPClientError as exc:
            raise CaptureSourceError(f"The mailbox could not be read: {_words(exc)}.") from None
        finally:
            with contextlib.suppress(IMAPClientError, OSError):
                client.logout()

    def _folder_items(self, client, folder):
        state = (self.source.state.get("imap") or {}).get(folder) or {}
        selected = client.select_folder(folder, readonly=True)
        self.round_trips += 1
        validity = selected[b"UIDVALIDITY"]
        # A new UIDVALIDITY means the folder's UIDs were renumbered: read it again from the
        # start; ingestion's idempotency keeps what was already captured from doubling.
        last = state.get("last_uid", 0) if state.get("uidvalidity") == validity else 0
        uids = client.search(["UID", f"{last + 1}:*", "SINCE", self.since.date()])
        self.round_trips += 1
        uids = sorted(uid for uid in uids if uid > last)
        mark = {"imap": {folder: {"uidvalidity": validity, "last_uid": last}}}
        if not uids:
            yield Item(key=folder, data=None, mark=mark)
            return
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start : start + FETCH_CHUNK]
            fetched = client.fetch(chunk, [b"BODY.PEEK[]", b"INTERNALDATE"])
            self.round_trips += 1
            for uid in chunk:
                data = fetched.get(uid, {})
                when = data.get(b"INTERNALDATE")
                yield Item(
                    key=f"{folder}/{uid}",
                    data=data.get(b"BODY[]") or b"",
                    fallback_date=when.astimezone(dt.UTC) if when else None,
                    mark={"imap": {folder: {"uidvalidity": validity, "last_uid": uid}}},
                )


class CaldavReader:
    """A rep's calendars on a CalDAV server, incremental by each calendar's sync token."""

    def __init__(self, source: CaptureSource, *, since: dt.datetime):
        self.source, self.since, self.round_trips = source, since, 0

    def _calendars(self):
        source = self.source
        try:
            client = caldav.DAVClient(
                url=source.url, username=source.username, password=source.secret, timeout=TIMEOUT
            )
            calendars = client.principal().calendars()
        except caldav_error.AuthorizationError:
            raise CaptureSourceError(
                f"{source.url} refused the user name or password of {source.username!r}."
            ) from None
        except (caldav_error.DAVError, OSError, ValueError) as exc:
            raise CaptureSourceError(f"Could not read {source.url}: {_words(exc)}.") from None
        self.round_trips += 2
        return calendars

    def test(self) -> str:
        names = [str(c.get_display_name() or c.url) for c in self._calendars()]
        return f"Connected. Calendars: {', '.join(names) or 'none'}."

    def items(self) -> Iterator[Item]:
        tokens = self.source.state.get("caldav") or {}
        for calendar in self._calendars():
            url = str(calendar.url)
            try:
                changed = calendar.objects_by_sync_token(
                    sync_token=tokens.get(url), load_objects=True
                )
            except (caldav_error.DAVError, OSError) as exc:
                raise CaptureSourceError(f"Could not read {url}: {_words(exc)}.") from None
            self.round_trips += 1
            mark = {"caldav": {url: changed.sync_token}}
            for obj in changed:
                if obj.data:
                    yield Item(key=str(obj.url), data=obj.data.encode(), kind="calendar")
            yield Item(key=url, data=None, mark=mark)


class IcsUrlReader:
    """An ICS feed, incremental by ETag / Last-Modified (a 304 reads nothing)."""

    def __init__(self, source: CaptureSource, *, since: dt.datetime):
        self.source, self.since, self.round_trips = source, since, 0

    def _get(self, conditional: bool):
        source, state = self.source, self.source.state.get("ics") or {}
        headers = {}
        if conditional and state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if conditional and state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        auth = (source.username, source.secret) if source.username else None
        try:
            response = requests.get(source.url, headers=headers, auth=auth, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise CaptureSourceError(f"Could not fetch {source.url}: {_words(exc)}.") from None
        self.round_trips += 1
        if response.status_code in (401, 403):
            raise CaptureSourceError(
                f"{source.url} refused access (HTTP {response.status_code}): check the user name"
                " and password."
            )
        if response.status_code not in (200, 304):
            raise CaptureSourceError(f"{source.url} answered HTTP {response.status_code}.")
        return response

    def test(self) -> str:
        response = self._get(conditional=False)
        return f"Connected. The feed has {response.content.count(b'BEGIN:VEVENT')} events."

    def items(self) -> Iterator[Item]:
        response = self._get(conditional=True)
        if response.status_code == 304:
            return
        state = self.source.state.get("ics") or {}
        etag, digest = response.headers.get("ETag", ""), _digest(response.content)
        # Some servers ignore If-None-Match; an unchanged ETag or body is just as conclusive.
        if (etag and etag == state.get("etag")) or digest == state.get("sha256"):
            return
        mark = {
            "ics": {
                "etag": etag,
                "last_modified": response.headers.get("Last-Modified", ""),
                "sha256": digest,
            }
        }
        yield Item(key=self.source.url, data=response.content, kind="calendar", mark=mark)


class FolderReader:
    """A local directory of .eml, .mbox and .ics files; a file is read again only when its
    content changed (file name + content hash)."""

    SUFFIXES = {".eml": "message", ".ics": "calendar"}

    def __init__(self, source: CaptureSource, *, since: dt.datetime):
        self.source, self.since, self.round_trips = source, since, 0
        self.root = Path(source.path)

    def _files(self):
        if not self.root.is_dir():
            raise CaptureSourceError(f"{self.source.path} is not a folder crmbridge can read.")
        suffixes = {*self.SUFFIXES, ".mbox"}
        return sorted(p for p in self.root.rglob("*") if p.is_file() and p.suffix in suffixes)

    def test(self) -> str:
        return f"Found {len(self._files())} .eml, .mbox and .ics files."

    def items(self) -> Iterator[Item]:
        for path in self._files():
            name = path.relative_to(self.root).as_posix()
            if path.suffix == ".mbox":
                box = mailbox.mbox(path, create=False)
                for index, key in enumerate(box.keys()):
                    data = box.get_bytes(key)
                    yield Item(key=f"{name}#{index}", data=data, fingerprint=_digest(data))
                continue
            data = path.read_bytes()
            yield Item(
                key=name, data=data, kind=self.SUFFIXES[path.suffix], fingerprint=_digest(data)
            )


READERS = {
    CaptureSource.Kind.IMAP: ImapReader,
    CaptureSource.Kind.CALDAV: CaldavReader,
    CaptureSource.Kind.ICS_URL: IcsUrlReader,
    CaptureSource.Kind.FOLDER: FolderReader,
}


def reader_for(source: CaptureSource, *, since: dt.datetime):
    return READERS[source.kind](source, since=since)


def _words(exc) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, bytes):
        text = exc.decode("utf-8", "replace")
    return text.strip().strip("'\"b")[:300]
