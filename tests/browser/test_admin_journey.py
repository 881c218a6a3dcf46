"""The Admin's day in the control panel, in a real browser."""

import pytest

from crmbridge.models import ConfigurationProfile
from crmbridge.roles import ADMIN
from tests.browser.conftest import PHONE
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_admin_logs_in_and_turns_contact_creation_on_for_a_profile(open_session):
    UserFactory(username="ada", role=ADMIN)
    profile = ConfigurationProfile.objects.create(name="EMEA sales", contact_creation_enabled=False)
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


@pytest.mark.xfail(
    strict=True,
    reason="crmbridge serves no /favicon.ico: every browser logs a 404 console error on the "
    "first page (reported to the lead, who owns crmbridge/urls.py)",
)
def test_the_site_has_a_favicon(open_session):
    s = open_session("favicon")
    response = s.page.goto("/favicon.ico")

    assert response.status == 200
