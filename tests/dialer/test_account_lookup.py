"""A new Contact joins the Account activity matching would choose: by domain, then by name."""

import pytest

from integrations.dialer.models import Action
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

CALL = {"last_name": "Hopper", "email": "grace@navy.mil.uk", "company": "Royal Navy"}


def mirrored_account(sf_org, name, domain=None):
    sf_id = sf_org.insert("Account", {"Name": name})
    AccountFactory(name=name, sf_id=sf_id, admin_domains=[domain] if domain else [])
    return sf_id


def test_it_links_the_account_of_the_emails_domain(sf_org, make_integration, post_call, run_of):
    make_integration(Action.UPDATE_OR_CREATE_CONTACT, account=[("company", "Name")])
    navy = mirrored_account(sf_org, "Admiralty", "mil.uk")

    run = run_of(post_call("YES", CALL))

    assert run["status"] == "succeeded", run["error"]
    (contact,) = sf_org.rows("Contact")
    assert contact["AccountId"] == navy
    assert sf_org.count("Account") == 1


def test_a_personal_mail_domain_never_matches_and_the_name_does(
    sf_org, make_integration, post_call, run_of
):
    make_integration(Action.UPDATE_OR_CREATE_CONTACT, account=[("company", "Name")])
    mirrored_account(sf_org, "Google", "gmail.com")
    navy = mirrored_account(sf_org, "Royal Navy Ltd")  # a unique substring of the name

    run = run_of(post_call("YES", dict(CALL, email="grace@gmail.com")))

    assert run["status"] == "succeeded", run["error"]
    (contact,) = sf_org.rows("Contact")
    assert contact["AccountId"] == navy


def test_with_no_account_data_the_contact_has_no_account(
    sf_org, make_integration, post_call, run_of
):
    make_integration(Action.UPDATE_OR_CREATE_CONTACT, account=[])

    run = run_of(post_call("YES", dict(CALL, email="grace@nowhere.example")))

    assert run["status"] == "succeeded", run["error"]
    (contact,) = sf_org.rows("Contact")
    assert contact["AccountId"] is None and "with no Account" in run["outcome"]
