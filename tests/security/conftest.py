"""Fixtures for the security suite: one user per role, and how to walk the admin's URLs."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver

from crmbridge.roles import ADMIN, CSM, REP

ROLE_USERS = {ADMIN: "admin_member", CSM: "csm_user", REP: "rep_user"}


@pytest.fixture
def role_users(admin_member, csm_user, rep_user):
    return {ADMIN: admin_member, CSM: csm_user, REP: rep_user}


def declared_permissions(role):
    """What crmbridge/roles.py grants the role, as applied to its group: {"app.codename"}."""
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def admin_request(user, method="get"):
    request = getattr(RequestFactory(), method)("/admin/")
    request.user = user
    return request


def registered_models():
    """(model, model_admin) for every model on the control panel, in a stable order."""
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield prefix + route, entry


def admin_url_paths(fill):
    """Every concrete path the admin site serves: route patterns with their converters filled
    in by `fill(pattern_name, argument_name)`. Regex catch-alls (app index, the final redirect)
    are left out: they take any text."""
    for route, pattern in _walk(admin.site.get_urls()):
        if route.startswith("^"):
            continue

        def replace(match, pattern=pattern):
            return str(fill(pattern.name or "", match.group(1)))

        yield "/admin/" + re.sub(r"<(?:\w+:)?(\w+)>", replace, route), pattern.name or ""


@pytest.fixture
def world(role_users, api_as, client):
    """At least one row of each kind the control panel lists, made the way the product makes
    them (services, APIs, logins), so that change pages and exports have something to show."""
    from django_q.models import Schedule

    api_as(role_users[ADMIN])  # a DRF token
    client.post("/admin/login/", {"username": role_users[REP].username, "password": "wrong"})
    client.get("/admin/logout/")
    Schedule.objects.get_or_create(name="security-suite probe", func="crmbridge.tasks.broker_probe")
    return role_users
