"""The Rep's day: their own feed, Match details, Edit match, and "why no Contact?"."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from activities.models import Activity
from crmbridge.roles import REP
from tests.browser.conftest import PHONE, activity_send
from tests.factories import AccountFactory, OpportunityFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_rep_works_their_feed_and_fixes_an_unmatched_activity(open_session):
    rex = UserFactory(username="rex", role=REP)
    rita = UserFactory(username="rita", role=REP)
    AccountFactory(name="Acme Corp", website="https://www.acme.example", sf_id="001000000000010AAA")
    globex = AccountFactory(name="Globex", website="globex.example", sf_id="001000000000011AAA")
    activity_send(
        owner=rex, external_id="m-1", subject="Acme renewal",
        emails=[("jane.doe@acme.example", "Jane Doe")],
    )  # fmt: skip
    unmatched = activity_send(
        owner=rex, external_id="m-2", subject="Intro call with Bob",
        emails=[("bob.stone@globex-mail.example", "Bob Stone")],
    )  # fmt: skip
    activity_send(
        owner=rex, external_id="m-4", subject="Pricing question",
        emails=[("jdoe@acme.example", "")],
    )  # fmt: skip
    activity_send(
        owner=rita, external_id="m-3", subject="Rita private pipeline",
        emails=[("ann@acme.example", "Ann Lee")],
    )  # fmt: skip
    assert unmatched.match_status == Activity.MatchStatus.UNMATCHED
    s = open_session("rep-feed")
    page = s.page

    # Only their own feed.
    s.login("rex")
    s.goto("/admin/activities/activity/")
    s.assert_admin_css_loaded()
    results = page.locator("#result_list")
    expect(results).to_contain_text("Acme renewal")
    expect(results).to_contain_text("Intro call with Bob")
    expect(results).not_to_contain_text("Rita private pipeline")
    s.screenshot("feed")

    # Match details of the unmatched activity say why, in words.
    page.get_by_role("link", name="Intro call with Bob").click()
    expect(page.locator("#content")).to_contain_text("Unmatched")
    expect(page.locator("#content")).to_contain_text("bob.stone@globex-mail.example")
    s.screenshot("match-details")

    # Edit match: choose the Account by search.
    page.get_by_role("link", name="Edit match").click()
    page.locator(".select2-selection").first.click()
    page.locator(".select2-search__field").fill("Globex")
    page.locator(".select2-results__option", has_text="Globex").first.click()
    s.screenshot("edit-match")
    page.get_by_role("button", name=re.compile("save", re.I)).click()
    expect(page.locator(".messagelist")).to_contain_text("Match saved")
    expect(page.locator("#content")).to_contain_text("Globex")
    unmatched.refresh_from_db()
    assert unmatched.account_id == globex.pk and unmatched.match_edited

    # Why did no Contact get created for jdoe@ (matched Acme, but no name can be known)?
    s.goto("/admin/activities/contactdecision/why-no-contact/")
    page.locator("#why-email").fill("jdoe@acme.example")
    page.get_by_role("button", name="Explain").click()
    answer = page.locator("#content")
    expect(answer).to_contain_text("Pricing question")
    expect(answer).to_contain_text("No Contact for jdoe@acme.example")
    expect(answer).to_contain_text("the first name is not known and the last name is not known")
    expect(answer).to_contain_text("Is the first name known?")
    expect(answer).not_to_contain_text("Rita private pipeline")
    s.finish("why-no-contact")


def test_the_feed_and_match_details_work_on_a_phone(open_session):
    rex = UserFactory(username="rex", role=REP)
    activity = activity_send(
        owner=rex, external_id="p-1", subject="Phone-sized subject line for the feed",
        emails=[("carol@nowhere-inc.example", "Carol King")],
    )  # fmt: skip
    s = open_session("rep-phone")
    s.page.set_viewport_size(PHONE)

    s.login("rex")
    s.goto("/admin/activities/activity/")
    s.assert_fits("#result_list a[href*='/match/']", "#searchbar")
    s.screenshot("feed")
    s.goto(f"/admin/activities/activity/{activity.pk}/match/")
    s.assert_fits("a[href*='/edit-match/']")
    s.finish("match-details")


def test_edit_match_offers_the_named_accounts_and_their_opportunities_only(open_session):
    rex = UserFactory(username="rex", role=REP)
    AccountFactory(name="Pied Logistics", website="piedlogistics.com", sf_id="001000000000020AAA")
    eu = AccountFactory(
        name="Pied Logistics", website="piedlogistics.com", alternate_domains="pied-eu.com",
        sf_id="001000000000021AAA",
    )  # fmt: skip
    OpportunityFactory(name="US renewal", account=Account.objects.get(sf_id="001000000000020AAA"))
    OpportunityFactory(name="EU expansion", account=eu)
    activity = activity_send(
        owner=rex, external_id="e-1", subject="Which Pied?",
        emails=[("ann@piedlogistics.com", "Ann Lee")],
    )  # fmt: skip
    assert activity.match_status == Activity.MatchStatus.AMBIGUOUS, activity.match_reason
    s = open_session("rep-edit-match")
    page = s.page

    s.login("rex")
    s.goto(f"/admin/activities/activity/{activity.pk}/edit-match/")
    page.get_by_label(re.compile("piedlogistics.com, pied-eu.com")).check()
    page.locator("#id_opportunity + .select2 .select2-selection").click()
    options = page.locator(".select2-results__option")
    expect(options.first).to_contain_text("EU expansion")
    expect(options).to_have_count(1)
    options.first.click()
    s.screenshot("chosen")
    page.get_by_role("button", name=re.compile("save", re.I)).click()
    expect(page.locator(".messagelist")).to_contain_text("Match saved")
    activity.refresh_from_db()
    assert (activity.account_id, activity.opportunity.name) == (eu.pk, "EU expansion")
    s.finish("saved")
