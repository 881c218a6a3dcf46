"""Edit match: the Accounts named for the activity come first, each with what tells it apart;
the Opportunity list follows the chosen Account; a mismatched pair is a form error."""

import sqlite3

import pytest

import sfemulator
from accounts.models import Account
from activities.models import Activity, MatchEdit
from activities.services import activity_ingest_many
from integrations.salesforce import SalesforceClient, install_client
from integrations.sync.services import sync_run_execute
from tests.factories import AccountFactory, OpportunityFactory, SalesforceUserFactory, activity_item

pytestmark = pytest.mark.django_db

FEED = "/admin/activities/activity/"


def autocomplete(client, field, term="", **extra):
    params = {"app_label": "activities", "model_name": "activity", "field_name": field}
    response = client.get("/admin/autocomplete/", {**params, "term": term, **extra})
    assert response.status_code == 200
    return [r["text"] for r in response.json()["results"]]


@pytest.fixture
def two_pieds(org_settings, rep_sf):
    """Two Accounts named Pied Logistics on one domain, told apart by domains and owner."""
    sam = SalesforceUserFactory(name="Sam Seller")
    tia = SalesforceUserFactory(name="Tia Trader")
    us = AccountFactory(
        name="Pied Logistics", website="piedlogistics.com", owner=sam, city="Berlin"
    )
    eu = AccountFactory(
        name="Pied Logistics",
        website="piedlogistics.com",
        alternate_domains="pied-eu.com",
        owner=tia,
    )
    AccountFactory(name="Pied Analytics", website="piedanalytics.com")
    return us, eu


def ingest(user, emails):
    [done] = activity_ingest_many(items=[activity_item(user, emails=emails)])
    return done.activity


def test_the_accounts_named_in_the_reason_come_first_told_apart(client, rep_user, two_pieds):
    us, eu = two_pieds
    activity = ingest(rep_user, ["ann@piedlogistics.com"])
    assert activity.match_status == Activity.MatchStatus.AMBIGUOUS
    client.force_login(rep_user)

    page = client.get(f"{FEED}{activity.pk}/edit-match/").content.decode()

    first = page.index("Pied Logistics — piedlogistics.com · owner Sam Seller · Berlin")
    second = page.index("Pied Logistics — piedlogistics.com, pied-eu.com · owner Tia Trader")
    assert first < page.index('name="account"') and second < page.index('name="account"')
    assert "Pied Analytics" not in page  # not named for this activity


def test_an_account_search_says_which_of_the_same_name_each_is(client, rep_user, two_pieds):
    client.force_login(rep_user)

    found = autocomplete(client, "account", "pied")

    assert sorted(found) == [
        "Pied Analytics — piedanalytics.com · no owner",
        "Pied Logistics — piedlogistics.com · owner Sam Seller · Berlin",
        "Pied Logistics — piedlogistics.com, pied-eu.com · owner Tia Trader",
    ]


def test_the_opportunity_list_holds_only_the_chosen_accounts(client, rep_user, two_pieds):
    us, eu = two_pieds
    OpportunityFactory(name="US renewal", account=us)
    OpportunityFactory(name="EU expansion", account=eu, close_date="2027-03-31")
    client.force_login(rep_user)

    assert autocomplete(client, "opportunity", account=eu.pk) == [
        "EU expansion (open, Prospecting, closes 2027-03-31)"
    ]
    assert autocomplete(client, "opportunity", account="") == []  # no Account chosen yet
    page = client.get(f"{FEED}{ingest(rep_user, ['a@piedlogistics.com']).pk}/edit-match/")
    assert 'data-forward="account"' in page.content.decode()


def test_choosing_a_suggested_account_saves_it(client, rep_user, two_pieds):
    us, eu = two_pieds
    deal = OpportunityFactory(name="EU expansion", account=eu)
    activity = ingest(rep_user, ["ann@piedlogistics.com"])
    client.force_login(rep_user)

    response = client.post(
        f"{FEED}{activity.pk}/edit-match/", {"suggested": eu.pk, "opportunity": deal.pk}
    )

    assert response.status_code == 302
    activity.refresh_from_db()
    assert (activity.account, activity.opportunity) == (eu, deal)


def test_an_opportunity_of_another_account_is_a_form_error(client, rep_user, two_pieds):
    us, eu = two_pieds
    theirs = OpportunityFactory(name="US renewal", account=us)
    activity = ingest(rep_user, ["ann@piedlogistics.com"])
    client.force_login(rep_user)

    response = client.post(
        f"{FEED}{activity.pk}/edit-match/", {"suggested": eu.pk, "opportunity": theirs.pk}
    )

    assert response.status_code == 200
    assert "US renewal is not an Opportunity of Pied Logistics" in response.content.decode()
    assert not MatchEdit.objects.exists()


def test_a_suggestion_and_a_different_search_are_refused_not_guessed(client, rep_user, two_pieds):
    us, eu = two_pieds
    activity = ingest(rep_user, ["ann@piedlogistics.com"])
    client.force_login(rep_user)

    response = client.post(
        f"{FEED}{activity.pk}/edit-match/", {"suggested": us.pk, "account": eu.pk}
    )

    assert response.status_code == 200
    assert "keep one" in response.content.decode()
    assert not MatchEdit.objects.exists()


def test_a_forged_suggestion_outside_the_named_accounts_is_refused(client, rep_user, two_pieds):
    other = AccountFactory(name="Hooli", website="hooli.com")
    activity = ingest(rep_user, ["ann@piedlogistics.com"])
    client.force_login(rep_user)

    response = client.post(f"{FEED}{activity.pk}/edit-match/", {"suggested": other.pk})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not MatchEdit.objects.exists()


def test_the_city_comes_from_salesforce_even_into_an_older_org_file(tmp_path, sf_client):
    path = tmp_path / "org.sqlite3"
    sfemulator.Org(str(path)).conn.close()
    with sqlite3.connect(path) as old:  # a file written before BillingCity was declared
        old.execute('ALTER TABLE "Account" DROP COLUMN "BillingCity"')
    org = sfemulator.Org(str(path))
    org.insert("Account", {"Name": "Pied Logistics", "BillingCity": "Lyon"})
    install_client(SalesforceClient.for_emulator(org, base_delay=0))

    assert sync_run_execute(kind="full", trigger="command").state == "succeeded"

    assert Account.objects.get(name="Pied Logistics").city == "Lyon"
