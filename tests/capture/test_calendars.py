"""Capture from CalDAV and ICS feeds on a real server (Radicale, started by tests/servers)."""

import datetime as dt
import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import caldav
import pytest

from activities.models import Activity, ActivityLog
from integrations.capture.models import CaptureRun, CaptureSource
from integrations.capture.run import capture_run_create, capture_run_execute
from integrations.outbox.models import OutboxItem
from tests.capture import mail

WEEK = dt.timedelta(weeks=1)
CUSTOMERS = [("juergen.weber@acme.com", "ACCEPTED"), ("ana.garcia@acme.com", "DECLINED")]


def run(source):
    return capture_run_execute(run=capture_run_create(source=source))


@pytest.fixture
def first_monday():
    today = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=today.weekday()) - 2 * WEEK


def series(first, *, cancelled_weeks=(), moved_week=None):
    """A weekly six-week series with the customer, an exception moved to 14:00, cancellations."""
    parts = [
        mail.event(
            uid="weekly@acme.com",
            start=first,
            summary="Weekly sync",
            organizer=mail.REP,
            attendees=CUSTOMERS,
            extra="RRULE:FREQ=WEEKLY;COUNT=6",
        )
    ]
    if moved_week is not None:
        original = first + moved_week * WEEK
        parts.append(
            mail.event(
                uid="weekly@acme.com",
                recurrence_id=original,
                start=original.replace(hour=14),
                summary="Weekly sync (moved)",
                organizer=mail.REP,
                attendees=CUSTOMERS,
                sequence=1,
            )
        )
    for week in cancelled_weeks:
        original = first + week * WEEK
        parts.append(
            mail.event(
                uid="weekly@acme.com",
                recurrence_id=original,
                start=original,
                summary="Weekly sync",
                organizer=mail.REP,
                attendees=CUSTOMERS,
                status="CANCELLED",
                sequence=2,
            )
        )
    return mail.calendar(*parts)


def demo(start, *, uid="demo@acme.com", summary="Product demo", private=False):
    return mail.event(
        uid=uid,
        start=start,
        minutes=90,
        summary=summary,
        organizer="juergen.weber@acme.com",
        attendees=[(mail.REP, "ACCEPTED")],
        extra="CLASS:PRIVATE" if private else "",
    )


def single(start, **kwargs):
    return mail.calendar(demo(start, **kwargs))


@pytest.fixture
def work_calendar(radicale_user):
    client = caldav.DAVClient(
        url=radicale_user.url, username=radicale_user.username, password=radicale_user.password
    )
    return client.principal().make_calendar(name="Work", cal_id="work")


@pytest.fixture
def caldav_source(org, rep_user, radicale_user):
    return CaptureSource.objects.create(
        kind=CaptureSource.Kind.CALDAV,
        owner=rep_user,
        url=radicale_user.url,
        username=radicale_user.username,
        secret=radicale_user.password,
    )


def test_it_captures_a_recurring_series_with_its_exception_and_cancellation(
    caldav_source, work_calendar, first_monday, rep_user
):
    work_calendar.save_event(series(first_monday, cancelled_weeks=[3], moved_week=2))
    work_calendar.save_event(single(first_monday + dt.timedelta(days=2)))
    work_calendar.save_event(single(first_monday, uid="doctor@x", summary="Doctor", private=True))

    result = run(caldav_source)

    assert result.state == CaptureRun.State.DONE, result.errors
    meetings = Activity.objects.filter(owner=rep_user, kind="meeting").order_by("occurred_at")
    weekly = [m for m in meetings if m.external_id.startswith("weekly@acme.com#")]
    assert len(weekly) == 5  # six weeks, one cancelled before it was ever captured
    assert result.captured == 6 and result.skipped == {"cancelled": 1, "private": 1}
    moved = weekly[2]
    assert moved.subject == "Weekly sync (moved)"
    assert moved.occurred_at.hour == 14
    assert moved.ends_at - moved.occurred_at == dt.timedelta(minutes=45)
    demo = meetings.get(external_id="demo@acme.com")
    assert demo.ends_at - demo.occurred_at == dt.timedelta(minutes=90)
    answers = dict(weekly[0].participants.values_list("email", "response"))
    assert answers["ana.garcia@acme.com"] == "declined"
    assert answers["juergen.weber@acme.com"] == "accepted"


