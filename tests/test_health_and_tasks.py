"""The parts crmbridge runs on: database, task broker and worker cluster, deploy settings."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def run_python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "crmbridge.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db
def test_healthz_is_200_with_each_component(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["components"]) == {"database", "task_broker"}
    assert all(c["status"] == "ok" for c in body["components"].values())


def test_healthz_is_503_when_the_database_is_unreachable():
    # A real server process whose database (PostgreSQL on a closed port) cannot be reached.
    code = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    done = run_python(
        code,
        DEBUG="1",
        DATABASE_URL="postgres://postgres@127.0.0.1:9/unreachable",
        REDIS_URL="",
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 503
    assert result["body"]["components"]["database"]["status"] == "down"
    assert "password" not in done.stdout.lower()


def test_production_settings_pass_check_deploy_with_no_warnings():
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crmbridge.settings",
            "DEBUG": "0",
            "SECRET_KEY": "x9!Qm2#vL7$pR4^tZ8&wN1*kJ5(hB3)cF6-gD0+sA" * 2,
            "ALLOWED_HOSTS": "crm.example.com",
            "FIELD_ENCRYPTION_KEYS": "x3ZqkLlEw3cVqaq6hU2pS6ZUy8o1lI2QvD9vTqg0Xb8=",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)" in done.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    done = run_python("import django; django.setup()", DEBUG="0", SECRET_KEY="", ALLOWED_HOSTS="x")

    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr


@pytest.mark.real_broker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_task_enqueued_through_the_real_broker_runs_and_its_result_is_read_back(settings):
    from django_q.conf import Conf
    from django_q.tasks import async_task, result

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        database_url = f"sqlite:///{db['NAME']}"
    else:
        database_url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    # Enqueue for real (not django-q2's inline sync mode used by the other tests).
    Conf.SYNC = False
    try:
        task_id = async_task("crmbridge.tasks.broker_probe", "hello", q_options={"timeout": 60})
    finally:
        Conf.SYNC = True
    # Hold no lock on the test database while the cluster (another process) starts and writes.
    connection.close()
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crmbridge.settings",
            "DEBUG": "1",
            "DATABASE_URL": database_url,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        outcome = result(task_id, wait=60_000)  # waits on the result row, polling the database
    finally:
        # SIGTERM to the cluster's main process only: it stops its own workers.
        cluster.terminate()
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()

    assert outcome == {"echo": "hello"}
    broker = "Redis" if settings.Q_CLUSTER.get("redis") else "ORM"
    print(f"task ran through the {broker} broker")
