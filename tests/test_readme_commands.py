"""The README's commands work as shown in a fresh shell after `make demo`: no DEBUG=1 to type.
The demo runs with DEBUG off, so Django's debug pages (a 404 listing URL patterns) never show."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.demo_env import LEGACY_DEMO_ENV
from scripts.demo_env import main as write_demo_env

ROOT = Path(__file__).resolve().parent.parent


def fresh_shell(tmp_path, **extra):
    # Only what a new terminal has: no DEBUG, no SECRET_KEY, nothing of the test run.
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **extra}


def manage(args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_a_manage_py_command_runs_in_a_fresh_shell_after_the_demo(tmp_path):
    env_file = tmp_path / ".env"
    write_demo_env(str(env_file))
    env = fresh_shell(
        tmp_path,
        CRMBRIDGE_ENV_FILE=str(env_file),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    done = manage(["drf_create_token", "--help"], env)

    assert done.returncode == 0, done.stderr
    assert "ImproperlyConfigured" not in done.stderr


@pytest.mark.parametrize("debug", ["", "0"])
def test_without_the_demo_file_production_settings_still_demand_a_secret_key(tmp_path, debug):
    env = fresh_shell(tmp_path, CRMBRIDGE_ENV_FILE="", DEBUG=debug)

    done = manage(["check"], env)

    assert done.returncode != 0
    assert "set SECRET_KEY and ALLOWED_HOSTS" in done.stderr


def test_the_demo_file_is_written_once_and_never_overwritten(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=0\n")

    write_demo_env(str(env_file))

    assert env_file.read_text() == "DEBUG=0\n"


SHOW_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.DEBUG, s.ALLOWED_HOSTS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE, bool(s.SECRET_KEY), bool(s.FIELD_ENCRYPTION_KEYS))"
)


def demo_settings(tmp_path, env_file):
    env = fresh_shell(
        tmp_path,
        CRMBRIDGE_ENV_FILE=str(env_file),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    done = manage(["shell", "-c", SHOW_SETTINGS], env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_demo_runs_with_debug_off_over_plain_http_on_this_machine(tmp_path):
    env_file = tmp_path / ".env"
    write_demo_env(str(env_file))

    shown = demo_settings(tmp_path, env_file)

    assert shown == "False ['127.0.0.1', 'localhost'] False False False True True"
    other = tmp_path / "other.env"
    write_demo_env(str(other))
    assert other.read_text() != env_file.read_text()  # each demo its own secrets


def test_an_older_demo_file_is_upgraded_and_its_stored_secrets_still_decrypt(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(LEGACY_DEMO_ENV)
    old = fresh_shell(tmp_path, CRMBRIDGE_ENV_FILE=str(env_file))
    stored = manage(
        ["shell", "-c", "from crmbridge import crypto; print(crypto.encrypt('s3'))"], old
    )
    assert stored.returncode == 0, stored.stderr

    write_demo_env(str(env_file))

    assert demo_settings(tmp_path, env_file).startswith("False ")
    token = stored.stdout.strip().splitlines()[-1]
    read = manage(
        ["shell", "-c", f"from crmbridge import crypto; print(crypto.decrypt({token!r}))"],
        fresh_shell(tmp_path, CRMBRIDGE_ENV_FILE=str(env_file)),
    )
    assert read.stdout.strip().splitlines()[-1] == "s3", read.stderr
