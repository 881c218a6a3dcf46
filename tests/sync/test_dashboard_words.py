"""The sync dashboard and the connection page after syncs that ran in another process (the
task cluster): they show what the org last said, figures that agree with the home page, and no
time in the past as the "next" run."""

import datetime as dt
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from activities.models import Activity
from integrations.salesforce import SalesforceClient, install_client
from integrations.sync import schedule as sched
from integrations.sync.selectors import bar_chart
from integrations.sync.services import sync_run_execute
from tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced_in_a_worker(sf_org):
    """A sync ran with the worker's own client; this (web) process's client never called."""
    sync_run_execute(kind="sync", trigger="schedule", client=SalesforceClient.for_emulator(sf_org))
    web = SalesforceClient.for_emulator(sf_org, base_delay=0)
    install_client(web)
    yield web
    install_client(None)


def text_of(html):
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_api_usage_is_known_after_a_sync_in_the_worker(client, admin_member, synced_in_a_worker):
    client.force_login(admin_member)

    page = text_of(client.get(reverse("admin:sync_syncrun_dashboard")).content.decode())

    assert "Not known yet" not in page
    assert re.search(r"\d+ / \d+ of crmbridge's budget .* as the org said at \d\d:\d\d", page)


def test_the_connection_page_shows_the_org_a_sync_reached(
    client, admin_member, sf_org, synced_in_a_worker
):
    client.force_login(admin_member)

    page = text_of(
        client.get(
            reverse("admin:crmbridge_salesforceconnection_changelist"), follow=True
        ).content.decode()
    )

    assert "not connected yet" not in page
    assert "Last answer from the org" in page and "none yet" not in page
    assert re.search(
        r"daily API calls used \([\d.]+%\) at [\d-]+ [\d:]+, the org's last answer", page
    )


def test_the_activity_chart_counts_as_the_home_page_does(client, admin_member):
    for status, n in [("matched", 3), ("unmatched", 2), ("ambiguous", 1), ("internal", 4)]:
        ActivityFactory.create_batch(n, match_status=status)
    client.force_login(admin_member)

    dashboard = text_of(client.get(reverse("admin:sync_syncrun_dashboard")).content.decode())
    home = text_of(client.get(reverse("admin:index")).content.decode())

    assert "2 activities matched no Account" in home and "1 activities match several" in home
    assert "matched no Account (2)" in dashboard
    assert "match several Accounts (1)" in dashboard
    assert "internal only (4)" in dashboard and "matched (3)" in dashboard


def test_day_labels_never_overlap_nor_leave_the_chart():
    today = timezone.now().date()
    days = [today - dt.timedelta(days=29 - i) for i in range(30)]

    ticks = bar_chart(days=days, series=[("x", [1] * 30)])["ticks"]

    xs = [t["x"] for t in ticks]
    assert all(b - a >= 7 * 20 for a, b in zip(xs, xs[1:], strict=False))  # a week apart
    assert ticks[-1]["label"] == f"{today:%d %b}" and ticks[-1]["anchor"] == "end"
    assert xs[0] >= 18  # "03 Dec" centred there starts inside the chart


def test_a_push_time_that_has_passed_is_shown_as_waiting_not_as_next(client, admin_member):
    Schedule.objects.create(
        name=sched.SOON_SCHEDULE,
        func=sched.SOON_FUNC,
        schedule_type=Schedule.ONCE,
        next_run=timezone.now() - dt.timedelta(minutes=20),
    )
    client.force_login(admin_member)

    page = text_of(client.get(reverse("admin:sync_syncrun_dashboard")).content.decode())

    assert "Push of new outbox work: due since" in page
    assert "waiting for the background worker" in page
    assert "Next push of new outbox work" not in page


def test_a_finished_run_does_not_read_as_still_working(client, admin_member, sf_client):
    run = sync_run_execute(kind="sync", trigger="admin")
    assert run.state == "succeeded" and run.progress
    client.force_login(admin_member)

    page = text_of(client.get(reverse("admin:sync_syncrun_dashboard")).content.decode())

    assert run.progress not in page.split("Last runs", 1)[1]


def test_internal_only_activity_is_not_counted_unmatched(client, admin_member):
    ActivityFactory(match_status=Activity.MatchStatus.INTERNAL)
    client.force_login(admin_member)

    dashboard = text_of(client.get(reverse("admin:sync_syncrun_dashboard")).content.decode())

    assert "matched no Account (0)" in dashboard
