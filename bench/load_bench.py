"""Load and faults: 8 API clients post overlapping activities over HTTP while the pusher and a
classification re-run work, on PostgreSQL, with a share of Salesforce calls failing.
Prints sustained activities/s and p50/p99 latency, the CPU each activity costs the machine
(gunicorn; this process: the clients, and unless --api-only the pusher, the re-classification and
the emulated org; PostgreSQL and whatever else runs on the machine, so run it on a quiet one) and
the rate that allows with every core busy, then checks that Salesforce and the mirror agree: every
record crmbridge created is in the org exactly once (zero duplicates, zero losses).

    DEBUG=1 .venv/bin/python bench/load_bench.py --database-url postgres://USER@HOST:PORT/NAME
        [--activities 4000] [--batch 25] [--clients 8] [--overlap 0.5] [--fault-rate 0.1]
        [--workers 4] [--keep] [--api-only]

What runs where:
- a throwaway PostgreSQL database, the one `--database-url` (or BENCH_DATABASE_URL, else
  DATABASE_URL's name + "_load") names: DROPPED and created, then migrated, so give it a name
  of its own; an emulated org in a temp SQLite file, seeded (sfemulator.seed_demo) and pulled
  into the mirror;
- gunicorn (`crmbridge.wsgi`, --workers N) serving the API on a loopback port: ingestion,
  matching and contact decisions happen there, in the request;
- this process: `--clients` threads posting to /api/v1/activities/bulk/ as an Admin (the
  activities belong to the reps; a share `--overlap` of each client's external ids are also
  sent, in another order, by the next client, and 5% of batches re-sent, to prove idempotency
  under concurrency: no deadlock, no 500), a pusher thread (integrations.sync.push
  .outbox_push) and a re-classification thread (rule pack loaded -> contacts_reclassify), both
  through a client whose org fails `--fault-rate` of calls with 503s.
Afterwards the faults are cleared and the outbox drained, then the ledger is checked.
"""

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=4000, help="total to post")
    parser.add_argument("--batch", type=int, default=25, help="activities per bulk call")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--overlap", type=float, default=0.5, help="share of ids the next client sends too"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or _beside(os.environ.get("DATABASE_URL")),
        help="postgres://... of a database of the bench's own (dropped and recreated); "
        "default: $BENCH_DATABASE_URL, else $DATABASE_URL's name + '_load'",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--api-only",
        action="store_true",
        help="no pusher or re-classification while the clients post: the API's own throughput "
        "(the outbox is drained and verified afterwards all the same)",
    )
    args = parser.parse_args()
    if not args.database_url:
        # `make bench` without PostgreSQL: say so, and let the other benches run.
        print("load_bench: skipped, needs PostgreSQL (--database-url or BENCH_DATABASE_URL)")
        raise SystemExit(0)
    return args


def _beside(url):
    """A database next to DATABASE_URL's, never that one itself (the bench drops its own)."""
    if not url or not url.startswith(("postgres:", "postgresql:")):
        return None
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_load"))


def _server_and_name(url):
    """(URL of the server's maintenance database, name of the bench's database)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name == "postgres":
        raise SystemExit("--database-url must name a database of the bench's own")
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate_database(url):
    import psycopg
    from psycopg import sql

    server, name = _server_and_name(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url):
    import psycopg
    from psycopg import sql

    server, name = _server_and_name(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def cpu_seconds(server_pid):
    """CPU seconds used so far, as (the whole machine, gunicorn's master and workers, this
    process), read from /proc; None where there is no /proc (not Linux)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal: busy is all but idle, iowait and steal
    # (another guest's time)
    ticks = [int(v) for v in fields[:8]]
    machine = (sum(ticks) - ticks[3] - ticks[4] - ticks[7]) / tick
    served = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" (", 1)
        except OSError:  # gone meanwhile
            continue
        values = rest.rsplit(") ", 1)[1].split()
        if int(pid) == server_pid or int(values[1]) == server_pid:  # values[1]: ppid
            served += (int(values[11]) + int(values[12])) / tick  # utime, stime
        if int(pid) == server_pid:  # and the workers that have exited, counted by the master
            served += (int(values[13]) + int(values[14])) / tick  # cutime, cstime
    mine = time.process_time()
    return machine, served, mine


