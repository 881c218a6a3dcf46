"""One display name per person: the header, the lists and the match reasons say "Rex Seller",
never "rex" or "REX"; the demo's Salesforce users carry the names of its crmbridge users."""

import re

import pytest
from django.urls import reverse

from activities.rematch import activity_match_edit
from crmbridge.demo import DEMO_DOMAIN, DEMO_USERS
from crmbridge.roles import REP
from sfemulator.seed import DEMO_USERS as DEMO_ORG_USERS
from tests.factories import AccountFactory, ActivityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rex(db):
    return UserFactory(username="rex", first_name="Rex", last_name="Seller", role=REP)


def test_the_header_and_the_feed_name_the_person_not_the_login(client, rex):
    ActivityFactory(owner=rex, subject="Renewal")
    client.force_login(rex)

    html = client.get(reverse("admin:activities_activity_changelist")).content.decode()

    assert 'Welcome, <strong class="display-name">Rex Seller</strong>' in html
    owner_cells = re.findall(r'<td class="field-owner[^"]*">([^<]*)</td>', html)
    assert owner_cells == ["Rex Seller"]


def test_a_match_edit_is_signed_with_the_same_name(rex):
    activity = ActivityFactory(owner=rex)

    activity_match_edit(activity=activity, account=AccountFactory(name="Acme"), user=rex)

    activity.refresh_from_db()
    assert activity.match_reason.startswith("Set by Rex Seller with Edit match")


def test_a_user_without_a_name_is_shown_by_login(db):
    assert str(UserFactory(username="ops", first_name="", last_name="")) == "ops"


def test_the_demo_org_names_each_person_as_crmbridge_does():
    names = {f"{u}@{DEMO_DOMAIN}": f"{first} {last}" for u, _, first, last in DEMO_USERS}

    assert {email: name for name, email in DEMO_ORG_USERS} == names
