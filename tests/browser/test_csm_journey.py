"""The CSM's day: try a title, work the unclassified queue, preview a rule's impact, add the
rule, see the queue shrink."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Contact
from crmbridge.roles import CSM
from tests.browser.conftest import PHONE
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _contacts_with_titles(titles):
    from accounts.services import contact_create

    for n, title in enumerate(titles):
        contact_create(
            first_name="Pat", last_name=f"Lee{n}", email=f"pat.lee{n}@prospect.com",
            account=None, title=title,
        )  # fmt: skip


def _queue_total(page):
    text = page.locator("#content-main p.help").first.inner_text()
    return int(re.match(r"\s*(\d+)", text).group(1))


def test_a_csm_turns_an_unclassified_title_into_a_rule(open_session):
    UserFactory(username="cora", role=CSM)
    _contacts_with_titles(["Solutions Engineer", "Sr. Solutions Engineer", "Chief Cat Herder"])
    s = open_session("csm-rule")
    page = s.page
    s.login("cora")

    # Try a title: nothing classifies it yet.
    s.goto("/admin/classification/classificationrule/")
    s.assert_admin_css_loaded()
    page.get_by_label("Job title").fill("Sr. Solutions Engineer")
    page.get_by_role("button", name="Classify").click()
    expect(page.locator(".try-result")).to_contain_text("unclassified")
    s.screenshot("try-before")

    # The unclassified queue, by department, most frequent first.
    s.goto("/admin/classification/classificationrule/unclassified/?dimension=department")
    expect(page.locator("#content-main table")).to_contain_text("Solutions Engineer")
    before = _queue_total(page)
    assert before == 3
    s.screenshot("queue-before")

    # Create a rule from a title: its distinctive words ("Sr." left out), at keyword level, so
    # it covers "Solutions Engineer" too. The value is new here: added on purpose.
    page.get_by_role("row", name=re.compile(r"^Sr\. Solutions Engineer")).get_by_role(
        "link", name="Create a rule “Solutions Engineer”"
    ).click()
    expect(page.locator("#id_keyword")).to_have_value("Solutions Engineer")
    expect(page.locator("#id_dimension")).to_have_value("department")
    page.locator("#id_value").select_option(label="Add a new value…")
    page.locator("#id_new_value").fill("Engineering")

    # Preview the impact before saving: both Solutions Engineer contacts would change.
    page.get_by_role("button", name="Preview impact").click()
    expect(page.locator(".impact-summary")).to_contain_text("2 existing Contacts")
    expect(page.locator("#impact-examples")).to_contain_text("Sr. Solutions Engineer")
    s.screenshot("impact-preview")
    page.get_by_role("link", name="Back to the rule").click()
    expect(page.locator("#id_keyword")).to_have_value("Solutions Engineer")
    expect(page.locator("#id_new_value")).to_have_value("Engineering")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist").first).to_contain_text("Solutions Engineer")

    # The queue shrinks (re-classification runs by itself: no manual recalculation).
    s.goto("/admin/classification/classificationrule/unclassified/?dimension=department")
    expect(page.locator("#content-main table")).not_to_contain_text("Solutions Engineer")
    assert _queue_total(page) == before - 2
    assert set(
        Contact.objects.filter(title__contains="Solutions").values_list("department", flat=True)
    ) == {"Engineering"}
    s.screenshot("queue-after")

    # And the title now classifies, saying which rule won.
    s.goto("/admin/classification/classificationrule/?try_title=Sr.+Solutions+Engineer")
    expect(page.locator(".try-result")).to_contain_text("Engineering")
    s.finish("try-after")


def test_the_rule_list_and_try_a_title_work_on_a_phone(open_session):
    UserFactory(username="cora", role=CSM)
    s = open_session("csm-phone")
    s.page.set_viewport_size(PHONE)

    s.login("cora")
    s.goto("/admin/classification/classificationrule/?try_title=VP+Sales")
    s.assert_fits("input[name=try_title]", "input[value=Classify]")
    s.finish()
