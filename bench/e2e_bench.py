"""End to end: incoming activities -> matching -> Contacts created -> outbox -> Salesforce.

Ingests N activities (default 10,000) through activities.services.activity_ingest_many, each with
one external person; half as many people as activities (default 5,000 new Contacts, each person in
two activities), spread over Accounts that exist in the emulated org. Then pushes the outbox with
integrations.sync.push.outbox_push and prints the Salesforce API calls (the emulator counts every
call), per 1,000 activities, and wall times. In the same run, the naive path as a baseline: the
same Contacts and Tasks written to a fresh emulated org one `client.create` per record.
Prints, asserts nothing.

    DEBUG=1 .venv/bin/python bench/e2e_bench.py [--activities 10000] [--people 5000]
        [--accounts 500] [--naive-limit N] [--database-url URL]

The database is a throwaway SQLite file in a temp directory unless --database-url is given (use a
PostgreSQL database you created and will drop).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=500, help="activities per ingest call")
    parser.add_argument(
        "--naive-limit",
        type=int,
        default=None,
        help="records to send one by one in the baseline (default: all); the rest extrapolated",
    )
    parser.add_argument("--database-url", default=None)
    return parser.parse_args()


def main():
    args = parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="e2e_bench_")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp.name}/bench.sqlite3"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crmbridge.settings")
    import logging

    import django
    from django.db.models import Count

    django.setup()
    logging.disable(logging.WARNING)
    from django.core.management import call_command

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]} (migrated in "
          f"{time.perf_counter() - t:.1f} s)")  # fmt: skip

    import sfemulator
    from accounts.models import Account, AccountDomain, Contact, SalesforceUser
    from activities.models import ActivityLog, ContactDecision
    from activities.services import activity_ingest_many
    from crmbridge.models import GlobalSettings
    from integrations.outbox.models import OutboxItem
    from integrations.salesforce import SalesforceClient, install_client
    from integrations.sync.push import outbox_push
    from tests.factories import UserFactory

    settings = GlobalSettings.load()
    settings.internal_domains = ["crmbridge.example"]
    settings.save()

    def make_org():
        org = sfemulator.Org(":memory:", api_limit=10_000_000)
        client = SalesforceClient.for_emulator(org, base_delay=0, budget_percent=100)
        return org, client

    org, client = make_org()
    install_client(client)
    rep = UserFactory(username="bench_rep", email="bench_rep@crmbridge.example")
    user_sf_id = org.insert(
        "User", {"Name": "Bench Rep", "Email": rep.email, "Username": rep.email}
    )
    SalesforceUser.objects.create(sf_id=user_sf_id, name="Bench Rep", email=rep.email, user=rep)

    n_acc = args.accounts
    account_rows = [
        {"Name": f"Company {i}", "Website": f"company{i}-bench.com"} for i in range(n_acc)
    ]
    for row in account_rows:
        row["Id"] = org.insert("Account", row)
    accounts = Account.objects.bulk_create(
        [Account(sf_id=r["Id"], name=r["Name"], website=r["Website"]) for r in account_rows]
    )
    AccountDomain.objects.bulk_create(
        [AccountDomain(account=a, domain=a.website, source="website") for a in accounts]
    )

    firsts = ["ada", "grace", "alan", "edsger", "barbara", "donald", "frances", "ken", "radia"]

    def letters(i):  # 0 -> "a", 27 -> "bb": names without digits
        out = ""
        while True:
            out = chr(97 + i % 26) + out
            i //= 26
            if not i:
                return out

    people = [
        (f"{firsts[i % len(firsts)]}.smith{letters(i)}@company{i % n_acc}-bench.com", i)
        for i in range(args.people)
    ]
    items = []
    for k in range(args.activities):
        email, i = people[k % len(people)]
        kind = "meeting" if k % 5 == 0 else ("call" if k % 5 == 1 else "email")
        items.append(
            {
                "external_id": f"bench-{k}",
                "kind": kind,
                "occurred_at": f"2026-11-{1 + k % 28:02d}T10:{k % 60:02d}:00Z",
                "owner": rep.email,
                "subject": f"Conversation {k}",
                "participants": [
                    {"email": rep.email, "role": "from"},
                    {"email": email, "name": "", "role": "to", "title": "Director of Sales"},
                ],
            }
        )

    print(
        f"\n{args.activities:,} activities, {args.people:,} new people, {n_acc:,} Accounts, "
        f"ingested {args.chunk} per call"
    )
    t = time.perf_counter()
    for start in range(0, len(items), args.chunk):
        activity_ingest_many(items=items[start : start + args.chunk])
    ingest_s = time.perf_counter() - t
    contacts = Contact.objects.filter(created_by_crmbridge=True).count()
    logs = ActivityLog.objects.count()
    outbox = OutboxItem.objects.count()
    print(f"  ingest + match + contacts: {ingest_s:.1f} s ({args.activities / ingest_s:,.0f} "
          f"activities/s); {contacts:,} Contacts created, {logs:,} Tasks/Events, "
          f"{ContactDecision.objects.count():,} decisions, {outbox:,} outbox rows")  # fmt: skip
    print(f"  Salesforce API calls during ingest: {org.stats.total}")
    outcomes = ContactDecision.objects.values("outcome").annotate(n=Count("id")).order_by("outcome")
    print("  decisions: " + ", ".join(f"{o['outcome']} {o['n']:,}" for o in outcomes))

    org.stats.reset()
    t = time.perf_counter()
    rounds = 0
    while OutboxItem.objects.exclude(state=OutboxItem.State.SENT).exists() and rounds < 20:
        OutboxItem.objects.filter(state=OutboxItem.State.PENDING).update(next_attempt_at=None)
        outbox_push(client=client)
        rounds += 1
    push_s = time.perf_counter() - t
    calls = org.stats.total
    per_k = calls / args.activities * 1000
    unsent = OutboxItem.objects.exclude(state=OutboxItem.State.SENT).count()
    print("\nbatched path (outbox -> collections of 200, upsert on Crmbridge_Id__c):")
    print(f"  push: {push_s:.1f} s in {rounds} push run(s); unsent rows left: {unsent}")
    print(f"  in Salesforce: {org.count('Contact'):,} Contacts, {org.count('Task'):,} Tasks, "
          f"{org.count('Event'):,} Events")  # fmt: skip
    print(f"  API calls: {calls:,} total = {per_k:.1f} per 1,000 activities (target <= 20)")
    by_endpoint = org.stats.as_dict().get("calls", {})
    print("  by endpoint: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_endpoint.items())))
    print(f"  end to end wall time: {ingest_s + push_s:.1f} s")

    # -- the naive baseline: one create call per record, same records, fresh org -----------------
    naive_org, naive = make_org()
    naive_user = naive_org.insert(
        "User", {"Name": "Bench Rep", "Email": rep.email, "Username": rep.email}
    )
    naive_account = {
        row["Id"]: naive_org.insert("Account", {"Name": row["Name"]}) for row in account_rows
    }
    naive.limits()
    naive_org.stats.reset()
    records = contacts + logs
    limit = records if args.naive_limit is None else min(args.naive_limit, records)
    sent = 0
    ids = {}
    t = time.perf_counter()
    for c in Contact.objects.filter(created_by_crmbridge=True).select_related("account"):
        if sent >= limit:
            break
        ids[c.pk] = naive.create(
            "Contact",
            {"FirstName": c.first_name, "LastName": c.last_name, "Email": c.email,
             "Title": c.title, "AccountId": naive_account[c.account.sf_id], "OwnerId": naive_user,
             "LeadSource": "crmbridge"},
        )  # fmt: skip
        sent += 1
    for log in ActivityLog.objects.select_related("activity", "contact__account"):
        if sent >= limit:
            break
        if log.contact_id not in ids:
            continue
        a = log.activity
        data = {"WhoId": ids[log.contact_id], "WhatId": naive_account[log.contact.account.sf_id],
                "Subject": a.subject, "OwnerId": naive_user}  # fmt: skip
        if log.sobject == "Event":
            data["StartDateTime"] = data["EndDateTime"] = a.occurred_at.isoformat()
        naive.create(log.sobject, data)
        sent += 1
    naive_s = time.perf_counter() - t
    naive_calls = naive_org.stats.total
    scale = records / sent if sent else 0
    print("\nnaive path (one create call per record), same run:")
    print(f"  sent {sent:,} of {records:,} records one by one: {naive_calls:,} API calls, "
          f"{naive_s:.1f} s")  # fmt: skip
    if sent < records:
        print(f"  extrapolated to all {records:,}: {naive_calls * scale:,.0f} calls, "
              f"{naive_s * scale:.0f} s")  # fmt: skip
    total_naive = naive_calls * scale
    print(f"  = {total_naive / args.activities * 1000:,.0f} API calls per 1,000 activities "
          f"({total_naive / max(calls, 1):,.0f}x the batched path)")  # fmt: skip
    rtt = 0.15
    print(
        f"\nat an assumed {rtt * 1000:.0f} ms round trip per call to a real org (an estimate, not "
        f"measured): batched {calls * rtt:,.0f} s of waiting, naive {total_naive * rtt:,.0f} s"
    )
    install_client(None)
    tmp.cleanup()


if __name__ == "__main__":
    main()
