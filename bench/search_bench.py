"""Feed subject search at a large row count: the admin changelist's ?q= and its query plan.

Fills --rows activities (one participant each, so the participant side of the search has a
real table to search too) with generate_series on PostgreSQL, then times the changelist
/admin/activities/activity/?q=... (best of 3, via match_bench.changelist) and prints EXPLAIN of
the subject query, saying whether the trigram index serves it. Target: < 150 ms at
1,000,000 activities. Asserts nothing.

    DEBUG=1 .venv/bin/python bench/search_bench.py [--rows 1000000] [--pg-name crm_ingest_search]
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--accounts", type=int, default=100)
    p.add_argument("--contacts", type=int, default=100)
    p.add_argument("--pg-name", default="crm_ingest_search")
    return p.parse_args()


def fill_participants():
    """One participant per filler activity, in one INSERT ... SELECT."""
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO activities_participant (activity_id, email, name, role, title, phone,
                country, domain, is_internal, matched_kind, match_rule, match_reason, response)
            SELECT id, 'p' || external_id || '@d' || (id % 1000) || '.com', '', 'to', '', '',
                '', 'd' || (id % 1000) || '.com', false, '', 'no_account_for_domain', '', ''
            FROM activities_activity WHERE source = 'fill'
            """
        )
        cur.execute("ANALYZE activities_participant")
    print(f"participants filled in {time.perf_counter() - t0:.1f}s")


def explain(term):
    from activities.models import Activity

    plan = (
        Activity.objects.filter(subject__icontains=term)
        .order_by("-occurred_at", "-id")[:50]
        .explain()
    )
    used = "activity_subject_trgm_idx" in plan
    print(f"  EXPLAIN subject__icontains={term!r}: trigram index used: {'yes' if used else 'NO'}")
    for line in plan.splitlines():
        print(f"    {line}")


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
    from match_bench import build_mirror, changelist, fill_feed

    call_command("migrate", verbosity=0)
    admin, rep = build_mirror(args, random.Random(5))
    args.feed_rows = args.rows
    fill_feed(args, rep)
    fill_participants()
    print("changelist /admin/activities/activity/ (best of 3):")
    changelist(admin, rep)
    explain("Filler 12345")
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
