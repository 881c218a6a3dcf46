"""Sync bench: a full initial pull, then an incremental run with N changes, at two org sizes.

Prints records/s and Salesforce API calls (the emulator counts them) for the full pull, and API
calls and seconds for the incremental run, for the org and for one 10x smaller, to show that the
incremental run's API calls do not grow with the size of the org. Asserts nothing.

    DEBUG=1 .venv/bin/python bench/sync_bench.py                 # 100,000 Contacts, 20,000 Accounts
    DEBUG=1 .venv/bin/python bench/sync_bench.py --contacts 20000 --accounts 4000
    DEBUG=1 .venv/bin/python bench/sync_bench.py --database-url postgres://postgres@127.0.0.1:5432/crmbridge_bench_sync

The default database is a throwaway SQLite file; with --database-url the database is created
and dropped by the bench.
"""

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--contacts", type=int, default=100_000)
    p.add_argument("--accounts", type=int, default=20_000)
    p.add_argument("--changes", type=int, default=1_000)
    p.add_argument(
        "--smaller", type=int, default=10, help="also run an org this many times smaller"
    )
    p.add_argument("--database-url", default=None, help="a PostgreSQL URL (created and dropped)")
    return p.parse_args()


def setup_django(args):
    tmp = tempfile.mkdtemp(prefix="sync-bench-")
    if args.database_url:
        _pg_create(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crmbridge.settings")
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return tmp


def _pg_admin(url):
    import psycopg

    base, _, name = url.rpartition("/")
    return psycopg.connect(f"{base}/postgres", autocommit=True), name


def _pg_create(url):
    conn, name = _pg_admin(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _pg_drop(url):
    from django.db import connections

    connections.close_all()
    conn, name = _pg_admin(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build_org(n_contacts, n_accounts, seed=7, chunk=1000):
    """An org whose records were changed over time: each 1,000 records an hour apart (as in a
    real org, where the overlap window re-reads only the last minutes' changes)."""
    import sfemulator

    rng = random.Random(seed)
    clock = {"at": dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)}
    org = sfemulator.Org(":memory:", api_limit=10_000_000, clock=lambda: clock["at"])
    users = [
        org.insert("User", {"Name": f"Rep {i}", "Email": f"rep{i}@bench.example"})
        for i in range(20)
    ]

    def load(sobject, rows):
        rows = list(rows)
        for start in range(0, len(rows), chunk):
            clock["at"] += dt.timedelta(hours=1)
            org.bulk_insert(sobject, rows[start : start + chunk])

    load(
        "Account",
        (
            {
                "Name": f"Company {i}",
                "Website": f"https://www.company{i}.com",
                "OwnerId": rng.choice(users),
            }
            for i in range(n_accounts)
        ),
    )
    account_ids = [r[0] for r in org.conn.execute('SELECT Id FROM "Account" ORDER BY pk')]
    load(
        "Contact",
        (
            {
                "FirstName": "Pat",
                "LastName": f"Person{i}",
                "Email": f"p{i}@company{i % n_accounts}.com",
                "Title": rng.choice(["Engineer", "VP Sales", "CFO", "Analyst"]),
                "AccountId": account_ids[i % n_accounts],
                "OwnerId": rng.choice(users),
            }
            for i in range(n_contacts)
        ),
    )
    clock["at"] += dt.timedelta(hours=1)
    return org, clock


def clear_mirror():
    from accounts import models as m
    from integrations.sync.models import PulledValues, SyncRun, Watermark

    for model in (
        m.OpportunityContactRole,
        m.Opportunity,
        m.Contact,
        m.Lead,
        m.AccountDomain,
        m.Account,
        m.SalesforceUser,
        Watermark,
        PulledValues,
        SyncRun,
    ):
        model.objects.all().delete()


def one_size(n_contacts, n_accounts, n_changes):
    from django.db import connection, reset_queries

    from crmbridge.models import GlobalSettings
    from integrations.salesforce import SalesforceClient, install_client
    from integrations.sync.services import sync_run_execute

    clear_mirror()
    GlobalSettings.objects.update_or_create(pk=1, defaults={"api_budget_percent": 100})
    t = time.perf_counter()
    org, clock = build_org(n_contacts, n_accounts)
    built = time.perf_counter() - t
    client = SalesforceClient.for_emulator(org, base_delay=0)
    install_client(client)

    org.stats.reset()
    t = time.perf_counter()
    full = sync_run_execute(kind="full", trigger="command")
    full_s = time.perf_counter() - t
    assert full.state == "succeeded", full.message
    records = full.total("pulled")
    full_calls = org.stats.total

    clock["at"] += dt.timedelta(hours=1)
    rng = random.Random(3)
    contact_ids = [r[0] for r in org.conn.execute('SELECT Id FROM "Contact" ORDER BY pk')]
    for sf_id in rng.sample(contact_ids, min(n_changes, len(contact_ids))):
        org.update("Contact", sf_id, {"Title": f"Changed {rng.randint(0, 99)}"})
    clock["at"] += dt.timedelta(minutes=1)
    org.stats.reset()
    reset_queries()
    t = time.perf_counter()
    inc = sync_run_execute(kind="sync", trigger="schedule")
    inc_s = time.perf_counter() - t
    inc_calls = org.stats.total
    assert inc.state == "succeeded", inc.message
    install_client(None)
    org.close()
    return {
        "contacts": n_contacts,
        "accounts": n_accounts,
        "build_s": built,
        "full_records": records,
        "full_s": full_s,
        "full_calls": full_calls,
        "inc_pulled": inc.total("pulled"),
        "inc_s": inc_s,
        "inc_calls": inc_calls,
        "inc_calls_by_endpoint": dict(org.stats.calls),
        "db": connection.vendor,
    }


def main():
    args = parse_args()
    setup_django(args)
    try:
        sizes = [(args.contacts, args.accounts)]
        if args.smaller and args.smaller > 1:
            sizes.insert(0, (args.contacts // args.smaller, args.accounts // args.smaller))
        results = [one_size(c, a, args.changes) for c, a in sizes]
    finally:
        if args.database_url:
            _pg_drop(args.database_url)
    print(f"sync bench on {results[0]['db']} (emulated org in memory, in process)")
    for r in results:
        print(
            f"\norg: {r['contacts']:,} Contacts, {r['accounts']:,} Accounts "
            f"(built in {r['build_s']:.1f}s)"
        )
        print(
            f"  full initial pull: {r['full_records']:,} records in {r['full_s']:.1f}s = "
            f"{r['full_records'] / r['full_s']:,.0f} records/s, {r['full_calls']} API calls"
        )
        print(
            f"  incremental run, {args.changes:,} Contacts changed: pulled {r['inc_pulled']:,} "
            f"in {r['inc_s']:.2f}s with {r['inc_calls']} API calls "
            f"({', '.join(f'{k} {v}' for k, v in sorted(r['inc_calls_by_endpoint'].items()))})"
        )
    if len(results) > 1:
        small, big = results
        print(
            f"\nincremental API calls: {small['inc_calls']} at {small['contacts']:,} Contacts vs "
            f"{big['inc_calls']} at {big['contacts']:,} Contacts "
            f"({big['contacts'] // max(small['contacts'], 1)}x the org)"
        )


if __name__ == "__main__":
    main()
