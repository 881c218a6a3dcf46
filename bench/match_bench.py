"""Bench: bulk activity ingestion with matching, and the feed changelist at a large row count.

Run: DEBUG=1 .venv/bin/python bench/match_bench.py [--activities 100000] [--history 20000]
     [--accounts 50000]
     [--contacts 200000] [--batch 1000] [--feed-rows 1000000] [--with-contacts 2000]

Uses a throwaway PostgreSQL database (crmbridge_bench_match, dropped at the end) unless
--sqlite is given (a temp file). Prints figures; asserts nothing.

What is measured:
- ingestion: activity_ingest_many in batches against the mirror, participants drawn from a
  real org's mix (MIX: known Contacts, Leads, new people at an Account's domain, personal mail,
  ambiguous domains, unknown domains; an internal colleague on most activities), the mix and
  the match outcomes printed; activities/s and queries per call. Contact creation (runs
  after matching in the same call) is switched off for the main run, and measured
  separately with --with-contacts.
- changelist: /admin/activities/activity/ as an admin and as a rep at --feed-rows activities:
  queries and wall time per request (best of 3).
"""

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_NAME = "crmbridge_bench_match"


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--activities", type=int, default=100_000)
    p.add_argument(
        "--history",
        type=int,
        default=20_000,
        help="activities already in the feed before the measured run (a live org has history)",
    )
    p.add_argument("--accounts", type=int, default=50_000)
    p.add_argument("--contacts", type=int, default=200_000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--feed-rows", type=int, default=1_000_000)
    p.add_argument("--with-contacts", type=int, default=2000, help="0 to skip that run")
    p.add_argument("--sqlite", action="store_true", help="temp SQLite file instead of PostgreSQL")
    p.add_argument("--pg-name", default=PG_NAME, help="PostgreSQL database (dropped, created)")
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    p.add_argument(
        "--commit-diagnostic",
        action="store_true",
        help="also re-run ingestion with deferred FK checks made immediate / without WAL flush "
        "waits (diagnostic only: shows where COMMIT time goes)",
    )
    return p.parse_args()


def pg_admin(sql):
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def main():
    args = parse()
    os.environ.setdefault("DEBUG", "1")
    if args.sqlite:
        tmp = tempfile.mkdtemp()
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    else:
        pg_admin(f"DROP DATABASE IF EXISTS {args.pg_name}")
        pg_admin(f"CREATE DATABASE {args.pg_name}")
        os.environ["DATABASE_URL"] = f"{PG_SERVER}/{args.pg_name}"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crmbridge.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        run(args)
    finally:
        if not args.sqlite and not args.keep:
            from django.db import connections

            connections.close_all()
            pg_admin(f"DROP DATABASE IF EXISTS {args.pg_name}")


def build_mirror(args, rng):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.domain_services import account_domains_refresh_many
    from accounts.models import Account, Contact, Lead, Opportunity, SalesforceUser
    from crmbridge.models import GlobalSettings

    User = get_user_model()
    admin = User.objects.create_user("benchadmin", "benchadmin@crmbridge.example", "x")
    admin.is_staff = True
    admin.save()
    admin.groups.add(Group.objects.get(name="Admin"))
    rep = User.objects.create_user("benchrep", "benchrep@crmbridge.example", "x")
    rep.is_staff = True
    rep.save()
    rep.groups.add(Group.objects.get(name="Rep"))
    sf_users = SalesforceUser.objects.bulk_create(
        [SalesforceUser(sf_id=f"005{i:015d}", name=f"U{i}", email=f"u{i}@x.com") for i in range(20)]
    )
    rep_sf = SalesforceUser.objects.create(
        sf_id="005BENCHREP000000", name="Rep", email=rep.email, user=rep
    )
    owners = [*sf_users, rep_sf]
    settings = GlobalSettings.load()
    settings.internal_domains = ["crmbridge.example"]
    settings.contact_creation_enabled = False
    settings.save()

    t0 = time.perf_counter()
    accounts = []
    for i in range(args.accounts):
        # one Account in ten shares its domain with the next one (ambiguous unless owned)
        domain = f"acct{i - 1}.com" if i % 10 == 1 else f"acct{i}.com"
        accounts.append(
            Account(
                sf_id=f"001{i:015d}",
                name=f"Account {i}",
                website=f"https://www.{domain}/",
                owner=rng.choice(owners),
            )
        )
    accounts = Account.objects.bulk_create(accounts, batch_size=5000)
    for start in range(0, len(accounts), 5000):
        account_domains_refresh_many(accounts=accounts[start : start + 5000])
    contacts = [
        Contact(
            sf_id=f"003{j:015d}",
            last_name=f"C{j}",
            email=f"c{j}@acct{j % args.accounts}.com",
            account_id=accounts[j % args.accounts].pk,
        )
        for j in range(args.contacts)
    ]
    Contact.objects.bulk_create(contacts, batch_size=5000)
    Lead.objects.bulk_create(
        [
            Lead(sf_id=f"00Q{j:015d}", last_name=f"L{j}", email=f"l{j}@lead{j}.io")
            for j in range(10_000)
        ],
        batch_size=5000,
    )
    Opportunity.objects.bulk_create(
        [
            Opportunity(
                sf_id=f"006{j:015d}",
                name=f"O{j}",
                account_id=accounts[j % args.accounts].pk,
                owner=rng.choice(owners),
            )
            for j in range(args.accounts // 2)
        ],
        batch_size=5000,
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    print(
        f"mirror: {args.accounts:,} Accounts, {args.contacts:,} Contacts, 10,000 Leads, "
        f"{args.accounts // 2:,} Opportunities built in {time.perf_counter() - t0:.1f}s"
    )
    return admin, rep


# What an external participant of a real org's activity is, and how often (the mix printed).
MIX = [
    ("contact match", 0.40),
    ("lead match", 0.05),
    ("domain (new person at an Account)", 0.25),
    ("personal mail", 0.10),
    ("ambiguous domain", 0.05),
    ("no Account for the domain", 0.15),
]


def external_participant(args, rng, n):
    kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
    if kind == "contact match":
        j = rng.randrange(args.contacts)
        person = {"email": f"c{j}@acct{j % args.accounts}.com", "name": f"Known Person{j}"}
        if rng.random() < 0.5:  # the source knows a title: the attribute-update path
            person["title"] = rng.choice(["VP Sales", "Head of IT", "Engineer"])
    elif kind == "lead match":
        m = rng.randrange(10_000)
        person = {"email": f"l{m}@lead{m}.io"}
    elif kind == "domain (new person at an Account)":
        # Accounts 10k and 10k+1 share acct{10k}.com; 10k+2 .. 10k+9 have a domain of their own.
        a = rng.randrange(args.accounts // 10) * 10 + rng.randrange(2, 10)
        person = {"email": f"new{n}-{rng.randrange(10**6)}@acct{a}.com", "name": "New Person"}
    elif kind == "personal mail":
        person = {"email": f"x{n}@gmail.com", "name": "Private Person"}
    elif kind == "ambiguous domain":
        a = rng.randrange(args.accounts // 10) * 10  # acct{10k}.com: Accounts 10k and 10k+1
        person = {"email": f"who{n}@acct{a}.com", "name": "Some One"}
    else:
        person = {"email": f"p{n}@nowhere{rng.randrange(1000)}.net", "name": "Far Away"}
    return kind, person


def items_for(args, rng, rep, count, prefix, mix=None):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    items = []
    for n in range(count):
        participants = []
        if rng.random() < 0.6:
            participants.append({"email": "colleague@crmbridge.example"})
            if mix is not None:
                mix["internal"] = mix.get("internal", 0) + 1
        for _ in range(rng.choice([1, 2, 2, 3])):
            kind, person = external_participant(args, rng, n)
            if any(p["email"] == person["email"] for p in participants):
                continue
            participants.append(person)
            if mix is not None:
                mix[kind] = mix.get(kind, 0) + 1
        items.append(
            {
                "external_id": f"{prefix}-{n}",
                "kind": rng.choice(["email", "meeting", "call"]),
                "occurred_at": (now - dt.timedelta(minutes=n)).isoformat(),
                "owner": rep.email,
                "subject": f"Bench {n}",
                "participants": participants,
            }
        )
    return items


def print_mix(mix, prefix):
    from django.db.models import Count

    from activities.models import Activity, Participant

    total = sum(mix.values())
    print(f"  participants sent ({total:,}): " + ", ".join(
        f"{k} {v / total:.0%}" for k, v in sorted(mix.items(), key=lambda kv: -kv[1])
    ))  # fmt: skip
    rules = (
        Participant.objects.filter(activity__external_id__startswith=f"{prefix}-")
        .values("match_rule")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    print("  matched as: " + ", ".join(f"{r['match_rule'] or '-'} {r['n']:,}" for r in rules))
    statuses = (
        Activity.objects.filter(external_id__startswith=f"{prefix}-")
        .values("match_status")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    print("  activities: " + ", ".join(f"{r['match_status']} {r['n']:,}" for r in statuses))


def ingest(args, items, label):
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from activities.services import activity_ingest_many

    activity_ingest_many = globals().get("_ingest_override", activity_ingest_many)
    per_call, statuses, slowest = [], {}, []
    t0 = time.perf_counter()
    for start in range(0, len(items), args.batch):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            results = activity_ingest_many(items=items[start : start + args.batch])
        per_call.append(len(ctx.captured_queries))
        for r in results:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        slowest.extend((float(q["time"]), q["sql"][:90]) for q in ctx.captured_queries)
    elapsed = time.perf_counter() - t0
    db_time = sum(t for t, _ in slowest)
    top = sorted(slowest, reverse=True)[:3]
    print(
        f"{label}: {len(items):,} activities in {elapsed:.1f}s = {len(items) / elapsed:,.0f} "
        f"activities/s; queries per call of {args.batch}: min {min(per_call)}, "
        f"max {max(per_call)}; results {statuses}; time in the database {db_time:.1f}s"
    )
    for took, sql in top:
        print(f"    slowest query {took * 1000:.0f} ms: {sql}")


def small_batch_queries(args, rng, rep, prefix):
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from activities.services import activity_ingest_many

    for size in (10, 100, args.batch):
        items = items_for(args, rng, rep, size, f"{prefix}{size}")
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            activity_ingest_many(items=items)
        kinds = {}
        for q in ctx.captured_queries:
            word = q["sql"].split()[0]
            kinds[word] = kinds.get(word, 0) + 1
        print(f"  batch of {size:>5}: {len(ctx.captured_queries)} queries {kinds}")


def fill_feed(args, rep):
    from django.db import connection

    from activities.models import Activity

    have = Activity.objects.count()
    need = max(0, args.feed_rows - have)
    t0 = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO activities_activity (source, external_id, kind, occurred_at, owner_id,
                    subject, body, match_status, match_reason_code, match_reason, match_edited,
                    created_at)
                SELECT 'fill', g::text, (ARRAY['email','meeting','call'])[1 + g %% 3],
                    now() - (g || ' seconds')::interval, %s, 'Filler ' || g, '',
                    (ARRAY['matched','unmatched','ambiguous','internal'])[1 + g %% 4],
                    '', '', false, now()
                FROM generate_series(1, %s) AS g
                """,
                [rep.pk, need],
            )
            cur.execute("ANALYZE activities_activity")
    else:
        from django.utils import timezone

        now = timezone.now()
        import datetime as dt

        for start in range(0, need, 10_000):
            Activity.objects.bulk_create(
                Activity(
                    source="fill",
                    external_id=str(g),
                    kind="email",
                    occurred_at=now - dt.timedelta(seconds=g),
                    owner=rep,
                    subject=f"Filler {g}",
                    match_status="unmatched",
                )
                for g in range(start, min(need, start + 10_000))
            )
    print(
        f"feed: {Activity.objects.count():,} activities "
        f"({need:,} filler rows inserted in {time.perf_counter() - t0:.1f}s)"
    )


def changelist(admin, rep):
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    cases = [
        ("admin, first page", admin, {}),
        ("admin, status=unmatched", admin, {"match_status__exact": "unmatched"}),
        ("admin, kind=call", admin, {"kind__exact": "call"}),
        ("admin, page 50", admin, {"p": "50"}),
        ("admin, search an e-mail address", admin, {"q": "new5@acct5.com"}),
        ("admin, search subject text", admin, {"q": "Filler 12345"}),
        ("admin, search one word", admin, {"q": "Filler12345"}),
        ("rep (own feed), first page", rep, {}),
    ]
    for label, user, params in cases:
        client = Client()
        client.force_login(user)
        best, queries, status = None, 0, None
        for _ in range(3):
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.get("/admin/activities/activity/", params)
                took = time.perf_counter() - t0
            status = response.status_code
            queries = len(ctx.captured_queries)
            best = took if best is None else min(best, took)
        has_full_count = any(
            "COUNT(" in q["sql"] and "LIMIT" not in q["sql"] and "activities_activity" in q["sql"]
            for q in ctx.captured_queries
        )
        print(
            f"  {label:<36} HTTP {status}, {queries} queries, best {best * 1000:.0f} ms, "
            f"unbounded COUNT(*): {'yes' if has_full_count else 'no'}"
        )


def run(args):
    from django.db import connection

    from activities import services

    rng = random.Random(1)
    print(f"database: {connection.vendor}")
    admin, rep = build_mirror(args, rng)
    hook = services.after_match
    # Matching and ingestion alone: the after-match hook (the contact step) switched off.
    services.after_match = lambda activities, **kwargs: None
    print("queries per ingestion call by batch size (matching + ingestion, after-match hook off):")
    small_batch_queries(args, rng, rep, "q")
    if args.history:
        # A live database has history, and its statistics are current. Without this, every
        # foreign-key check of the run reuses plans PostgreSQL cached while the activity table
        # was nearly empty (sequential scans), and the rate falls as the table grows.
        history = items_for(args, rng, rep, args.history, "history")
        ingest(args, history, "history loaded first (not the measured run)")
        connection.close()
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
    mix = {}
    items = items_for(args, rng, rep, args.activities, "main", mix)
    ingest(args, items, "ingestion (after-match hook off)")
    print_mix(mix, "main")
    ingest(args, items[: min(len(items), 5 * args.batch)], "re-send (all existing)")
    if args.commit_diagnostic and connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET synchronous_commit TO off")
        more = items_for(args, rng, rep, min(args.activities, 5000), "nosync")
        ingest(args, more, "diagnostic: same, synchronous_commit off for this session")
        with connection.cursor() as cur:
            cur.execute("SET synchronous_commit TO on")
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: their checks run at COMMIT.
        from django.db import transaction

        more = items_for(args, rng, rep, min(args.activities, 5000), "immediate")
        real = services.activity_ingest_many

        def immediate(**kwargs):
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
                return real(**kwargs)

        services.activity_ingest_many = immediate
        globals()["_ingest_override"] = immediate
        ingest(args, more, "diagnostic: same, foreign key checks immediate (moved off COMMIT)")
        services.activity_ingest_many = real
        globals().pop("_ingest_override")
    services.after_match = hook
    if args.with_contacts:
        from crmbridge.models import GlobalSettings

        print("full pipeline (after-match hook on: the contact step included):")
        settings = GlobalSettings.load()
        settings.contact_creation_enabled = True
        settings.save()
        small_batch_queries(args, rng, rep, "full")
        mix = {}
        extra = items_for(args, rng, rep, args.with_contacts, "withcontacts", mix)
        ingest(args, extra, "ingestion, full pipeline, contact creation on")
        print_mix(mix, "withcontacts")
    fill_feed(args, rep)
    print("changelist /admin/activities/activity/:")
    changelist(admin, rep)


if __name__ == "__main__":
    main()
