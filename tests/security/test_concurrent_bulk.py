"""Eight clients posting overlapping bulk calls at once through gunicorn on PostgreSQL: every
call is a 200, every activity is stored once. (Inserting the same external ids in different
orders from several transactions deadlocked PostgreSQL and failed whole batches with a 500.)"""

import os
import random
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from django.db import connection
from rest_framework.authtoken.models import Token

from activities.models import Activity
from tests.factories import AccountFactory

ROOT = Path(__file__).resolve().parents[2]
CLIENTS, CALLS_PER_CLIENT, BATCH, POOL = 8, 3, 40, 120

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
        reason="row-lock deadlocks need PostgreSQL: set DATABASE_URL=postgres://... (CI does)",
    ),
]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn():
    """gunicorn -w 4 on the test database; yields its base URL."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    port = _free_port()
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
           "DJANGO_SETTINGS_MODULE": "crmbridge.settings", "CONN_MAX_AGE": "0"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "crmbridge.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "4", "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            assert server.poll() is None, "gunicorn exited"
            try:
                if requests.get(f"{base}/healthz", timeout=60).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                threading.Event().wait(0.1)  # the port opens when gunicorn is up
        else:
            pytest.fail("gunicorn did not come up")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _items(client_index, call_index, owner_email):
    """BATCH activities drawn from one shared pool of ids, in an order of this call's own."""
    rng = random.Random(client_index * 100 + call_index)
    ids = rng.sample(range(POOL), BATCH)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        {
            "external_id": f"overlap-{n}",
            "kind": "email",
            "occurred_at": (start + timedelta(minutes=n)).isoformat(),
            "owner": owner_email,
            "subject": f"Overlap {n}",
            "participants": [
                {"email": f"person{n % 30}@customer{n % 5}.example", "name": f"Pat Person{n % 30}"},
            ],
        }
        for n in ids
    ]


def test_eight_overlapping_bulk_clients_all_get_a_200_and_nothing_is_stored_twice(
    gunicorn, admin_member
):
    for k in range(5):
        AccountFactory(name=f"Customer {k}", website=f"https://customer{k}.example")
    token = Token.objects.create(user=admin_member).key
    start = threading.Barrier(CLIENTS)
    answers, lock = [], threading.Lock()

    def client(index):
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        start.wait()
        for call in range(CALLS_PER_CLIENT):
            response = session.post(
                f"{gunicorn}/api/v1/activities/bulk/",
                json={"activities": _items(index, call, admin_member.email)},
                timeout=120,
            )
            with lock:
                answers.append((response.status_code, response.text[:300]))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    failed = [a for a in answers if a[0] != 200]
    assert len(answers) == CLIENTS * CALLS_PER_CLIENT
    assert failed == [], f"{len(failed)} of {len(answers)} bulk calls failed: {failed[:3]}"
    sent = {f"overlap-{n}" for i in range(CLIENTS) for c in range(CALLS_PER_CLIENT)
            for n in random.Random(i * 100 + c).sample(range(POOL), BATCH)}  # fmt: skip
    stored = list(Activity.objects.filter(source="api").values_list("external_id", flat=True))
    assert sorted(stored) == sorted(sent)
