"""Guessing passwords at the login form gets the username locked out (django-axes)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def _login(client, username, password):
    return client.post("/admin/login/", {"username": username, "password": password})


def test_repeated_failed_logins_lock_the_account_out_even_with_the_right_password(
    settings, admin_member
):
    settings.AXES_FAILURE_LIMIT = 3
    browser = Client()

    for _ in range(2):
        response = _login(browser, "ada", "guess")
        assert response.status_code == 200  # the form again, with an error
    locked = _login(browser, "ada", "guess")
    after = _login(browser, "ada", PASSWORD)

    assert locked.status_code == 429
    assert after.status_code == 429
    assert "_auth_user_id" not in browser.session


def test_the_lockout_is_per_user_others_still_log_in(settings, admin_member, csm_user):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        _login(Client(), "ada", "guess")
    browser = Client()

    response = _login(browser, "cora", PASSWORD)

    assert response.status_code == 302
    assert browser.session["_auth_user_id"] == str(csm_user.pk)


def test_fewer_failures_than_the_limit_do_not_lock(settings, admin_member):
    settings.AXES_FAILURE_LIMIT = 3
    browser = Client()
    for _ in range(2):
        _login(browser, "ada", "guess")

    response = _login(browser, "ada", PASSWORD)

    assert response.status_code == 302


def test_without_the_test_override_the_limit_is_five_failures():
    """settings_test raises the limit for the rest of the suite through the environment; a
    deployment that sets nothing gets the shipped default."""
    env = {k: v for k, v in os.environ.items() if k != "AXES_FAILURE_LIMIT"}
    env.update(DJANGO_SETTINGS_MODULE="crmbridge.settings", DEBUG="1")
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings;"
         "print(settings.AXES_FAILURE_LIMIT, settings.AXES_LOCKOUT_PARAMETERS)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "5"
    assert "username" in done.stdout
