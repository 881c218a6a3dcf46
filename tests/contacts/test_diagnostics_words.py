"""'Why no Contact?' in a rep's words: a verdict, then each check as a question answered yes or
no with what to do about it and where; the Contact decisions list says the same."""

import pytest
from django.urls import reverse

from accounts.models import Account, AccountDomain
from tests.factories import sf_id as fake_sf_id

pytestmark = pytest.mark.django_db
WHY = "admin:activities_why_no_contact"
CODES = ("creation_disabled", "activity_unmatched", "domain_unmatched", "missing_", "passed")


def why(client, user, email):
    client.force_login(user)
    response = client.get(reverse(WHY), {"email": email})
    assert response.status_code == 200
    return response.content.decode()


def test_it_gives_a_verdict_and_questions_without_codes(
    ingest, acme, client, rep_user, org_settings, default_profile
):
    org_settings.required_contact_fields = ["phone"]
    org_settings.save()
    default_profile(enabled=False)
    ingest([{"email": "jane@acme.com", "name": "Jane"}], subject="Pricing")

    page = why(client, rep_user, "jane@acme.com")

    assert (
        "No Contact for jane@acme.com: contact creation is off on the owner’s profile "
        "“Everyone”, the last name is not known and the phone is not known." in page
    )
    assert "Is the last name known?" in page
    assert "Does the owner’s Configuration Profile allow contact creation?" in page
    assert "Ask your admin to turn contact creation on in the profile “Everyone”." in page
    assert "20 Nov 2026, 10:00" in page
    assert "2026-11-20T10:00" not in page
    assert "/api/v1/" not in page
    for code in CODES:
        assert code not in page


def test_an_unknown_domain_says_ask_your_admin_and_links_edit_match(ingest, client, rep_user):
    activity = ingest([{"email": "jane.doe@nowhere-inc.com", "name": "Jane Doe"}])

    page = why(client, rep_user, "jane.doe@nowhere-inc.com")

    assert "No Account has the domain nowhere-inc.com." in page
    assert "ask your admin to add nowhere-inc.com to the right Account" in page
    assert reverse("admin:activities_activity_edit_match", args=[activity.pk]) in page
    assert reverse("admin:accounts_accountdomain_add") not in page  # a rep cannot add domains


def test_an_admin_is_offered_the_page_that_fixes_it(ingest, client, admin_member, org_settings):
    org_settings.contact_creation_enabled = False
    org_settings.save()
    ingest([{"email": "jane.doe@nowhere-inc.com", "name": "Jane Doe"}])

    page = why(client, admin_member, "jane.doe@nowhere-inc.com")

    assert reverse("admin:crmbridge_globalsettings_changelist") in page
    assert reverse("admin:accounts_accountdomain_add") in page
    assert "Is contact creation on for the whole organisation?" in page


def test_a_domain_of_several_accounts_is_called_ambiguous(ingest, client, rep_user):
    for name in ("Pied Logistics", "Pied Analytics"):
        account = Account.objects.create(sf_id=fake_sf_id("001"), name=name, website="pied.com")
        AccountDomain.objects.create(account=account, domain="pied.com", source="website")
    ingest([{"email": "ann.lee@pied.com", "name": "Ann Lee"}])

    page = why(client, rep_user, "ann.lee@pied.com")

    assert "Several Accounts have the domain pied.com" in page
    assert "did not match an Account" not in page
    assert "choose the right one with Edit match" in page


def test_a_created_contact_is_a_yes_verdict(ingest, acme, client, rep_user):
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])

    page = why(client, rep_user, "jane.doe@acme.com")

    assert "A Contact exists for jane.doe@acme.com: Jane Doe." in page
    assert "Is the first name known?" in page and "Yes" in page


def test_the_contact_decisions_list_uses_the_same_words(ingest, acme, client, rep_user):
    ingest([{"email": "jroe@acme.com"}])
    client.force_login(rep_user)

    page = client.get(reverse("admin:activities_contactdecision_changelist")).content.decode()

    assert "The first name is not known and the last name is not known" in page
    for code in CODES:
        assert code not in page
