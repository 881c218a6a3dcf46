"""Dovecot (IMAP) on a free port, configuration and mail in a temporary directory.

Fixture API (registered through tests/conftest.py `pytest_plugins`):

    dovecot           session-scoped DovecotServer: .host, .port,
                      .add_user(username=None, password=None) -> DovecotUser,
                      .set_uidvalidity(user, folder, value) (what a rebuilt mailbox looks like)
    dovecot_user      a fresh DovecotUser per test (own mailbox): .username, .password,
                      .host, .port, .connect() -> a logged-in imapclient.IMAPClient

Outside pytest (benches): `with running_dovecot() as server: ...`.
The whole server runs unprivileged (as the `dovecot` system user when started by root), in
the foreground as a child process, and is stopped when the fixture or context ends.
"""

import contextlib
import grp
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imapclient
import pytest

from tests.servers import die_with_parent, free_port, stop, wait_until_listening
from tests.servers.oauth import OAuthProvider

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth_mechanisms}
# Tests check wrong passwords; the default 2 s penalty would only slow them down.
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
mail_max_userip_connections = 1000
{oauth_passdb}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    auto = subscribe
    special_use = \\Sent
  }}
}}
"""

# Dovecot's oauth2 passdb: an XOAUTH2/OAUTHBEARER login is accepted when the identity
# provider's introspection endpoint says the access token is active for that user.
OAUTH_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}
"""
OAUTH_CONF = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""


@dataclass(frozen=True)
class DovecotUser:
    username: str
    password: str
    host: str
    port: int

    def connect(self):
        client = imapclient.IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.username, self.password)
        return client


class DovecotServer:
    host = "127.0.0.1"

    def __init__(self, root: Path, port: int):
        self.root = root
        self.port = port
        self.config = root / "dovecot.conf"
        self.users = root / "users"

    def add_user(self, username=None, password=None):
        username = username or f"rep-{secrets.token_hex(4)}"
        password = password or secrets.token_urlsafe(12)
        # One passwd-file per user: Dovecot's reload of a changed file is keyed on whole-second
        # mtimes, so users added within a second of each other would not be seen.
        path = self.users / username
        path.write_text(f"{username}:{{PLAIN}}{password}\n")
        os.chmod(path, 0o644)
        return DovecotUser(username=username, password=password, host=self.host, port=self.port)

    def set_uidvalidity(self, user, folder, value):
        subprocess.run(
            [DOVEADM, "-c", str(self.config), "mailbox", "update", "--uid-validity", str(value)]
            + ["-u", user.username, folder],
            check=True,
            capture_output=True,
            **_run_as(),
        )


def _run_as():
    """Root starts the server as the unprivileged `dovecot` user; anyone else runs it as self."""
    if os.geteuid() != 0:
        return {}
    return {"user": "dovecot", "group": grp.getgrgid(pwd.getpwnam("dovecot").pw_gid).gr_name}


def _identity():
    entry = pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    return entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name, entry.pw_uid, entry.pw_gid


@contextlib.contextmanager
def running_dovecot(oauth_introspection_url=None):
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot is not installed (make test installs dovecot-imapd)")
    with tempfile.TemporaryDirectory(prefix="dovecot-") as tmp:
        root = Path(tmp)
        server = DovecotServer(root, free_port())
        user, group, uid, gid = _identity()
        oauth = {"oauth_mechanisms": "", "oauth_passdb": ""}
        if oauth_introspection_url:
            (root / "oauth2.conf.ext").write_text(OAUTH_CONF.format(url=oauth_introspection_url))
            oauth = {
                "oauth_mechanisms": " xoauth2 oauthbearer",
                "oauth_passdb": OAUTH_PASSDB.format(root=root),
            }
        server.config.write_text(
            CONFIG.format(
                root=root, user=user, group=group, uid=uid, gid=gid, port=server.port, **oauth
            )
        )
        server.users.mkdir()
        for path in (root, *root.iterdir()):
            os.chown(path, uid, gid) if os.geteuid() == 0 else None
        process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(server.config)],
            stdout=subprocess.DEVNULL,
            stderr=(root / "stderr.log").open("w"),
            preexec_fn=die_with_parent,
            **_run_as(),
        )
        try:
            wait_until_listening(
                process, server.port, what="Dovecot", log_path=root / "dovecot.log"
            )
            yield server
        finally:
            stop(process)


@pytest.fixture(scope="session")
def dovecot():
    with running_dovecot() as server:
        yield server


@pytest.fixture(scope="session")
def oauth_dovecot():
    """A second Dovecot that also takes XOAUTH2 logins, vouched for by a local OAuth2 provider
    (standing in for Google / Microsoft 365): yields (server, provider)."""
    provider = OAuthProvider().start()
    try:
        with running_dovecot(oauth_introspection_url=provider.introspection_url) as server:
            yield server, provider
    finally:
        provider.stop()


@pytest.fixture
def dovecot_user(dovecot):
    return dovecot.add_user()
