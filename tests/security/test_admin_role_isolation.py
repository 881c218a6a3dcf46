"""Role isolation through every page of the control panel.

Walks `admin.site._registry`, so a model another engineer registers tomorrow is covered without a
new test. For each role the rule is the declaration in crmbridge/roles.py (as applied to the role's
group): without the declared permission a page is a 403; with it, the page opens unless the
ModelAdmin itself forbids the action for that user. Anonymous visitors get the login page.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from crmbridge.models import ConfigurationProfile, GlobalSettings
from crmbridge.roles import ADMIN, CSM, REP
from tests.security.conftest import (
    admin_request,
    admin_url_paths,
    declared_permissions,
    registered_models,
)

pytestmark = pytest.mark.django_db

MODELS = [model._meta.label for model, _ in registered_models()]


def _model(label):
    from django.apps import apps

    return apps.get_model(label)


def _admin_for(label):
    from django.contrib import admin

    return admin.site._registry[_model(label)]


def _url(model, action, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def _some_object(model, model_admin, admin_user):
    return model_admin.get_queryset(admin_request(admin_user)).order_by("pk").first()


@pytest.mark.parametrize("label", MODELS)
@pytest.mark.parametrize("role", [ADMIN, CSM, REP])
def test_each_role_opens_exactly_the_admin_pages_it_is_declared_for(
    client, role_users, world, role, label
):
    model, model_admin = _model(label), _admin_for(label)
    user = role_users[role]
    declared = declared_permissions(role)
    perm = f"{model._meta.app_label}.%s_{model._meta.model_name}"
    may_view = perm % "view" in declared or perm % "change" in declared
    may_add = perm % "add" in declared
    request = admin_request(user)
    client.force_login(user)

    changelist = client.get(_url(model, "changelist"))
    if may_view and model_admin.has_view_or_change_permission(request):
        assert changelist.status_code in (200, 302), (role, label, "changelist")
        if changelist.status_code == 302:  # a one-row model goes straight to its row
            assert changelist["Location"].startswith("/admin/"), changelist["Location"]
    else:
        assert changelist.status_code == 403, (role, label, "changelist")

    add = client.get(_url(model, "add"))
    if may_add and model_admin.has_add_permission(request):
        assert add.status_code == 200, (role, label, "add")
    else:
        assert add.status_code == 403, (role, label, "add")

    obj = _some_object(model, model_admin, role_users[ADMIN])
    if obj is not None and not may_view:
        assert client.get(_url(model, "change", obj.pk)).status_code == 403, (role, label)


def test_a_csm_cannot_change_anything_outside_classification(client, role_users, world):
    declared = declared_permissions(CSM)
    client.force_login(role_users[CSM])
    tried = []
    for model, model_admin in registered_models():
        if f"{model._meta.app_label}.change_{model._meta.model_name}" in declared:
            continue  # a CSM may change it (crmbridge/roles.py)
        obj = _some_object(model, model_admin, role_users[ADMIN])
        if obj is None:
            continue
        before = model_admin.get_queryset(admin_request(role_users[ADMIN])).filter(pk=obj.pk)
        snapshot = list(before.values())

        response = client.post(_url(model, "change", obj.pk), {"_save": "Save"})

        assert response.status_code == 403, model._meta.label
        assert list(before.values()) == snapshot, model._meta.label
        tried.append(model._meta.label)
    assert "crmbridge.GlobalSettings" in tried and "auth.User" in tried, tried


def test_a_csm_cannot_change_global_settings_or_profiles(client, role_users):
    client.force_login(role_users[CSM])
    profile = ConfigurationProfile.objects.get(is_default=True)
    settings_url = reverse("admin:crmbridge_globalsettings_change", args=[GlobalSettings.load().pk])

    assert client.post(settings_url, {"sync_interval_minutes": "5"}).status_code == 403
    delete_url = _url(ConfigurationProfile, "delete", profile.pk)
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert GlobalSettings.load().sync_interval_minutes == 30
    assert ConfigurationProfile.objects.filter(pk=profile.pk).exists()


def test_a_rep_cannot_make_themselves_an_admin(client, role_users):
    rep = role_users[REP]
    client.force_login(rep)

    response = client.post(
        _url(get_user_model(), "change", rep.pk),
        {"username": rep.username, "is_superuser": "on", "is_staff": "on"},
    )

    assert response.status_code == 403
    rep.refresh_from_db()
    assert not rep.is_superuser


def test_anonymous_visitors_get_the_login_page_for_every_admin_url(client, role_users):
    objects = {}

    def fill(name, argument):
        return objects.get(name, 1)

    for path, name in admin_url_paths(fill):
        if name == "login":
            continue
        response = client.get(path)
        assert response.status_code == 302, (path, response.status_code)
        where = response["Location"]
        if name == "logout":  # logging out when not logged in: back to the (login-only) index
            assert where == "/admin/", where
        else:
            assert where.startswith("/admin/login/"), (path, where)


def test_custom_admin_pages_refuse_roles_without_the_model_permission(client, role_users, world):
    """Pages an app adds with get_urls() (buttons like "Sync now", "try a title", diagnostics)
    are reached only by roles that may at least view the model they belong to."""
    standard = {"changelist", "add", "change", "delete", "history", "autocomplete"}
    # django-import-export's pages have their own per-role test (test_import_export_permissions).
    standard |= {"import", "process_import", "export"}
    checked = 0
    for model, model_admin in registered_models():
        info = f"{model._meta.app_label}_{model._meta.model_name}_"
        obj = _some_object(model, model_admin, role_users[ADMIN])
        for role in (CSM, REP):
            user = role_users[role]
            declared = declared_permissions(role)
            perm = f"{model._meta.app_label}.%s_{model._meta.model_name}"
            if perm % "view" in declared or perm % "change" in declared:
                continue
            client.force_login(user)
            for pattern in model_admin.get_urls():
                name = getattr(pattern, "name", None) or ""
                if not name.startswith(info) or name.removeprefix(info) in standard:
                    continue
                route = str(pattern.pattern)
                if route.startswith("^"):
                    continue
                path = f"/admin/{model._meta.app_label}/{model._meta.model_name}/" + re.sub(
                    r"<(?:\w+:)?\w+>", str(obj.pk if obj else 1), route
                )
                response = client.get(path)
                assert response.status_code in (302, 403, 404, 405), (role, path)
                if response.status_code == 302:
                    assert "/admin/login/" in response["Location"] or response["Location"].rstrip(
                        "/"
                    ).endswith("/admin"), (role, path, response["Location"])
                checked += 1
    print(f"{checked} custom admin pages checked")
