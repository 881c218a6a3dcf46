"""Bench: capture from a real IMAP server (Dovecot) and a real CalDAV server (Radicale).

Run: DEBUG=1 .venv/bin/python bench/capture_bench.py [--messages 10000] [--events 500]
     [--pg postgres://postgres@127.0.0.1:5432]

Both servers are started by tests/servers (free ports, temp dirs, stopped at the end); the
database is a temp SQLite file unless --pg is given (a throwaway database, dropped at the end).
Prints figures; asserts nothing.

What is measured:
- IMAP first run: --messages messages (from 500 people at 50 Account domains, multipart, a
  signature each) APPENDed to INBOX, then one capture run through the whole pipeline
  (parsing, ingestion, matching, contact creation): messages/s, seconds, IMAP round trips.
- IMAP no-change run: the same source again (nothing new): seconds and round trips.
- CalDAV: --events events PUT into one calendar, then one capture run: events/s, round trips.
"""

import argparse
import datetime as dt
import logging
import os
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--messages", type=int, default=10_000)
    p.add_argument("--events", type=int, default=500)
    p.add_argument("--pg", help="PostgreSQL server URL for a throwaway database")
    return p.parse_args()


def setup_django(args):
    tmp = tempfile.mkdtemp(prefix="capture-bench-")
    name = None
    if args.pg:
        import psycopg

        name = f"crmbridge_bench_capture_{os.getpid()}"
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{args.pg.rstrip('/')}/{name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "crmbridge.settings_test"
    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return name


def world():
    """The org: internal domain, 50 Accounts, a rep with contact creation on."""
    from django.contrib.auth import get_user_model

    from accounts.models import Account, AccountDomain
    from crmbridge.models import ConfigurationProfile, GlobalSettings

    settings = GlobalSettings.load()
    settings.internal_domains = ["crmbridge.example"]
    settings.save()
    profile = ConfigurationProfile.objects.filter(is_default=True).first()
    profile = profile or ConfigurationProfile(is_default=True, name="Everyone")
    profile.contact_creation_enabled = True
    profile.save()
    for n in range(50):
        account = Account.objects.create(
            sf_id=f"001{n:015d}", name=f"Customer {n}", website=f"customer{n}.com"
        )
        AccountDomain.objects.create(account=account, domain=f"customer{n}.com", source="website")
    return get_user_model().objects.create(username="rex", email="rex@crmbridge.example")


def message(n, now):
    person = n % 500
    msg = EmailMessage()
    msg["From"] = f"Person {person} Example <person{person}@customer{person % 50}.com>"
    msg["To"] = "Rex <rex@crmbridge.example>"
    msg["Subject"] = f"Re: Proposal {n}"
    msg["Date"] = format_datetime(now - dt.timedelta(minutes=n))
    msg["Message-ID"] = f"<bench-{n}@customer{person % 50}.com>"
    msg.set_content(
        f"Thanks, looks good ({n}).\n\nBest regards,\nPerson{person} Example\n"
        f"Head of Purchasing\nTel. +1 415 555 {person:04d}\n\nOn Monday Rex wrote:\n> Here.\n"
    )
    msg.add_alternative(f"<p>Thanks, looks good ({n}).</p>", subtype="html")
    return bytes(msg)


def timed_run(source):
    from integrations.capture.run import capture_run_create, capture_run_execute

    start = time.perf_counter()
    run = capture_run_execute(run=capture_run_create(source=source), limit=10**9)
    return run, time.perf_counter() - start, run.round_trips


def main():
    args = parse()
    dbname = setup_django(args)
    from tests.servers.dovecot import running_dovecot
    from tests.servers.radicale import running_radicale

    try:
        from integrations.capture.models import CaptureSource

        rep = world()
        now = dt.datetime.now(dt.UTC)
        with running_dovecot() as dovecot, running_radicale() as radicale:
            box = dovecot.add_user()
            with box.connect() as client:
                for start in range(0, args.messages, 500):
                    batch = [message(n, now) for n in range(start, min(start + 500, args.messages))]
                    client.multiappend("INBOX", batch)
            source = CaptureSource.objects.create(
                kind="imap", owner=rep, host=box.host, port=box.port, security="none",
                username=box.username, secret=box.password, folders=["INBOX"],
            )  # fmt: skip
            first, first_s, first_trips = timed_run(source)
            again, again_s, again_trips = timed_run(source)

            import caldav

            cal_user = radicale.add_user()
            dav = caldav.DAVClient(
                url=cal_user.url, username=cal_user.username, password=cal_user.password
            )
            calendar = dav.principal().make_calendar(name="Work", cal_id="work")
            for n in range(args.events):
                when = now - dt.timedelta(hours=n)
                calendar.save_event(
                    dtstart=when,
                    dtend=when + dt.timedelta(minutes=30),
                    uid=f"bench-event-{n}",
                    summary=f"Meeting {n}",
                    organizer=f"mailto:person{n % 500}@customer{n % 50}.com",
                    attendee=["mailto:rex@crmbridge.example"],
                )
            cal_source = CaptureSource.objects.create(
                kind="caldav", owner=rep, url=cal_user.url, username=cal_user.username,
                secret=cal_user.password,
            )  # fmt: skip
            events, events_s, events_trips = timed_run(cal_source)

        db = os.environ["DATABASE_URL"].split(":")[0]
        print(f"capture bench: database {db}, Dovecot and Radicale on loopback, tasks inline")
        print(
            f"  IMAP first run: {first.seen} messages, {first.captured} captured, "
            f"{first.skipped or 'none skipped'}, {len(first.errors)} errors: {first_s:.1f} s, "
            f"{first.seen / first_s:.0f} messages/s, {first_trips} round trips"
        )
        print(
            f"  IMAP no-change run: {again.seen} messages read, {again.captured} captured: "
            f"{again_s:.2f} s, {again_trips} round trips"
        )
        print(
            f"  CalDAV: {events.seen} calendar objects, {events.captured} meetings captured, "
            f"{events.skipped or 'none skipped'}: {events_s:.1f} s, "
            f"{events.captured / events_s:.0f} events/s, {events_trips} round trips"
        )
    finally:
        if dbname:
            import psycopg
            from django.db import connections

            connections.close_all()
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')


if __name__ == "__main__":
    main()
