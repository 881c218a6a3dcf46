"""Every form the control panel serves refuses a POST without its CSRF token."""

import pytest
from django.test import Client

from crmbridge.roles import ADMIN
from tests.security.conftest import admin_request, admin_url_paths, registered_models

pytestmark = pytest.mark.django_db


def _object_ids(admin_user):
    ids = {}
    for model, model_admin in registered_models():
        obj = model_admin.get_queryset(admin_request(admin_user)).order_by("pk").first()
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        ids[prefix] = obj.pk if obj is not None else 1
    return ids


def test_every_admin_url_refuses_a_post_without_a_csrf_token(role_users, world):
    admin_user = role_users[ADMIN]
    ids = _object_ids(admin_user)

    def fill(name, argument):
        for prefix, pk in ids.items():
            if name.startswith(prefix):
                return pk
        return 1

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    tried = 0
    for path, _name in admin_url_paths(fill):
        response = browser.post(path, {"_save": "Save", "post": "yes"})
        assert response.status_code == 403, (path, response.status_code)
        assert b"CSRF" in response.content, path
        tried += 1
    assert tried > 50


def test_the_login_form_refuses_a_post_without_a_csrf_token(role_users):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        "/admin/login/",
        {"username": role_users[ADMIN].username, "password": "correct horse battery staple"},
    )

    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session


def test_the_api_with_a_session_cookie_needs_a_csrf_token(role_users):
    """A logged-in admin's browser tricked into posting to the API: refused (token clients are
    not exposed to CSRF, cookie sessions are)."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(role_users[ADMIN])

    response = browser.patch(
        "/api/v1/settings/", {"sync_interval_minutes": 5}, content_type="application/json"
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
