"""Feed search at a large row count: the admin changelist's ?q= per kind of search, in ms.

Fills --rows activities on PostgreSQL with generate_series (subjects drawn from a small
vocabulary so a word can be common or rare; --participants per activity: internal colleagues
and external people at company domains), then times the whole page
/admin/activities/activity/?q=... as an Admin and as a Rep owning a seventh of it (best of
--repeat), printing each case's wall time, its queries and the slowest query's time.
--explain adds EXPLAIN ANALYZE of each case's slowest query. Target: < 150 ms at 1,000,000
activities. Asserts nothing.

Building 1M activities (3M participants) takes minutes: --keep leaves the database, --reuse
runs on it again when it holds --rows activities (migrations still run, so a new index is
built there); --drop only drops it.

    DEBUG=1 .venv/bin/python bench/search_bench.py [--rows 1000000] [--participants 3]
        [--pg-name crm_search_bench] [--keep | --reuse] [--explain] [--drop]
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

PG_SERVER = "postgres://postgres@127.0.0.1:5432"
FEED = "/admin/activities/activity/"

# Activity g: subject TOPICS[g % 20] + CONNECTORS[g // 20 % 4] + company + " #g", company k =
# g % COMPANIES named NAMES[k % 25] + k; participants a colleague, PEOPLE[g % 4] + k at the
# company's domain, and a personal address. subject() and address() say the same in Python.
TOPICS = [
    "Quarterly review",
    "Pricing follow-up",
    "Intro call",
    "Renewal discussion",
    "Product demo",
    "Contract signature",
    "Onboarding kickoff",
    "Support escalation",
    "Security questionnaire",
    "Budget approval",
    "Roadmap preview",
    "Invoice question",
    "Partnership proposal",
    "Training session",
    "Executive briefing",
    "Trial extension",
    "Integration workshop",
    "Reference call",
    "Procurement update",
    "Lunch and learn",
]
CONNECTORS = [" with ", " at ", " for ", " and "]
NAMES = [
    "Globex", "Initech", "Umbrella", "Hooli", "Acme", "Stark", "Wayne", "Wonka", "Cyberdyne",
    "Soylent", "Tyrell", "Aperture", "Vandelay", "Dunder", "Massive", "Oscorp", "Nakatomi",
    "Gringotts", "Pied", "Prestige", "Monarch", "Sterling", "Vehement", "Zorg", "Kramerica",
]  # fmt: skip
PEOPLE = ["ada.lovelace", "alan.turing", "grace.hopper", "linus.t"]
COMPANIES = 5000
# One subject in RARE_EVERY also carries the rare word.
RARE_WORD = "Zanzibar"
RARE_EVERY = 50_000
G = 14_711  # the activity whose company, address and words the rare cases search


def company(g):
    k = g % COMPANIES
    return f"{NAMES[k % len(NAMES)]}{k}"


def subject(g):
    rare = f" in {RARE_WORD}" if g % RARE_EVERY == 7 else ""
    return f"{TOPICS[g % len(TOPICS)]}{CONNECTORS[g // 20 % 4]}{company(g)}{rare} #{g}"


def address(g):
    return f"{PEOPLE[g % 4]}{g % COMPANIES}@{company(g).lower()}.com"


def sql_array(values):
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


SQL_COMPANY = f"({sql_array(NAMES)})[1 + g % {COMPANIES} % {len(NAMES)}] || (g % {COMPANIES})"

# (label, query string): common = in many subjects / addresses, rare = in a few.
CASES = [
    ("one word, common (10% of subjects)", "review"),
    ("one word, every activity's colleague", "colleague"),
    ("one word, a company's name (4%)", NAMES[G % COMPANIES % len(NAMES)].lower()),
    ("one word, rare (20 subjects)", RARE_WORD.lower()),
    ("one word, a company (200 subj. + addr.)", company(G).lower()),
    ("one word, no match", "xylophone"),
    ("few words, common (5%)", "pricing follow-up"),
    ("few words, rare (100)", subject(G).split(" #")[0].split(" ", 1)[1].lower()),
    ("whole e-mail address (200)", address(G)),
    ("part of an address (200)", "@" + company(G).lower()),
]


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--participants", type=int, default=3, help="per activity (1..3)")
    p.add_argument("--accounts", type=int, default=100)
    p.add_argument("--contacts", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3, help="requests per case (best is printed)")
    p.add_argument("--pg-name", default="crm_search_bench")
    p.add_argument("--keep", action="store_true", help="keep the database for --reuse")
    p.add_argument("--reuse", action="store_true", help="use a kept database (implies --keep)")
    p.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query")
    p.add_argument("--drop", action="store_true", help="only drop the database")
    return p.parse_args()


def pg_admin(sql):
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else None


def fill(args, admin, rep):
    """--rows activities (a seventh the Rep's) and --participants each, in INSERT ... SELECT."""
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO activities_activity (source, external_id, kind, occurred_at, owner_id,
                subject, body, match_status, match_reason_code, match_reason, match_edited,
                created_at)
            SELECT 'fill', g::text, (ARRAY['email','meeting','call'])[1 + g % 3],
                now() - (g || ' seconds')::interval,
                CASE WHEN g % 7 = 0 THEN {rep.pk} ELSE {admin.pk} END,
                ({sql_array(TOPICS)})[1 + g % {len(TOPICS)}]
                    || ({sql_array(CONNECTORS)})[1 + g / 20 % 4] || {SQL_COMPANY}
                    || CASE WHEN g % {RARE_EVERY} = 7 THEN ' in {RARE_WORD}' ELSE '' END
                    || ' #' || g,
                '', (ARRAY['matched','unmatched','ambiguous','internal'])[1 + g % 4],
                '', '', false, now()
            FROM generate_series(1, {args.rows}) AS g
            """
        )
        print(f"activities filled in {time.perf_counter() - t0:.1f}s")
        # 1: a colleague (internal); 2: a person at the company; 3: someone at a personal domain.
        people = [
            "'colleague' || (g % 20) || '@crmbridge.example', 'Colleague', true,"
            " 'crmbridge.example'",
            f"({sql_array(PEOPLE)})[1 + g % 4] || (g % {COMPANIES}) || '@'"
            f" || lower({SQL_COMPANY}) || '.com', 'Person', false,"
            f" lower({SQL_COMPANY}) || '.com'",
            "'p' || g || '@gmail.com', 'Private', false, 'gmail.com'",
        ][: args.participants]
        t0 = time.perf_counter()
        for person in people:
            cur.execute(
                f"""
                INSERT INTO activities_participant (activity_id, email, name, is_internal, domain,
                    role, title, phone, country, matched_kind, match_rule, match_reason,
                    response)
                SELECT id, {person}, 'to', '', '', '', '', '', '', ''
                FROM (SELECT id, external_id::int AS g FROM activities_activity
                      WHERE source = 'fill') AS a
                """
            )
        cur.execute("VACUUM ANALYZE activities_activity")
        cur.execute("VACUUM ANALYZE activities_participant")
    print(f"participants filled in {time.perf_counter() - t0:.1f}s")


def time_case(args, client, params):
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    took, captured, status = [], [], None
    for _ in range(args.repeat):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(FEED, params)
            took.append(time.perf_counter() - t0)
        status = response.status_code
        captured = ctx.captured_queries
    shown = "?"
    if status == 200:
        page = response.content.decode()
        shown = page.count('class="field-kind"')  # rows on the page
    return took, captured, status, shown


def explain(sql, settings):
    """EXPLAIN ANALYZE of a captured query under the SET LOCALs the page ran before it."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        for setting in settings:
            cur.execute(setting)
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
        return [row[0] for row in cur.fetchall()]


def run_cases(args, users):
    from django.test import Client

    for who, user in users:
        client = Client()
        client.force_login(user)
        client.get(FEED)  # warm the session, the templates and the caches
        print(f"{FEED}?q=... as {who} (best of {args.repeat}; median; the last request's queries):")
        for label, term in [("no search (first page)", None), *CASES]:
            params = {"q": term} if term else {}
            took, captured, status, shown = time_case(args, client, params)
            selects = [q for q in captured if q["sql"].startswith("SELECT")]
            slow = max(selects, key=lambda q: float(q["time"]))
            in_db = sum(float(q["time"]) for q in captured)
            print(
                f"  {label:<40} {str(term or ''):<29} HTTP {status}, {shown:>2} rows, "
                f"best {min(took) * 1000:6.1f} ms, median {statistics.median(took) * 1000:6.1f} "
                f"ms, {len(captured)} queries ({in_db * 1000:.0f} ms in the database, slowest "
                f"{float(slow['time']) * 1000:.0f} ms)"
            )
            if args.explain:
                print(f"    slowest: {slow['sql'][:300]}")
                settings = [q["sql"] for q in captured if q["sql"].startswith("SET LOCAL")]
                for line in explain(slow["sql"], settings):
                    print(f"      {line}")


def main():
    args = parse()
    if args.drop:
        pg_admin(f'DROP DATABASE IF EXISTS "{args.pg_name}" WITH (FORCE)')
        return
    exists = pg_admin(f"SELECT 1 FROM pg_database WHERE datname = '{args.pg_name}'")
    reuse = args.reuse and bool(exists)
    if not reuse:
        pg_admin(f'DROP DATABASE IF EXISTS "{args.pg_name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{args.pg_name}"')
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{args.pg_name}"
    os.environ.setdefault("DEBUG", "1")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crmbridge.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from activities.models import Activity, Participant

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - t0:.1f}s")
    User = get_user_model()
    if reuse and Activity.objects.filter(source="fill").count() == args.rows:
        admin, rep = User.objects.get(username="benchadmin"), User.objects.get(username="benchrep")
        print(f"reusing {args.pg_name}")
    else:
        if reuse:
            sys.exit(f"{args.pg_name} does not hold {args.rows:,} activities: run without --reuse")
        from match_bench import build_mirror

        admin, rep = build_mirror(args, random.Random(5))
        fill(args, admin, rep)
    print(
        f"feed: {Activity.objects.count():,} activities, "
        f"{Participant.objects.count():,} participants"
    )
    try:
        run_cases(args, [("an Admin (whole feed)", admin), ("a Rep (a seventh of it)", rep)])
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.reuse):
            pg_admin(f'DROP DATABASE IF EXISTS "{args.pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