def test_a_moved_or_cancelled_meeting_updates_its_activity_and_event(
    caldav_source, work_calendar, first_monday, rep_user
):
    work_calendar.save_event(series(first_monday))
    demo_event = work_calendar.save_event(single(first_monday + dt.timedelta(days=2)))
    run(caldav_source)
    count = Activity.objects.count()
    assert run(caldav_source).seen == 0  # nothing changed: the sync token says so

    work_calendar.event_by_uid("weekly@acme.com").delete()
    work_calendar.save_event(series(first_monday, cancelled_weeks=[4]))
    demo_event.data = single(first_monday + dt.timedelta(days=2, hours=3))
    demo_event.save()
    changed = run(caldav_source)

    assert changed.state == CaptureRun.State.DONE, changed.errors
    assert (changed.captured, changed.updated) == (0, 2)
    assert Activity.objects.count() == count
    week_5 = first_monday + 4 * WEEK
    cancelled = Activity.objects.get(external_id=f"weekly@acme.com#{mail.stamp(week_5)}")
    assert cancelled.subject == "Cancelled: Weekly sync"
    demo = Activity.objects.get(external_id="demo@acme.com")
    assert demo.occurred_at == first_monday + dt.timedelta(days=2, hours=3)
    # Its Event in Salesforce follows: an upsert with the new start and the real duration.
    log = ActivityLog.objects.get(activity=demo)
    event = OutboxItem.objects.filter(crmbridge_id=log.crmbridge_id).order_by("pk").last()
    assert event.payload["StartDateTime"] == demo.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    end = demo.occurred_at + dt.timedelta(minutes=90)
    assert event.payload["EndDateTime"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_ics_feed_is_read_again_only_when_it_changed(
    org, rep_user, radicale_user, work_calendar, first_monday
):
    work_calendar.save_event(single(first_monday + dt.timedelta(days=1)))
    source = CaptureSource.objects.create(
        kind=CaptureSource.Kind.ICS_URL,
        owner=rep_user,
        url=radicale_user.collection_url("work"),
        username=radicale_user.username,
        secret=radicale_user.password,
    )

    first, second = run(source), run(source)

    assert (first.seen, first.captured) == (1, 1)
    assert (second.seen, second.captured) == (0, 0)  # 304 Not Modified on the ETag
    work_calendar.save_event(single(first_monday + dt.timedelta(days=3), uid="two@acme.com"))
    third = run(source)
    assert (third.seen, third.captured, third.already_present) == (1, 1, 1)


@pytest.fixture
def plain_feed_server(tmp_path):
    """A web server that, like many that publish a feed as a file, sends Last-Modified and answers
    If-Modified-Since with 304, but sends no ETag (the standard library's file server)."""
    statuses = []

    class Handler(SimpleHTTPRequestHandler):
        def send_response(self, code, message=None):
            statuses.append(code)
            super().send_response(code, message)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(tmp_path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.ics", tmp_path / "feed.ics", statuses
    server.shutdown()
    server.server_close()


def test_a_feed_with_only_last_modified_is_read_again_only_when_it_changed(
    org, rep_user, first_monday, plain_feed_server
):
    url, path, statuses = plain_feed_server
    path.write_text(single(first_monday + dt.timedelta(days=1)))
    source = CaptureSource.objects.create(kind=CaptureSource.Kind.ICS_URL, owner=rep_user, url=url)

    first, second = run(source), run(source)

    assert (first.seen, first.captured) == (1, 1)
    assert (second.seen, second.captured) == (0, 0)
    assert statuses == [200, 304]  # the second run asked If-Modified-Since and read nothing
    again, new = first_monday + dt.timedelta(days=1), first_monday + dt.timedelta(days=3)
    path.write_text(mail.calendar(demo(again), demo(new, uid="two@acme.com")))
    later = path.stat().st_mtime + 5  # HTTP dates have whole seconds
    os.utime(path, (later, later))
    third = run(source)
    assert statuses[-1] == 200
    assert (third.seen, third.captured, third.already_present) == (1, 1, 1)
