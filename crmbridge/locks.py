"""A named lock shared by every process of the deployment, for work that must not run twice at
once for the same thing (e.g. two dialer runs that may create the same person in Salesforce).

PostgreSQL: a session advisory lock (every process and host shares the database). SQLite, which
only ever serves one host: an exclusive `flock` on a file under var/locks/.
"""

import contextlib
import fcntl
import hashlib

from django.conf import settings
from django.db import connection


def _key(name: str) -> int:
    """A signed 64-bit number for the name (advisory locks take a bigint)."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


@contextlib.contextmanager
def named_lock(name: str):
    """Hold the lock called `name` for the block; waits while another holder has it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_key(name)])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_key(name)])
        return
    folder = settings.VAR_DIR / "locks"
    folder.mkdir(exist_ok=True)
    with open(folder / f"{_key(name) & 0xFFFFFFFFFFFFFFFF:016x}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
