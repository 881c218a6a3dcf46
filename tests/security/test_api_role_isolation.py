"""Role isolation through every API endpoint.

Walks the URL resolver, so an endpoint added tomorrow is covered: anonymous callers get 401
everywhere, every view restricts by role (not merely "logged in"), and the matrix below is what
PRODUCT.md promises each role. A Rep never sees another rep's activity.
"""

from datetime import UTC, datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny, IsAuthenticated

from crmbridge.roles import ADMIN, CSM, REP

pytestmark = pytest.mark.django_db


def _api_routes():
    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern), entry

    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith("api/v1/") and "format" not in route:
            yield route, pattern


def _concrete(route):
    """A request path for a route: regex anchors dropped, each argument given the value 1."""
    import re

    path = route.replace("^", "").replace("$", "")
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    path = re.sub(r"<(?:\w+:)?\w+>", "1", path)
    return "/" + path


ROUTES = sorted({_concrete(route) for route, _ in _api_routes()})


def test_the_walk_found_the_api():
    assert "/api/v1/settings/" in ROUTES and "/api/v1/profiles/1/" in ROUTES, ROUTES


def test_every_api_view_restricts_by_role_not_just_by_login():
    """IsAuthenticated alone would let any Rep in. The API root only lists links."""
    loose = []
    for route, pattern in _api_routes():
        view = getattr(pattern.callback, "cls", None)
        if view is None or view.__name__ == "APIRootView":
            continue
        classes = set(view.permission_classes)
        if not classes or classes <= {IsAuthenticated, AllowAny}:
            loose.append((route, view.__name__))
    assert not loose, loose


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_anonymous_callers_get_401_from_every_endpoint(api_as, path, method):
    response = getattr(api_as(None), method)(path, {}, format="json")

    assert response.status_code in (401, 405), (method, path, response.status_code)
    if response.status_code == 405:  # method not offered; must still reveal nothing
        assert "results" not in response.content.decode()


# What each role may read (GET on the list), as PRODUCT.md says: Admin everything; CSM
# classification (edit) and read-only views; Rep their own activity feed only.
READS = {
    "/api/v1/settings/": {ADMIN},
    "/api/v1/profiles/": {ADMIN},
    "/api/v1/account-domains/": {ADMIN, CSM},
    "/api/v1/activities/": {ADMIN, CSM, REP},
    "/api/v1/classification/rules/": {ADMIN, CSM},
    "/api/v1/classification/executive-engaged/": {ADMIN, CSM},
    "/api/v1/dialer/projects/": {ADMIN},
    "/api/v1/dialer/integrations/": {ADMIN},
    "/api/v1/dialer/runs/": {ADMIN},
}
# What each role may create (POST with an empty body: 400 means "allowed, but say more").
WRITES = {
    "/api/v1/profiles/": {ADMIN},
    "/api/v1/account-domains/": {ADMIN},
    "/api/v1/activities/": {ADMIN, REP},
    "/api/v1/activities/bulk/": {ADMIN, REP},
    "/api/v1/classification/rules/": {ADMIN, CSM},
    "/api/v1/classification/preview/": {ADMIN, CSM},
    "/api/v1/classification/impact/": {ADMIN, CSM},
    "/api/v1/dialer/projects/": {ADMIN},
    "/api/v1/dialer/integrations/": {ADMIN},
}


def _existing(paths):
    return [p for p in sorted(paths) if p in ROUTES]


@pytest.mark.parametrize("path", _existing(READS))
@pytest.mark.parametrize("role", [ADMIN, CSM, REP])
def test_each_role_reads_exactly_what_it_may(api_as, role_users, role, path):
    response = api_as(role_users[role]).get(path)

    if role in READS[path]:
        assert response.status_code == 200, (role, path, response.content[:300])
    else:
        assert response.status_code == 403, (role, path, response.status_code)


@pytest.mark.parametrize("path", _existing(WRITES))
@pytest.mark.parametrize("role", [ADMIN, CSM, REP])
def test_each_role_writes_exactly_what_it_may(api_as, role_users, role, path):
    response = api_as(role_users[role]).post(path, {}, format="json")

    if role in WRITES[path]:
        assert response.status_code in (200, 201, 400), (role, path, response.status_code)
    else:
        assert response.status_code == 403, (role, path, response.status_code)


def test_a_csm_cannot_change_settings_profiles_or_domains(api_as, role_users):
    from crmbridge.models import ConfigurationProfile, GlobalSettings

    csm = api_as(role_users[CSM])
    profile = ConfigurationProfile.objects.get(is_default=True)

    assert (
        csm.patch("/api/v1/settings/", {"api_budget_percent": 90}, format="json").status_code == 403
    )
    assert csm.delete(f"/api/v1/profiles/{profile.pk}/").status_code == 403
    assert GlobalSettings.load().api_budget_percent != 90
    assert ConfigurationProfile.objects.filter(pk=profile.pk).exists()


# -- a rep's own feed ---------------------------------------------------------------------------
def _activity(owner, external_id):
    from activities.services import activity_ingest

    result = activity_ingest(
        item={
            "external_id": external_id,
            "kind": "email",
            "occurred_at": datetime(2026, 11, 2, 9, 30, tzinfo=UTC).isoformat(),
            "owner": owner.email,
            "subject": f"Pricing for {external_id}",
            "participants": [{"email": "jane.doe@prospect.example", "name": "Jane Doe"}],
        }
    )
    assert result.activity is not None, result.errors
    return result.activity


def test_a_rep_sees_only_their_own_activity_in_the_api(api_as, rep_user, other_rep):
    mine = _activity(rep_user, "rex-1")
    theirs = _activity(other_rep, "rita-1")
    rep = api_as(rep_user)

    listed = rep.get("/api/v1/activities/").json()["results"]
    assert [a["id"] for a in listed] == [mine.pk]
    assert rep.get(f"/api/v1/activities/{theirs.pk}/").status_code == 404
    assert rep.get(f"/api/v1/activities/?owner={other_rep.email}").json()["results"] == []
    assert rep.get(f"/api/v1/activities/{mine.pk}/").status_code == 200


def test_a_rep_cannot_send_activity_in_another_reps_name(api_as, rep_user, other_rep):
    from activities.models import Activity

    response = api_as(rep_user).post(
        "/api/v1/activities/",
        {
            "external_id": "forged-1",
            "kind": "call",
            "occurred_at": "2026-11-02T10:00:00Z",
            "owner": other_rep.email,
            "participants": [{"email": "bob@prospect.example"}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert not Activity.objects.filter(external_id="forged-1").exists()


def test_a_rep_cannot_see_another_reps_activity_in_the_admin(client, rep_user, other_rep):
    from django.urls import reverse

    theirs = _activity(other_rep, "rita-2")
    mine = _activity(rep_user, "rex-2")
    client.force_login(rep_user)

    changelist = client.get(reverse("admin:activities_activity_changelist"))
    change = client.get(reverse("admin:activities_activity_change", args=[theirs.pk]))
    edit = client.post(reverse("admin:activities_activity_change", args=[theirs.pk]), {})

    assert changelist.status_code == 200
    assert "Pricing for rex-2" in changelist.content.decode()
    assert "Pricing for rita-2" not in changelist.content.decode()
    assert change.status_code in (302, 404)  # the admin's "doesn't exist" for rows out of reach
    assert edit.status_code in (302, 403, 404)
    theirs.refresh_from_db()
    assert theirs.subject == "Pricing for rita-2"
    assert mine.owner == rep_user
