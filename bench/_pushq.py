"""Push bench: the outbox pusher against the emulated org's own ceiling, in the same run.

Builds N new Contacts in the mirror (each with an Account that has its Salesforce Id) and one
outbox upsert per Contact, as contact creation writes them. Then, in the same run and on the
same machine:

- ceiling: the same records, already resolved, sent straight through the client's collections
  (composite/sobjects upsert on Crmbridge_Id__c, 200 per call) to a fresh emulated org: what the
  org itself accepts;
- push: integrations.sync.push.outbox_push sends the outbox to another fresh org (claim, resolve
  references, send, mark sent, write the Salesforce Ids back to the mirror).

Prints both rates and push as a share of the ceiling (target >= 30%). Asserts nothing.

    DEBUG=1 .venv/bin/python bench/push_bench.py [--contacts 20000] [--accounts 200]
        [--database-url postgres://postgres@127.0.0.1:5432/crm_perf]

The database named by --database-url (default $DATABASE_URL, else a temp SQLite file) is
dropped and created by the bench when it is PostgreSQL.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--contacts", type=int, default=20_000)
    p.add_argument("--accounts", type=int, default=200)
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    return p.parse_args()


def setup_django(url):
    tmp = tempfile.mkdtemp(prefix="push-bench-")
    if url and url.startswith("postgres"):
        import psycopg

        base, _, name = url.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = url
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


def make_org(n_accounts):
    """A fresh emulated org with `n_accounts` Accounts: (org, client, Account Ids)."""
    import sfemulator
    from integrations.salesforce import SalesforceClient

    org = sfemulator.Org(":memory:", api_limit=10_000_000)
    ids = [org.insert("Account", {"Name": f"Company {i}"}) for i in range(n_accounts)]
    client = SalesforceClient.for_emulator(org, base_delay=0, budget_percent=100)
    client.limits()
    return org, client, ids


def main():
    args = parse_args()
    setup_django(args.database_url)
    from django.db import connection, transaction

    from accounts.models import Account, Contact, new_crmbridge_id
    from integrations.outbox.models import OutboxItem
    from integrations.outbox.payloads import outbox_reference
    from integrations.outbox.services import outbox_enqueue_many
    from integrations.sync.push import EXTERNAL_ID, outbox_push

    print(f"database: {connection.vendor}")
    org, client, account_ids = make_org(args.accounts)
    accounts = Account.objects.bulk_create(
        Account(sf_id=sf_id, name=f"Company {i}") for i, sf_id in enumerate(account_ids)
    )
    contacts = Contact.objects.bulk_create(
        (
            Contact(
                first_name="Ada",
                last_name=f"Person{i}",
                email=f"ada.person{i}@company{i % args.accounts}.example",
                title="Director of Sales",
                account=accounts[i % args.accounts],
                created_by_crmbridge=True,
                crmbridge_id=new_crmbridge_id(),
            )
            for i in range(args.contacts)
        ),
        batch_size=5000,
    )
    writes = [
        {
            "sobject": "Contact",
            "crmbridge_id": c.crmbridge_id,
            "local": c,
            "payload": {
                "FirstName": c.first_name,
                "LastName": c.last_name,
                "Email": c.email,
                "Title": c.title,
                "LeadSource": "crmbridge",
                "AccountId": outbox_reference(c.account),
            },
        }
        for c in contacts
    ]
    with transaction.atomic():
        for start in range(0, len(writes), 5000):
            outbox_enqueue_many(writes=writes[start : start + 5000])
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    _, ceiling_client, ceiling_ids = make_org(args.accounts)
    same_account = dict(zip(account_ids, ceiling_ids, strict=True))
    records = [
        {**w["payload"], "AccountId": same_account[w["payload"]["AccountId"]],
         EXTERNAL_ID: w["crmbridge_id"]}
        for w in writes
    ]  # fmt: skip
    print(f"{args.contacts:,} Contacts (outbox upserts) over {args.accounts:,} Accounts")

    t = time.perf_counter()
    ceiling_client.upsert_many("Contact", EXTERNAL_ID, records)
    ceiling_s = time.perf_counter() - t
    ceiling = args.contacts / ceiling_s

    org.stats.reset()
    t = time.perf_counter()
    import collections
    times = collections.defaultdict(float)
    counts = collections.Counter()
    def wrap(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = sql.split(" WHERE")[0][:100]
            times[key] += time.perf_counter() - t0
            counts[key] += 1
    with connection.execute_wrapper(wrap):
        result = outbox_push(client=client)
    for k, v in sorted(times.items(), key=lambda kv: -kv[1])[:15]:
        print(f"{v:7.3f} {counts[k]:5d}  {k}")
    push_s = time.perf_counter() - t
    pushed = result.pushed / push_s

    unsent = OutboxItem.objects.exclude(state=OutboxItem.State.SENT).count()
    written_back = Contact.objects.filter(sf_id__isnull=False).count()
    print(f"  org ceiling (client collections, same records): {ceiling:,.0f} records/s "
          f"({ceiling_s:.2f} s)")  # fmt: skip
    print(f"  outbox push: {pushed:,.0f} records/s ({push_s:.2f} s, {result.batches} batches, "
          f"{org.stats.total} API calls); pushed {result.pushed:,}, unsent {unsent}, "
          f"Salesforce Ids written back {written_back:,}")  # fmt: skip
    print(f"  push / ceiling: {pushed / ceiling:.1%} (target >= 30%)")
    if connection.vendor == "postgresql":
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    main()
