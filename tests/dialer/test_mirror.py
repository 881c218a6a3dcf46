"""What a dialer run writes in Salesforce is in the mirror right after, so matching sees it."""

import pytest

from accounts.models import Account, Contact, Lead
from integrations.dialer.models import Action, CallRun

pytestmark = pytest.mark.django_db

PERSON = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": "grace@cobolsystems.com",
    "company": "Cobol Systems",
    "website": "https://www.cobolsystems.com",
}


def test_a_contact_and_account_the_dialer_creates_are_in_the_mirror(
    sf_org, make_integration, post_call
):
    make_integration(Action.UPDATE_OR_CREATE_CONTACT)

    response = post_call("YES", PERSON)

    run = CallRun.objects.get(pk=response.json()["id"])
    assert run.status == CallRun.Status.SUCCEEDED, run.error
    contact = Contact.objects.get(email="grace@cobolsystems.com")
    assert contact.sf_id == next(
        r["id"] for r in run.salesforce_records if r["object"] == "Contact"
    )
    assert contact.account == Account.objects.get(name="Cobol Systems")
    assert contact.account.domains.filter(domain="cobolsystems.com").exists()


def test_a_lead_the_dialer_updates_shows_its_new_values_in_the_mirror(
    sf_org, make_integration, post_call
):
    make_integration(Action.UPDATE_OR_CREATE_LEAD)
    post_call("YES", PERSON)
    assert Lead.objects.get(email="grace@cobolsystems.com").last_name == "Hopper"

    post_call("YES", {**PERSON, "last_name": "Hopper-Murray"})

    assert Lead.objects.get(email="grace@cobolsystems.com").last_name == "Hopper-Murray"
