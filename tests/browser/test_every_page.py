"""Every persona's pages, at a desktop and a phone width: nothing wider than the screen, no
console errors, no serious or critical accessibility violation (axe-core, bundled locally by
axe-playwright-python), and no button offered that the role cannot open."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from classification.models import ClassificationRule
from crmbridge.roles import ADMIN, CSM, REP
from integrations.dialer.models import DialerProject
from tests.browser.conftest import DESKTOP, PHONE, activity_send
from tests.factories import AccountFactory, DialerProjectFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SERIOUS = {"serious", "critical"}
axe = Axe()


def a_small_world():
    """Two reps' activity, matched and not, and a rule: enough for every page to show rows."""
    rex = UserFactory(username="rex", role=REP)
    AccountFactory(
        name="Blue Analytics", website="blueanalytics.example", sf_id="001000000000020AAA"
    )
    matched = activity_send(
        owner=rex, external_id="w-1", subject="Renewal for Blue Analytics, second year pricing",
        emails=[("jane.roe42@blueanalytics.example", ""), ("jdoe@blueanalytics.example", "")],
    )  # fmt: skip
    unmatched = activity_send(
        owner=rex, external_id="w-2", subject="Intro call",
        emails=[("bob.stone@nowhere-inc.example", "Bob Stone")],
    )  # fmt: skip
    ClassificationRule.objects.create(
        keyword="Marketing", dimension="department", value="Marketing"
    )
    DialerProjectFactory(name="Outbound EMEA")
    return matched, unmatched


def pages_for(role, matched, unmatched):
    why = "/admin/activities/contactdecision/why-no-contact/?email=jdoe@blueanalytics.example"
    rep_pages = [
        "/admin/",
        "/admin/activities/activity/",
        f"/admin/activities/activity/{unmatched.pk}/match/",
        f"/admin/activities/activity/{matched.pk}/match/",
        f"/admin/activities/activity/{unmatched.pk}/edit-match/",
        f"/admin/activities/activity/{matched.pk}/edit-match/",  # its Account offered first
        why,
        "/admin/activities/contactdecision/",
        "/admin/two-factor/",
    ]
    csm_pages = [
        "/admin/",
        "/admin/classification/classificationrule/",
        "/admin/classification/classificationrule/add/",
        "/admin/classification/classificationrule/?try_title=VP+of+Marketing+Operations",
        "/admin/activities/activity/",
        f"/admin/activities/activity/{unmatched.pk}/match/",
        why,
        "/admin/sync/syncrun/",
        "/admin/accounts/account/",
    ]
    admin_pages = [
        *csm_pages,
        "/admin/crmbridge/globalsettings/1/change/",
        "/admin/sync/syncrun/dashboard/",
        "/admin/integrations/outboxitem/",
        "/admin/dialer/dialerproject/",
        f"/admin/dialer/dialerproject/{DialerProject.objects.get().pk}/change/",
        "/admin/dialer/callrun/",
        "/admin/accounts/accountdomain/",
        "/admin/crmbridge/configurationprofile/",
        "/admin/audit/",
        "/admin/otp_totp/totpdevice/",
    ]
    return {REP: rep_pages, CSM: csm_pages, ADMIN: admin_pages}[role]


def check_page(s, path, width, problems):
    page = s.page
    response = page.goto(path)
    page.wait_for_load_state()
    if response is None or response.status >= 400:
        problems.append(f"{path}: HTTP {response and response.status}")
        return
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        problems.append(f"{path} at {width}px: {overflow}px wider than the screen")
    for violation in axe.run(page).response["violations"]:
        if violation["impact"] in SERIOUS:
            where = [n["target"] for n in violation["nodes"]][:3]
            problems.append(f"{path} at {width}px: axe {violation['id']} {where}")
    if width == DESKTOP["width"] and path == "/admin/activities/activity/":
        # Every column of the feed, "why" and "opportunity" included, is on the screen.
        right = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('#result_list thead th')]"
            ".map(th => th.getBoundingClientRect().right))"
        )
        if right > width:
            problems.append(f"{path} at {width}px: the last column ends at {right:.0f}px")
    if width == DESKTOP["width"]:
        hrefs = page.eval_on_selector_all(
            ".object-tools a[href], #content-main a.button[href]",
            "links => links.map(a => a.getAttribute('href'))",
        )
        for href in hrefs:
            if href.startswith("/"):
                status = s.context.request.get(href).status
                if status == 403:
                    problems.append(f"{path}: offers {href}, which answers 403")


@pytest.mark.parametrize("role", [REP, CSM, ADMIN])
def test_each_personas_pages_fit_the_screen_and_pass_axe(open_session, role):
    matched, unmatched = a_small_world()
    if role != REP:
        UserFactory(username=role.lower(), role=role)
    s = open_session(f"every-page-{role.lower()}")
    s.login("rex" if role == REP else role.lower())
    problems = []
    for viewport in (DESKTOP, PHONE):
        s.page.set_viewport_size(viewport)
        for path in pages_for(role, matched, unmatched):
            check_page(s, path, viewport["width"], problems)
    assert not problems, "\n".join(problems)
    s.finish()


def test_error_pages_fit_and_pass_axe(open_session):
    UserFactory(username="rex", role=REP)
    s = open_session("error-pages")
    s.login("rex")
    for viewport in (DESKTOP, PHONE):
        s.page.set_viewport_size(viewport)
        for path, status in [
            ("/admin/no-such-page/", 404),
            ("/admin/sync/syncrun/dashboard/", 403),
        ]:
            response = s.page.goto(path)
            assert response.status == status
            overflow = s.page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, (path, viewport, overflow)
            serious = [
                v["id"] for v in axe.run(s.page).response["violations"] if v["impact"] in SERIOUS
            ]
            assert not serious, (path, viewport, serious)
            assert s.page.get_by_role("link", name="Back to the control panel").is_visible()
    s.errors = [e for e in s.errors if "40" not in e]  # the 403/404 themselves are expected
    s.finish()
