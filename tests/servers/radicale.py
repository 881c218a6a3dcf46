"""Radicale (CalDAV + CardDAV) on a free port, storage in a temporary directory.

Fixture API (registered for every test through tests/conftest.py `pytest_plugins`):

    radicale          session-scoped RadicaleServer: .url ("http://127.0.0.1:PORT/"),
                      .add_user(username=None, password=None) -> RadicaleUser
    radicale_user     a fresh RadicaleUser per test (own principal, so tests never see each
                      other's collections): .username, .password, .url (server root),
                      .principal_url ("http://127.0.0.1:PORT/<username>/"),
                      .collection_url(name) ("<principal_url><name>/")

Outside pytest (benches): `with running_radicale() as server: user = server.add_user()`.
Users live in a plain htpasswd file that Radicale re-reads on each login, so users can be
added while it runs.
"""

import contextlib
import json
import secrets
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import die_with_parent, free_port, stop, wait_until_listening

PROJECT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RadicaleUser:
    username: str
    password: str
    url: str

    @property
    def principal_url(self):
        return f"{self.url}{self.username}/"

    def collection_url(self, name):
        return f"{self.principal_url}{name}/"


class RadicaleServer:
    def __init__(self, root: Path, port: int):
        self.root = root
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.htpasswd = root / "users"
        self.htpasswd.touch()
        self._lock = threading.Lock()

    def add_user(self, username=None, password=None):
        username = username or f"rep-{secrets.token_hex(4)}"
        password = password or secrets.token_urlsafe(12)
        with self._lock, self.htpasswd.open("a") as users:
            users.write(f"{username}:{password}\n")
        return RadicaleUser(username=username, password=password, url=self.url)


def _options(root, server):
    return {
        "server": {"hosts": f"127.0.0.1:{server.port}"},
        "auth": {
            "type": "htpasswd",
            "htpasswd_filename": str(server.htpasswd),
            "htpasswd_encryption": "plain",
        },
        "rights": {"type": "owner_only"},
        "storage": {
            "filesystem_folder": str(root / "collections"),
            # A throw-away server: no waiting for the disk on each write...
            "_filesystem_fsync": False,
            # ...and the item cache checked by mtime and size instead of hashing each card
            # file, which Radicale does for every card of the collection on each new card
            # (BaseCollection.has_uid reads them all).
            "use_mtime_and_size_for_item_cache": True,
        },
        "logging": {"level": "warning"},
    }


@contextlib.contextmanager
def running_radicale():
    with tempfile.TemporaryDirectory(prefix="radicale-") as tmp:
        root = Path(tmp)
        server = RadicaleServer(root, free_port())
        log_path = root / "radicale.log"
        config = root / "radicale.json"
        config.write_text(json.dumps(_options(root, server)))
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.servers.radicale_serve", str(config)],
                cwd=PROJECT,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        try:
            wait_until_listening(process, server.port, what="Radicale", log_path=log_path)
            yield server
        finally:
            stop(process)


@pytest.fixture(scope="session")
def radicale():
    with running_radicale() as server:
        yield server


@pytest.fixture
def radicale_user(radicale):
    return radicale.add_user()
