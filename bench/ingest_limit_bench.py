"""Ingestion against what PostgreSQL itself can store, measured side by side in one run.

The same activities (participants from match_bench's real-org mix) are stored four ways into
the product's own tables and indexes, each with its own external ids. COPY and executemany store
the activity and participant rows crmbridge stores for them: each activity as crmbridge's
matching matches it (worked out before their clock starts), with the Account, Opportunity,
Contact and Lead foreign keys PostgreSQL checks at commit. crmbridge stores more besides:
contact decisions, activity logs and their outbox rows, even with contact creation off.

- COPY: psycopg 3 ``cursor.copy`` of the activity rows (ids taken from the sequence in one
  query) and their participant rows: the ceiling;
- executemany: one INSERT statement per row through ``cursor.executemany``;
- crmbridge, contact creation off: ``activity_ingest_many`` (validation, idempotency,
  matching) with Global Settings' contact creation switched off (it still records each
  external participant's contact decision and logs the activity on the Contacts and Leads
  it already has);
- crmbridge, full pipeline: the same with contact creation on (contact decisions, Contacts,
  activity logs, outbox).

The ways take turns: in each of `--rounds` rounds each stores the same activities (under its own
external ids), in an order that rotates so that each way goes first once in every four rounds:
checkpoints, autovacuum and the tables' growth fall on all alike (a CHECKPOINT before each way
was tried and left out: the full-page images after it weigh most on the shortest run). Prints
activities/s for each over all rounds and crmbridge as a share of COPY, with the lowest and
highest share of a single round (targets: >= 40% with contact creation off, >= 15% for the
full pipeline), and first the input contract's own cost per activity with its fast path and
without. Each way also shows the share of its time this process spent
waiting (wall time less its own CPU time: on PostgreSQL, which runs on the other core), and for
crmbridge the rate that waiting alone would allow with no Python work at all: the bound no
Python-side speed-up can pass. PostgreSQL only. Asserts nothing.

    DEBUG=1 .venv/bin/python bench/ingest_limit_bench.py [--activities 10000] [--rounds 4]
        [--batch 500] [--pg-name crm_perf]
"""

import argparse
import os
import random
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

PG_SERVER = "postgres://postgres@127.0.0.1:5432"

ACTIVITY_COLUMNS = (
    "id", "source", "external_id", "kind", "occurred_at", "owner_id", "owner_sf_user_id",
    "subject", "body", "match_status", "match_reason_code", "match_reason", "match_edited",
    "account_id", "opportunity_id", "created_at",
)  # fmt: skip
WAY_COPY, WAY_MANY = "COPY (ceiling)", "executemany"
WAY_OFF, WAY_FULL = "crmbridge, contact creation off", "crmbridge, full pipeline"
PARTICIPANT_COLUMNS = (
    "activity_id", "email", "name", "role", "title", "phone", "country", "domain",
    "is_internal", "matched_kind", "match_rule", "match_reason", "response", "contact_id",
    "lead_id", "account_id",
)  # fmt: skip


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--activities", type=int, default=10_000)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--accounts", type=int, default=5000)
    p.add_argument("--contacts", type=int, default=20_000)
    p.add_argument("--pg-name", default="crm_perf")
    return p.parse_args()


def _pk(obj):
    return obj.pk if obj is not None else None


def matched(items, owner):
    """Each item with crmbridge's own match of it (matching's result, worked out before the
    clock starts), so that COPY and executemany store the activity and participant rows
    crmbridge stores: the same Accounts, Contacts, Leads and Opportunities, whose foreign keys
    PostgreSQL checks."""
    from activities import matching
    from activities.services import match_context_for

    sf_user = owner.salesforce_user
    ctx = match_context_for(
        emails={p["email"] for item in items for p in item["participants"]},
        owner_sf_user_ids={sf_user.pk},
    )
    emails = [[p["email"] for p in item["participants"]] for item in items]
    return [
        (item, matching.match_activity(emails=e, owner_sf_user_id=sf_user.pk, ctx=ctx))
        for item, e in zip(items, emails, strict=True)
    ]


def rows_for(pairs, owner, ids):
    """The activity and participant rows crmbridge stores for `pairs` (see `matched`)."""
    from django.utils import timezone

    now = timezone.now()
    activities, participants = [], []
    for (item, found), pk in zip(pairs, ids, strict=True):
        activities.append(
            (pk, "bench", item["external_id"], item["kind"], item["occurred_at"], owner.pk,
             owner.salesforce_user.pk, item["subject"], "", found.status, found.reason_code,
             found.reason, False, _pk(found.account), _pk(found.opportunity), now)
        )  # fmt: skip
        for p, m in zip(item["participants"], found.participants, strict=True):
            participants.append(
                (pk, p["email"], p.get("name", ""), "to", p.get("title", ""), "", "", m.domain,
                 m.is_internal, m.matched_kind, m.rule, m.reason, "", _pk(m.contact),
                 _pk(m.lead), _pk(m.account))
            )  # fmt: skip
    return activities, participants


def next_ids(cur, n):
    cur.execute(
        "SELECT nextval(pg_get_serial_sequence('activities_activity', 'id')) "
        "FROM generate_series(1, %s)",
        [n],
    )
    return [r[0] for r in cur.fetchall()]


def store_copy(pairs, owner, batch):
    from django.db import connection, transaction

    for start in range(0, len(pairs), batch):
        chunk = pairs[start : start + batch]
        with transaction.atomic(), connection.cursor() as cur:
            acts, parts = rows_for(chunk, owner, next_ids(cur, len(chunk)))
            raw = cur.cursor
            with raw.copy(
                f"COPY activities_activity ({', '.join(ACTIVITY_COLUMNS)}) FROM STDIN"
            ) as cp:
                for row in acts:
                    cp.write_row(row)
            cols = ", ".join(PARTICIPANT_COLUMNS)
            with raw.copy(f"COPY activities_participant ({cols}) FROM STDIN") as cp:
                for row in parts:
                    cp.write_row(row)


