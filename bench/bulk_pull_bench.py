"""Bulk pull bench: the first pull of a large org through Bulk API 2.0 query jobs.

For each org size: the whole first sync run (every mirrored object; Contacts through one query
job), its API calls by endpoint and records/s into the mirror; the same query job read by the
client alone (no mirror), to show what the transfer costs; and, with --rest, the same first pull
through REST query pages for comparison. Asserts nothing.

    DEBUG=1 .venv/bin/python bench/bulk_pull_bench.py                       # 100,000 and 1,000,000
    DEBUG=1 .venv/bin/python bench/bulk_pull_bench.py --sizes 100000 --rest
    DEBUG=1 .venv/bin/python bench/bulk_pull_bench.py --database-url postgres://postgres@127.0.0.1:5432/crm_bulk_bench

The default database is a throwaway SQLite file; with --database-url the database is created
and dropped by the bench.
"""

import argparse
import time

from sync_bench import _pg_drop, build_org, clear_mirror, setup_django


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="100000,1000000", help="Contacts per org, comma-separated")
    p.add_argument("--accounts-per", type=int, default=20, help="Contacts per Account")
    p.add_argument("--rest", action="store_true", help="also time the REST first pull")
    p.add_argument("--database-url", default=None, help="a PostgreSQL URL (created and dropped)")
    return p.parse_args()


def first_pull(org, *, threshold):
    from django.conf import settings

    from integrations.salesforce import SalesforceClient, install_client
    from integrations.sync.services import sync_run_execute

    clear_mirror()
    settings.SYNC_BULK_THRESHOLD = threshold
    client = SalesforceClient.for_emulator(org, base_delay=0)
    install_client(client)
    org.stats.reset()
    t = time.perf_counter()
    run = sync_run_execute(kind="sync", trigger="command")
    seconds = time.perf_counter() - t
    install_client(None)
    assert run.state == "succeeded", run.message
    return {
        "records": run.total("pulled"),
        "contacts": run.counts["Contact"]["pulled"],
        "seconds": seconds,
        "calls": org.stats.total,
        "by_endpoint": dict(org.stats.calls),
    }


def transfer_only(org):
    """The Contacts' query job read by the client, CSV parsed into records, nothing stored."""
    from integrations.salesforce import SalesforceClient
    from integrations.salesforce.objects import CONTACT

    client = SalesforceClient.for_emulator(org, base_delay=0)
    org.stats.reset()
    t = time.perf_counter()
    n = sum(
        1
        for _ in client.bulk_query_iter(
            "Contact",
            "SELECT {fields:literal} FROM Contact",
            include_deleted=True,
            fields=", ".join(CONTACT.soql_fields),
        )
    )
    return {"records": n, "seconds": time.perf_counter() - t, "calls": org.stats.total}


def calls_text(by_endpoint):
    return ", ".join(f"{k} {v}" for k, v in sorted(by_endpoint.items()))


def main():
    args = parse_args()
    setup_django(args)
    from django.db import connection

    print(f"bulk pull bench on {connection.vendor} (emulated org in memory, in process)")
    try:
        for size in [int(s) for s in args.sizes.split(",") if s]:
            t = time.perf_counter()
            org, _ = build_org(size, max(1, size // args.accounts_per))
            print(
                f"\norg: {size:,} Contacts, {max(1, size // args.accounts_per):,} Accounts, "
                f"20 Users (built in {time.perf_counter() - t:.1f}s)"
            )
            moved = transfer_only(org)
            print(
                f"  transfer only (query job, CSV parsed, nothing stored): {moved['records']:,} "
                f"Contacts in {moved['seconds']:.1f}s = "
                f"{moved['records'] / moved['seconds']:,.0f} records/s, {moved['calls']} API calls"
            )
            bulk = first_pull(org, threshold=50_000)
            print(
                f"  first sync run, Bulk API for objects >= 50,000 records: {bulk['records']:,} "
                f"records ({bulk['contacts']:,} Contacts) in {bulk['seconds']:.1f}s = "
                f"{bulk['records'] / bulk['seconds']:,.0f} records/s, {bulk['calls']} API calls"
            )
            print(f"    calls: {calls_text(bulk['by_endpoint'])}")
            if args.rest:
                rest = first_pull(org, threshold=10**12)
                print(
                    f"  first sync run, REST query pages only: {rest['records']:,} records in "
                    f"{rest['seconds']:.1f}s = {rest['records'] / rest['seconds']:,.0f} "
                    f"records/s, {rest['calls']} API calls"
                )
            org.close()
    finally:
        if args.database_url:
            _pg_drop(args.database_url)


if __name__ == "__main__":
    main()
