"""Configuration Profiles: per-team contact creation, a user in at most one, a default."""

import pytest
from django.urls import reverse

from crmbridge.models import ConfigurationProfile
from crmbridge.selectors import profile_for_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_profile_with_members_by_username(api_as, admin_member, rep_user):
    response = api_as(admin_member).post(
        "/api/v1/profiles/",
        {"name": "EMEA", "contact_creation_enabled": False, "members": ["rex"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["members"] == ["rex"]
    assert body["is_default"] is False
    assert profile_for_user(user=rep_user).name == "EMEA"


def test_a_user_without_a_profile_falls_back_to_the_default(rep_user):
    assert profile_for_user(user=rep_user) == ConfigurationProfile.objects.get(is_default=True)


def test_a_user_belongs_to_at_most_one_profile(api_as, admin_member, rep_user):
    api = api_as(admin_member)
    api.post("/api/v1/profiles/", {"name": "EMEA", "members": ["rex"]}, format="json")

    response = api.post("/api/v1/profiles/", {"name": "APAC", "members": ["rex"]}, format="json")

    assert response.status_code == 400
    assert "rex is already in profile 'EMEA'" in response.json()["members"][0]
    assert not ConfigurationProfile.objects.filter(name="APAC").exists()


def test_there_is_only_one_default_profile(api_as, admin_member):
    response = api_as(admin_member).post(
        "/api/v1/profiles/", {"name": "Second", "is_default": True}, format="json"
    )

    assert response.status_code == 400
    assert "already the default" in response.json()["is_default"][0]


def test_unknown_member_and_duplicate_name_are_400s(api_as, admin_member):
    api = api_as(admin_member)

    unknown = api.post("/api/v1/profiles/", {"name": "X", "members": ["nobody"]}, format="json")
    nul = api.post("/api/v1/profiles/", {"name": "X", "members": ["a\x00b"]}, format="json")
    duplicate = api.post("/api/v1/profiles/", {"name": "Everyone"}, format="json")

    assert unknown.status_code == 400 and "members" in unknown.json()
    assert nul.status_code == 400 and "members" in nul.json()
    assert duplicate.status_code == 400 and "name" in duplicate.json()


def test_patch_replaces_members_and_delete_removes(api_as, admin_member):
    UserFactory(username="a1")
    UserFactory(username="a2")
    api = api_as(admin_member)
    pk = api.post("/api/v1/profiles/", {"name": "T", "members": ["a1"]}, format="json").json()["id"]

    patched = api.patch(f"/api/v1/profiles/{pk}/", {"members": ["a2"]}, format="json")
    deleted = api.delete(f"/api/v1/profiles/{pk}/")

    assert patched.json()["members"] == ["a2"]
    assert deleted.status_code == 204
    assert not ConfigurationProfile.objects.filter(pk=pk).exists()


def test_profile_changes_are_in_the_history(client, api_as, admin_member):
    api_as(admin_member).post("/api/v1/profiles/", {"name": "EMEA"}, format="json")
    profile = ConfigurationProfile.objects.get(name="EMEA")
    client.force_login(admin_member)
    url = reverse("admin:crmbridge_configurationprofile_change", args=[profile.pk])
    form = {
        "name": "EMEA",
        "contact_creation_enabled": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }

    assert client.post(url, form).status_code == 302

    latest = profile.history.latest()
    assert latest.history_user == admin_member
    assert latest.contact_creation_enabled is False
    history_page = client.get(
        reverse("admin:crmbridge_configurationprofile_history", args=[profile.pk])
    )
    text = " ".join(history_page.content.decode().split())
    assert "Contact creation enabled:</strong> True &nbsp;&rarr;&nbsp;&nbsp;False" in text
