"""The Admin's day in the control panel, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from crmbridge.roles import ADMIN
from tests.browser.conftest import PHONE
from tests.factories import AccountFactory, ConfigurationProfileFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_admin_logs_in_and_turns_contact_creation_on_for_a_profile(open_session):
    UserFactory(username="ada", role=ADMIN)
    profile = ConfigurationProfileFactory(name="EMEA sales", contact_creation_enabled=False)
    s = open_session("admin-profile")
    page = s.page

    s.login("ada")
    s.assert_admin_css_loaded()
    page.get_by_role("link", name="Configuration profiles").first.click()
    page.get_by_role("link", name="EMEA sales").click()
    checkbox = page.get_by_label("Contact creation enabled")
    assert not checkbox.is_checked()
    checkbox.check()
    s.screenshot("profile-form")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()

    assert page.locator(".messagelist .success").first.is_visible()
    profile.refresh_from_db()
    assert profile.contact_creation_enabled is True
    s.finish()


def test_the_login_page_and_admin_home_work_on_a_phone(open_session):
    UserFactory(username="ada", role=ADMIN)
    s = open_session("admin-phone")
    s.page.set_viewport_size(PHONE)

    s.goto("/admin/login/")
    s.assert_fits("#id_username", "#id_password", "input[type=submit]")
    s.login("ada")
    s.assert_admin_css_loaded()
    s.assert_fits("#content h1", "a[href$='/admin/crmbridge/configurationprofile/']")
    s.finish()


def test_the_site_has_a_favicon(open_session):
    s = open_session("favicon")
    response = s.page.goto("/favicon.ico")

    assert response.status == 200


def test_an_admin_adds_a_domain_sees_activity_matched_and_runs_sync_now(
    open_session, shared_sf_org
):
    sf_org = shared_sf_org
    from accounts.models import AccountDomain
    from activities.models import Activity
    from integrations.sync.models import SyncRun
    from tests.browser.conftest import activity_send

    UserFactory(username="ada", role=ADMIN)
    rex = UserFactory(username="rex", role="Rep")
    website = "https://www.initech.com"
    sf_id = sf_org.insert("Account", {"Name": "Initech", "Website": website})
    initech = AccountFactory(name="Initech", website=website, sf_id=sf_id)
    stray = activity_send(
        owner=rex, external_id="d-1", subject="Budget talk with Peter",
        emails=[("peter@initech-mail.com", "Peter Gibbons")],
    )  # fmt: skip
    assert stray.match_status == Activity.MatchStatus.UNMATCHED
    s = open_session("admin-domain-sync")
    page = s.page
    s.login("ada")

    # The feed shows it unmatched.
    s.goto("/admin/activities/activity/?match_status__exact=unmatched")
    expect(page.locator("#result_list")).to_contain_text("Budget talk with Peter")

    # Add the alternate domain on the Account.
    s.goto(f"/admin/accounts/account/{initech.pk}/change/")
    page.locator("input[name$='-domain']:not([name*='__prefix__'])").last.fill("initech-mail.com")
    s.screenshot("add-domain")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist").first).to_contain_text("initech-mail.com")
    assert AccountDomain.objects.filter(account=initech, domain="initech-mail.com").exists()

    # The activity that did not match now does.
    s.goto("/admin/activities/activity/?match_status__exact=matched")
    expect(page.locator("#result_list")).to_contain_text("Budget talk with Peter")
    stray.refresh_from_db()
    assert stray.match_status == Activity.MatchStatus.MATCHED and stray.account_id == initech.pk

    # Sync now, and watch it finish on the dashboard.
    s.goto("/admin/sync/syncrun/dashboard/")
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator(".messagelist").first).to_contain_text("queued")
    run = SyncRun.objects.order_by("-pk").first()
    s.goto(f"/admin/sync/syncrun/{run.pk}/change/")
    expect(page.locator("#content")).to_contain_text(re.compile("Succeeded|Finished"))
    run.refresh_from_db()
    assert run.state == SyncRun.State.SUCCEEDED, (
        run.state,
        list(run.errors.values("sobject", "error_code", "message")),
    )
    # What the admin changed reached Salesforce: the Account's alternate domains.
    assert "initech-mail.com" in (sf_org.rows("Account")[0].get("Alternate_Domains__c") or "")
    s.assert_fits("#content h1")
    s.at_width(PHONE)
    s.assert_fits("#content h1")
    s.finish("sync-finished")
