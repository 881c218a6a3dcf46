"""Roles are enforced on the server, in the admin and in the API."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from crmbridge.models import GlobalSettings
from crmbridge.roles import ADMIN, REP, has_role

pytestmark = pytest.mark.django_db

SETTINGS_FORM = {
    "contact_creation_enabled": "on",
    "create_as": "contact",
    "internal_domains": "",
    "extra_personal_domains": "",
    "sync_interval_minutes": "5",
    "api_budget_percent": "20",
    "capture_body": "first",
    "capture_body_chars": "2000",
    "capture_exclusions": "",
}


def test_a_csm_gets_403_changing_global_settings_in_the_admin(client, csm_user):
    client.force_login(csm_user)
    url = reverse("admin:crmbridge_globalsettings_change", args=[GlobalSettings.load().pk])

    assert client.get(url).status_code == 200  # read-only view is allowed
    response = client.post(url, SETTINGS_FORM)

    assert response.status_code == 403
    assert GlobalSettings.load().sync_interval_minutes == 30


def test_a_csm_gets_403_changing_global_settings_through_the_api(api_as, csm_user):
    response = api_as(csm_user).patch(
        "/api/v1/settings/", {"sync_interval_minutes": 5}, format="json"
    )

    assert response.status_code == 403
    assert GlobalSettings.load().sync_interval_minutes == 30


def test_an_admin_changes_global_settings_in_the_admin(client, admin_member):
    client.force_login(admin_member)
    url = reverse("admin:crmbridge_globalsettings_change", args=[GlobalSettings.load().pk])

    response = client.post(url, SETTINGS_FORM)

    assert response.status_code == 302
    assert GlobalSettings.load().sync_interval_minutes == 5


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:crmbridge_globalsettings_changelist",
        "admin:crmbridge_configurationprofile_changelist",
        "admin:crmbridge_configurationprofile_add",
        "admin:auth_user_changelist",
        "admin:auth_group_changelist",
    ],
)
def test_a_rep_cannot_open_settings_profiles_or_users(client, rep_user, url_name):
    client.force_login(rep_user)

    assert client.get(reverse(url_name)).status_code == 403


def test_a_rep_cannot_open_a_profile_or_user_change_page(client, rep_user, csm_user):
    client.force_login(rep_user)
    from crmbridge.models import ConfigurationProfile

    profile = ConfigurationProfile.objects.get(is_default=True)
    for url in [
        reverse("admin:crmbridge_configurationprofile_change", args=[profile.pk]),
        reverse("admin:auth_user_change", args=[csm_user.pk]),
        reverse("admin:crmbridge_globalsettings_change", args=[1]),
    ]:
        assert client.get(url).status_code == 403, url


def test_a_rep_and_a_csm_are_refused_by_the_settings_and_profile_api(api_as, rep_user, csm_user):
    for user in (rep_user, csm_user):
        api = api_as(user)
        assert api.get("/api/v1/settings/").status_code == 403
        assert api.get("/api/v1/profiles/").status_code == 403
        assert api.post("/api/v1/profiles/", {"name": "x"}, format="json").status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/settings/", "/api/v1/profiles/"])
def test_anonymous_api_calls_get_401(api_as, path):
    response = api_as(None).get(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_a_wrong_token_gets_401(client, db):
    response = client.get("/api/v1/settings/", HTTP_AUTHORIZATION="Token not-a-real-token")

    assert response.status_code == 401


def test_admin_home_links_all_open_for_each_role(client, admin_member, csm_user, rep_user):
    """No dead links: every admin link on the home page opens for the role that sees it."""
    import re

    for user in (admin_member, csm_user, rep_user):
        client.force_login(user)
        page = client.get(reverse("admin:index"))
        assert page.status_code == 200
        links = set(re.findall(r'href="(/admin/[^"#]*)"', page.content.decode()))
        links.discard("/admin/logout/")
        for link in links:
            assert client.get(link).status_code in (200, 302), (user.username, link)


def test_a_role_given_or_taken_counts_at_once_for_the_same_user_object(rep_user):
    assert has_role(rep_user, REP) and not has_role(rep_user, ADMIN)
    rep_user.groups.add(Group.objects.get(name=ADMIN))
    assert has_role(rep_user, ADMIN)
    rep_user.groups.clear()
    assert not has_role(rep_user, REP, ADMIN)
