"""The sync lock after its holder is killed: the next run takes it over at once (not after the
lock's 15-minute TTL), and never while the holder is alive, so two runs never overlap."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from integrations.sync.models import SyncLock, SyncRun
from integrations.sync.push import worker_name
from integrations.sync.services import LOCK_NAME, sync_lock_acquire

ROOT = Path(__file__).resolve().parents[2]
HOLD_THE_LOCK = """
import django, sys
django.setup()
from integrations.sync.models import SyncRun
from integrations.sync.push import worker_name
from integrations.sync.services import sync_lock_acquire
run = SyncRun.objects.create(state=SyncRun.State.RUNNING)
assert sync_lock_acquire(holder=f"{worker_name()}/1", run=run)
print("holding", flush=True)
sys.stdin.read()  # hold it until killed
"""

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _database_url():
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def holder_process():
    """Another process that took the sync lock and is in the middle of its run."""
    connection.close()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crmbridge.settings", "DEBUG": "1",
           "DATABASE_URL": _database_url(), "LOG_LEVEL": "WARNING"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK], cwd=ROOT, env=env, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout.readline().strip() == "holding"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def test_a_live_holder_keeps_the_lock(holder_process):
    assert not sync_lock_acquire(holder=f"{worker_name()}/2")
    assert SyncLock.objects.get(name=LOCK_NAME).holder.split(":")[1] == str(holder_process.pid)


def test_the_lock_of_a_killed_holder_is_taken_over_at_once(holder_process):
    dead_run = SyncLock.objects.get(name=LOCK_NAME).run_id

    holder_process.send_signal(signal.SIGKILL)
    holder_process.wait()
    taken = sync_lock_acquire(holder=f"{worker_name()}/3")

    assert taken
    assert SyncLock.objects.get(name=LOCK_NAME).holder == f"{worker_name()}/3"
    assert SyncRun.objects.get(pk=dead_run).state == SyncRun.State.FAILED
    assert not sync_lock_acquire(holder=f"{worker_name()}/4")  # and now it is ours alone


def test_a_holder_on_another_host_is_waited_for_until_its_lock_expires(db):
    SyncLock.objects.create(name=LOCK_NAME)
    assert sync_lock_acquire(holder="elsewhere.example:1:1/5")

    assert not sync_lock_acquire(holder=f"{worker_name()}/6")
