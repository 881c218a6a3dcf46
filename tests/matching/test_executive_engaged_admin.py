"""Executive Engaged shows on the Account and Opportunity change pages."""

import pytest
from django.urls import reverse

from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    OpportunityFactory,
    ParticipantFactory,
)

pytestmark = pytest.mark.django_db


def test_it_shows_executives_who_took_part_in_recent_activity(client, admin_member):
    account = AccountFactory(sf_id="001000000000001AAA", name="Acme")
    opportunity = OpportunityFactory(name="Acme renewal", account=account)
    vp = ContactFactory(
        first_name="Vera",
        last_name="Vance",
        email="vera@acme.com",
        title="VP Sales",
        seniority="Vice President",
        account=account,
    )
    ContactFactory(
        first_name="Ian",
        last_name="Ives",
        email="ian@acme.com",
        title="Engineer",
        seniority="Individual Contributor",
        account=account,
    )
    activity = ActivityFactory(
        external_id="e1",
        kind="email",
        days_ago=3,
        owner=admin_member,
        account=account,
        opportunity=opportunity,
        match_status="matched",
    )
    ParticipantFactory(activity=activity, contact=vp, account=account)
    client.force_login(admin_member)

    account_page = client.get(reverse("admin:accounts_account_change", args=[account.pk]))
    opportunity_page = client.get(
        reverse("admin:accounts_opportunity_change", args=[opportunity.pk])
    )

    for page in (account_page, opportunity_page):
        text = page.content.decode()
        assert "Executive Engaged" in text
        assert "1 since" in text and "Vera Vance (VP Sales)" in text
        assert "Ian Ives" not in text