def store_executemany(pairs, owner, batch):
    from django.db import connection, transaction

    a_sql = (
        f"INSERT INTO activities_activity ({', '.join(ACTIVITY_COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(ACTIVITY_COLUMNS))})"
    )
    p_sql = (
        f"INSERT INTO activities_participant ({', '.join(PARTICIPANT_COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(PARTICIPANT_COLUMNS))})"
    )
    for start in range(0, len(pairs), batch):
        chunk = pairs[start : start + batch]
        with transaction.atomic(), connection.cursor() as cur:
            acts, parts = rows_for(chunk, owner, next_ids(cur, len(chunk)))
            cur.executemany(a_sql, acts)
            cur.executemany(p_sql, parts)


def store_crmbridge(items, batch):
    from activities.services import activity_ingest_many

    for start in range(0, len(items), batch):
        activity_ingest_many(items=items[start : start + batch])


def validation_cost(items):
    """µs per activity of activities_validate alone, with the contract's fast path and without."""
    from activities.contract import activities_validate

    def per_item(fast_path):
        t0 = time.perf_counter()
        activities_validate(items, fast_path=fast_path)
        return (time.perf_counter() - t0) / len(items) * 1e6

    activities_validate(items)  # warm: the addresses' domains are checked once, then cached
    fast, drf = per_item(True), per_item(False)
    print(f"  validation: {fast:.1f} µs/activity ({drf:.1f} with the serializer alone)")


def measured(run):
    """Runs `run`; returns (wall seconds, seconds this process spent waiting: wall time less
    its own CPU time, i.e. on PostgreSQL)."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    run()
    wall = time.perf_counter() - t0
    return wall, max(wall - (time.process_time() - cpu0), 0)


def waiting_bound(label, n, waited, copy):
    """What the waiting alone allows: the rate with no Python work at all."""
    bound = n / waited if waited else float("inf")
    print(
        f"  {label}: PostgreSQL's own work alone allows {bound:,.0f} activities/s "
        f"({bound / copy:.0%} of COPY) even with no Python work at all"
    )


def main():
    args = parse()
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.pg_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.pg_name}"')
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{args.pg_name}"
    os.environ.setdefault("DEBUG", "1")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crmbridge.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from match_bench import build_mirror, items_for

    from crmbridge.models import GlobalSettings

    call_command("migrate", verbosity=0)
    rng = random.Random(3)
    _, rep = build_mirror(args, rng)
    history = items_for(args, rng, rep, 2000, "history")
    store_crmbridge(history, args.batch)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    per_round = args.activities // args.rounds
    n = per_round * args.rounds
    sample = items_for(args, rng, rep, per_round, "sample")
    each = sum(len(i["participants"]) for i in sample) / per_round
    print(
        f"{n:,} activities per way in {args.rounds} rounds of {per_round:,} (the ways take "
        f"turns in each round), batches of {args.batch}, {each:.1f} participants each"
    )
    validation_cost(sample)
    settings = GlobalSettings.load()

    def creation(on):
        def switch():
            settings.contact_creation_enabled = on
            settings.save()

        return switch

    ways = {WAY_COPY: [], WAY_MANY: [], WAY_OFF: [], WAY_FULL: []}  # (wall, waited) per round
    for r in range(args.rounds):
        # The same activities for each way (under its own external ids), matched for the two
        # baselines before any clock starts.
        drawn = items_for(args, rng, rep, per_round, f"round{r}")
        made = {
            w: [{**item, "external_id": f"way{i}-{item['external_id']}"} for item in drawn]
            for i, w in enumerate(ways)
        }
        for_copy, for_many = matched(made[WAY_COPY], rep), matched(made[WAY_MANY], rep)
        runs = {  # way -> (what runs before its clock starts, what it times)
            WAY_COPY: (None, partial(store_copy, for_copy, rep, args.batch)),
            WAY_MANY: (None, partial(store_executemany, for_many, rep, args.batch)),
            WAY_OFF: (creation(False), partial(store_crmbridge, made[WAY_OFF], args.batch)),
            WAY_FULL: (creation(True), partial(store_crmbridge, made[WAY_FULL], args.batch)),
        }
        order = list(runs)[r % len(runs) :] + list(runs)[: r % len(runs)]  # each leads once
        for way in order:
            before, run = runs[way]
            if before:
                before()
            ways[way].append(measured(run))
    rate, waited = {}, {}
    for way, rounds in ways.items():
        wall = sum(w for w, _ in rounds)
        waited[way] = sum(x for _, x in rounds)
        rate[way] = n / wall
        print(f"  {way:<40} {rate[way]:>9,.0f} activities/s ({waited[way] / wall:.0%} waiting)")
    copy = rate[WAY_COPY]
    for way, target in (
        (WAY_MANY, ""),
        (WAY_OFF, " (target >= 40%)"),
        (WAY_FULL, " (target >= 15%)"),
    ):
        each_round = sorted(c / w for (c, _), (w, _) in zip(ways[WAY_COPY], ways[way], strict=True))
        print(
            f"  {way} / COPY: {rate[way] / copy:.1%}{target}; round by round "
            f"{each_round[0]:.0%} to {each_round[-1]:.0%}"
        )
    waiting_bound("contact creation off", n, waited[WAY_OFF], copy)
    waiting_bound("full pipeline", n, waited[WAY_FULL], copy)
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