def _production_env(env):
    """The server runs as production does: DEBUG off (no per-query debug cursor, no debug-mode
    settings), plain HTTP on the loopback."""
    from cryptography.fernet import Fernet

    return {
        **env,
        "DEBUG": "0",
        "SECRET_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "FIELD_ENCRYPTION_KEYS": env.get("FIELD_ENCRYPTION_KEYS") or Fernet.generate_key().decode(),
        "SECURE_SSL_REDIRECT": "0",
    }


def main():
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="crmbridge-load-"))
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": args.database_url,
        "SALESFORCE_EMULATOR": str(tmp / "sforg.sqlite3"),
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "crmbridge.settings",
    }
    os.environ.update(env)
    recreate_database(args.database_url)
    t0 = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
        check=True,
    )  # fmt: skip
    name = _server_and_name(args.database_url)[1]
    print(f"database {name} migrated in {time.monotonic() - t0:.1f}s")

    import django

    django.setup()
    server = None
    try:
        server = run(args, env, tmp)
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.database_url)
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, env, tmp):
    import requests
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from rest_framework.authtoken.models import Token

    import sfemulator
    from accounts.models import Account
    from integrations.outbox.models import OutboxItem
    from integrations.salesforce import SalesforceClient
    from integrations.sync.models import SyncRun
    from integrations.sync.services import sync_run_execute
    from sfemulator.seed import seed_demo

    # -- the org and the mirror ------------------------------------------------------------------
    org = sfemulator.Org(env["SALESFORCE_EMULATOR"])
    seeded = seed_demo(org)
    clean_client = SalesforceClient.for_emulator(org, base_delay=0)
    pulled = sync_run_execute(kind=SyncRun.Kind.FULL, client=clean_client)
    accounts = list(Account.objects.exclude(website="").values_list("website", flat=True)[:300])
    from accounts.domains import registered_domain

    domains = sorted({d for d in (registered_domain(w) for w in accounts) if d})
    print(
        f"org seeded ({', '.join(f'{k} {v}' for k, v in seeded.items())}); full pull: "
        f"{pulled.get_state_display()}, {len(domains)} account domains"
    )

    # -- reps and tokens -------------------------------------------------------------------------
    User = get_user_model()
    rep_group = Group.objects.get(name="Rep")
    reps = []
    for n in range(args.clients):
        user, _ = User.objects.get_or_create(
            username=f"loadrep{n}", defaults={"email": f"loadrep{n}@crmbridge.example"}
        )
        user.groups.add(rep_group)
        reps.append(user)
    admin, _ = User.objects.get_or_create(
        username="loadadmin", defaults={"email": "loadadmin@crmbridge.example"}
    )
    admin.groups.add(Group.objects.get(name="Admin"))
    token = Token.objects.get_or_create(user=admin)[0].key

    # -- the server --------------------------------------------------------------------------------
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "crmbridge.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.workers), "--log-level", "warning", "--timeout", "120",
        ],
        cwd=ROOT, env=_production_env(env),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                break
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    else:
        raise SystemExit("gunicorn did not come up")
    print(f"gunicorn: {args.workers} workers on {base}")

    # -- background: pusher and re-classification through a faulty org -----------------------
    faulty_org = sfemulator.Org(env["SALESFORCE_EMULATOR"])
    faulty_org.faults.fail_rate(args.fault_rate, kind="503", seed=7)
    faulty_client = SalesforceClient.for_emulator(faulty_org, base_delay=0, max_attempts=3)
    posting_done = threading.Event()
    background_errors = []
    push_stats = {"pushed": 0, "failed": 0, "retrying": 0, "rounds": 0}

    def pusher():
        from integrations.sync.push import outbox_push

        try:
            while not posting_done.is_set():
                result = outbox_push(client=faulty_client, max_batches=10)
                push_stats["pushed"] += result.pushed
                push_stats["failed"] += result.failed
                push_stats["retrying"] += result.retrying
                push_stats["rounds"] += 1
                if not result.batches:
                    time.sleep(0.2)  # nothing due: poll again shortly
        except Exception as exc:  # report, do not hide
            background_errors.append(f"pusher: {exc!r}")
        finally:
            connection.close()

    reclass = {}

    def reclassifier():
        from classification.models import ReclassificationRun
        from classification.services import contacts_reclassify, rulepack_load

        try:
            time.sleep(1.0)  # let some contacts arrive first
            loaded = rulepack_load(name="seniority_starter")
            started = time.monotonic()
            run = ReclassificationRun.objects.order_by("-pk").first()
            rounds = 0
            while run is not None and run.state in (
                ReclassificationRun.State.QUEUED,
                ReclassificationRun.State.RUNNING,
            ):
                run = contacts_reclassify(run_id=run.pk)
                rounds += 1
                if rounds > 1000:
                    break
            reclass.update(
                rules=loaded, seconds=time.monotonic() - started,
                state=run and run.state, processed=run and run.processed,
                changed=run and run.changed,
            )  # fmt: skip
        except Exception as exc:
            background_errors.append(f"reclassification: {exc!r}")
        finally:
            connection.close()

    # -- the clients -------------------------------------------------------------------------------
    per_client = args.activities // args.clients
    overlap = int(per_client * args.overlap)
    latencies, counts, errors = [], {"created": 0, "existing": 0, "rejected": 0}, []
    lock = threading.Lock()
    start_time = datetime(2026, 11, 1, tzinfo=UTC)

    def item_for(n):
        """Activity n, the same whichever client sends it."""
        rng = random.Random(n)
        domain = rng.choice(domains)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        return {
            "external_id": f"load-{n}",
            "kind": rng.choice(["email", "meeting", "call"]),
            "occurred_at": (start_time + timedelta(minutes=n)).isoformat(),
            "owner": reps[n % len(reps)].email,
            "subject": f"Load {n}",
            "participants": [
                {"email": f"{first.lower()}.{last.lower()}{n % 97}@{domain}",
                 "name": f"{first} {last}", "title": rng.choice(TITLES)},
                {"email": f"{first.lower()}{n}@gmail.com", "name": first},
            ],
        }  # fmt: skip

    def ids_of(index):
        """The client's own ids, plus the first `overlap` share of the previous client's."""
        own = list(range(index * per_client, (index + 1) * per_client))
        previous = (index - 1) % args.clients
        shared = list(range(previous * per_client, previous * per_client + overlap))
        ids = own + shared
        random.Random(index).shuffle(ids)
        return ids

    def client_loop(index):
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        ids = ids_of(index)
        batch_no = 0
        for sent in range(0, len(ids), args.batch):
            items = [item_for(n) for n in ids[sent : sent + args.batch]]
            resend = batch_no % 20 == 19  # 5% of batches go twice: must give "existing"
            for _attempt in range(2 if resend else 1):
                began = time.monotonic()
                response = session.post(
                    f"{base}/api/v1/activities/bulk/", json={"activities": items}, timeout=120
                )
                took = time.monotonic() - began
                with lock:
                    latencies.append(took)
                    if not 200 <= response.status_code < 300:
                        errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
                        continue
                    for row in response.json()["results"]:
                        counts[row["status"]] += 1
            batch_no += 1

    background = (
        []
        if args.api_only
        else [threading.Thread(target=pusher), threading.Thread(target=reclassifier)]
    )
    for thread in background:
        thread.start()
    posting_started = time.monotonic()
    cpu_before = cpu_seconds(server.pid)
    clients = [threading.Thread(target=client_loop, args=(i,)) for i in range(args.clients)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    posting_seconds = time.monotonic() - posting_started
    cpu_after = cpu_seconds(server.pid)
    posting_done.set()
    for thread in background:
        thread.join()

    accepted = counts["created"]
    print()
    print(f"posted {args.activities} activities ({overlap} of each client's also sent by the "
          f"next) in {len(latencies)} bulk calls of <= {args.batch} from {args.clients} clients "
          f"in {posting_seconds:.1f}s")  # fmt: skip
    with_resends = (accepted + counts["existing"]) / posting_seconds
    print(f"  sustained: {accepted / posting_seconds:.0f} activities/s created "
          f"({with_resends:.0f}/s incl. re-sends)")  # fmt: skip
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(f"  latency per bulk call: p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms")  # fmt: skip
    posted = accepted + counts["existing"]
    if cpu_before and cpu_after and posted:
        machine, served, mine = (b - a for a, b in zip(cpu_before, cpu_after, strict=True))
        cores = os.cpu_count() or 1
        print(
            f"  CPU while posting: {machine / posting_seconds / cores:.0%} of {cores} cores busy; "
            f"{machine / posted * 1e6:,.0f} µs per activity posted (gunicorn "
            f"{served / posted * 1e6:,.0f}, this process's clients, pusher, re-classification "
            f"and emulated org {mine / posted * 1e6:,.0f}, PostgreSQL and the rest of the machine "
            f"{(machine - served - mine) / posted * 1e6:,.0f}): all {cores} cores busy would "
            f"allow {cores / machine * posted:,.0f} activities/s posted"
        )
    print(f"  results: created {counts['created']}, existing (re-sent) {counts['existing']}, "
          f"rejected {counts['rejected']}; non-2xx responses {len(errors)}")  # fmt: skip
    for line in errors[:5]:
        print("    ", line)
    print(f"  pusher during the load ({args.fault_rate:.0%} of Salesforce calls failing): "
          f"{push_stats['pushed']} pushed, {push_stats['retrying']} to retry, "
          f"{push_stats['failed']} failed, in {push_stats['rounds']} rounds")  # fmt: skip
    print(f"  re-classification during the load: {reclass or 'did not finish'}")
    for line in background_errors:
        print("  BACKGROUND ERROR:", line)

    # -- drain without faults ----------------------------------------------------------------------
    from integrations.sync.push import outbox_push

    faulty_org.faults.clear()
    drain_started = time.monotonic()
    for _ in range(500):
        left = OutboxItem.objects.filter(
            state__in=[OutboxItem.State.PENDING, OutboxItem.State.CLAIMED]
        ).count()
        if not left:
            break
        # Rows waiting for their backoff are due "later": push as if that time had come.
        outbox_push(client=clean_client, now=datetime.now(UTC) + timedelta(days=1))
    print(f"  drained the outbox without faults in {time.monotonic() - drain_started:.1f}s")

    verify(org, counts, args)
    return server


def verify(org, counts, args):
    from collections import Counter

    from activities.models import Activity
    from integrations.outbox.models import OutboxItem

    print()
    print("verification (Salesforce = the emulated org's storage, mirror = crmbridge's database)")
    stored = Activity.objects.filter(external_id__startswith="load-").count()
    print(f"  activities: {counts['created']} created by the API, {stored} stored, "
          f"{args.activities} posted -> losses {args.activities - stored}, "
          f"duplicates {max(0, stored - args.activities)}")  # fmt: skip
    states = Counter(OutboxItem.objects.values_list("state", flat=True))
    print(f"  outbox: {dict(states)}")
    wanted = {}
    for sobject, ext_id in OutboxItem.objects.filter(
        operation=OutboxItem.Operation.UPSERT
    ).values_list("sobject", "crmbridge_id"):
        wanted.setdefault(sobject, set()).add(ext_id)
    total_dupes = total_lost = 0
    for sobject, ids in sorted(wanted.items()):
        in_org = Counter(
            r.get("Crmbridge_Id__c") for r in org.rows(sobject) if r.get("Crmbridge_Id__c")
        )
        dupes = sum(n - 1 for ext, n in in_org.items() if ext in ids and n > 1)
        lost = len([i for i in ids if i not in in_org])
        total_dupes += dupes
        total_lost += lost
        print(f"  {sobject}: {len(ids)} created by crmbridge, {len(ids) - lost} in Salesforce, "
              f"duplicates {dupes}, lost {lost}")  # fmt: skip
    from accounts.models import Contact

    mismatched = 0
    by_ext = {r.get("Crmbridge_Id__c"): r for r in org.rows("Contact") if r.get("Crmbridge_Id__c")}
    for ext, sf_id, title, _dept, sen in Contact.objects.filter(
        created_by_crmbridge=True
    ).values_list("crmbridge_id", "sf_id", "title", "department", "seniority"):
        row = by_ext.get(ext)
        if (
            row is None
            or row["Id"] != sf_id
            or (row.get("Title") or "") != title
            or (row.get("Seniority__c") or None) != (sen or None)
        ):
            mismatched += 1
    print(f"  Contacts whose Salesforce row differs from the mirror (Id, Title, Seniority): "
          f"{mismatched}")  # fmt: skip
    verdict = "AGREE" if not (total_dupes or total_lost or mismatched) else "DISAGREE"
    print(f"  => Salesforce and the mirror {verdict}: {total_dupes} duplicates, "
          f"{total_lost} losses")  # fmt: skip


FIRST = ["Jane", "John", "Maria", "Wei", "Aiko", "Olu", "Sven", "Priya", "Carlos", "Fatima"]
LAST = ["Doe", "Smith", "Garcia", "Chen", "Tanaka", "Adeyemi", "Berg", "Patel", "Lopez", "Haddad"]
TITLES = [
    "VP Sales", "Director of Engineering", "Senior Software Engineer", "Chief Executive Officer",
    "Marketing Manager", "Account Executive", "Head of IT", "Technical Project Manager",
    "Geschäftsführer", "Responsable Marketing", "", "Intern",
]  # fmt: skip

if __name__ == "__main__":
    main()
