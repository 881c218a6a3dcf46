"""Executive Engaged shows on the Account and Opportunity change pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact, Opportunity
from activities.models import Activity, Participant

pytestmark = pytest.mark.django_db


def test_it_shows_executives_who_took_part_in_recent_activity(client, admin_member):
    account = Account.objects.create(sf_id="001000000000001AAA", name="Acme")
    opportunity = Opportunity.objects.create(name="Acme renewal", account=account)
    vp = Contact.objects.create(
        first_name="Vera",
        last_name="Vance",
        email="vera@acme.com",
        title="VP Sales",
        seniority="Vice President",
        account=account,
    )
    Contact.objects.create(
        first_name="Ian",
        last_name="Ives",
        email="ian@acme.com",
        title="Engineer",
        seniority="Individual Contributor",
        account=account,
    )
    activity = Activity.objects.create(
        external_id="e1",
        kind="email",
        occurred_at=timezone.now() - timedelta(days=3),
        owner=admin_member,
        account=account,
        opportunity=opportunity,
        match_status="matched",
    )
    Participant.objects.create(activity=activity, email=vp.email, contact=vp, account=account)
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
