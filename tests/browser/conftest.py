"""Browser journeys: Playwright (Python) drives Debian's chromium against the live server.

Never downloads a browser: the journeys use /usr/bin/chromium (`make browser` installs it with apt)
and are skipped, with a message saying so, only when it is absent.

Playwright's sync API runs an asyncio event loop in the test's thread, which trips Django's
async-unsafe guard on ORM calls made by the test itself (setting up data, asserting on it): the
`pw` fixture sets DJANGO_ALLOW_ASYNC_UNSAFE while the journeys run. The live server runs in its
own thread (no event loop there) on a transactional database, with static files served, so the
admin's own CSS loads as in production.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password


@pytest.fixture
def pw():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (run `make browser`)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser(pw):
    # Playwright gives every launch a fresh temporary profile (user-data-dir) of its own.
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


class Session:
    """One browser tab on the live server, recording console errors and uncaught exceptions."""

    def __init__(self, browser, base_url, name):
        self.base_url = base_url
        self.name = name
        self.errors = []
        self.context = browser.new_context(viewport=DESKTOP, base_url=base_url)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on(
            "response",
            lambda r: (
                self.errors.append(f"HTTP {r.status} for {r.url}")
                if r.status >= 500 or (r.status == 404 and "/static/" in r.url)
                else None
            ),
        )

    def _on_console(self, msg):
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        # The browser asks for /favicon.ico by itself; its 404 is checked on its own, by
        # test_the_site_has_a_favicon, not in every journey.
        if where.endswith("/favicon.ico"):
            return
        self.errors.append(f"console.error: {msg.text} ({where})")

    def goto(self, path):
        response = self.page.goto(path)
        assert response is not None and response.status < 400, (path, response and response.status)
        return response

    def login(self, username, password=PASSWORD):
        """Through the real admin login form, as a person would."""
        page = self.page
        self.goto("/admin/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name=re.compile("log in", re.I)).click()
        page.wait_for_load_state()
        assert "/admin/login/" not in page.url, f"{username} could not log in"

    def assert_admin_css_loaded(self):
        # The admin's base.css sets the header's background from its CSS variables.
        loaded = self.page.evaluate(
            """() => [...document.styleSheets].some(s => (s.href || '').includes('admin/css/base'))
                  && getComputedStyle(document.getElementById('header') || document.body)
                     .backgroundColor !== 'rgba(0, 0, 0, 0)'"""
        )
        assert loaded, "the admin's CSS did not load"

    def assert_fits(self, *selectors):
        """At the current width the page's main content does not overflow sideways, and the
        given controls are visible and inside the viewport."""
        page = self.page
        width = page.viewport_size["width"]
        overflow = page.evaluate(
            """() => {
                const main = document.getElementById('content') || document.querySelector('main')
                    || document.body;
                return Math.ceil(main.getBoundingClientRect().right) - window.innerWidth;
            }"""
        )
        assert overflow <= 1, f"main content overflows {overflow}px at {width}px wide"
        for selector in selectors:
            control = page.locator(selector).first
            control.scroll_into_view_if_needed()
            assert control.is_visible(), f"{selector} is not visible at {width}px"
            box = control.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + min(box["width"], 44) <= width + 1, (
                f"{selector} is outside the viewport at {width}px: {box}"
            )

    def at_width(self, viewport):
        self.page.set_viewport_size(viewport)
        self.page.reload()
        self.page.wait_for_load_state()

    def screenshot(self, step):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def finish(self, step="end"):
        """End of a journey: a screenshot, and no console errors anywhere on the way."""
        self.screenshot(step)
        assert not self.errors, "errors in the browser:\n" + "\n".join(self.errors)


@pytest.fixture
def open_session(browser, live_server, request):
    """open_session(name) -> a Session (its own cookies) on the live server."""
    sessions = []

    def make(name=None):
        session = Session(browser, live_server.url, name or request.node.name)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.context.close()


# -- the world a journey needs, made through the product's own services -------------------------
def activity_send(*, owner, external_id, subject, emails, kind="email"):
    """An activity arriving through ingestion, as the API would hand it over."""
    from activities.services import activity_ingest

    result = activity_ingest(
        item={
            "external_id": external_id,
            "kind": kind,
            "occurred_at": "2026-11-20T10:00:00Z",
            "owner": owner.email,
            "subject": subject,
            "participants": [{"email": e, "name": n} for e, n in emails],
        }
    )
    assert result.activity is not None, result.errors
    return result.activity


@pytest.fixture
def shared_sf_org(tmp_path):
    """An emulated org in a file, installed as crmbridge's client: the live server's thread and
    the test's thread see the same org (an in-memory org is one per connection)."""
    import sfemulator
    from integrations.salesforce import SalesforceClient, install_client

    org = sfemulator.Org(str(tmp_path / "sforg.sqlite3"))
    install_client(SalesforceClient.for_emulator(org, base_delay=0))
    yield org
    install_client(None)
