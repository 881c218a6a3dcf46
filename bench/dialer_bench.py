"""Dialer webhook throughput: call results per second, latency from webhook to Salesforce write,
and Salesforce API calls per run by action.

Everything is in one process: the webhook is called through DRF's test client (the whole Django
request cycle, authentication by project secret included), the run's django-q2 task runs inline
(sync mode, as in the tests: so a response returns after Salesforce was written, and the latency
measured is webhook -> Salesforce write done), and Salesforce is the in-memory emulated org (no
network; a real org adds ~100-300 ms per API call). A throwaway database: a temp SQLite file, or
PostgreSQL with --pg (a database created and dropped by the script).

    DEBUG=1 .venv/bin/python bench/dialer_bench.py [--calls 2000] [--pg postgres://postgres@127.0.0.1:5432]
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ACTIONS = [
    ("update_only", "UPD"),
    ("update_or_create_lead", "LEAD"),
    ("update_or_create_contact", "YES"),
    ("update_convert_or_create_contact", "CONVERT"),
]


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="call results to send")
    parser.add_argument("--pg", help="PostgreSQL server URL (without database) instead of SQLite")
    return parser.parse_args()


def setup_django(args):
    tmp = tempfile.mkdtemp(prefix="dialer-bench-")
    if args.pg:
        import psycopg

        name = f"crmbridge_bench_dialer_{os.getpid()}"
        with psycopg.connect(f"{args.pg.rstrip('/')}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{args.pg.rstrip('/')}/{name}"
    else:
        name = None
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    # The test settings: django-q2 runs tasks inline (sync=True).
    os.environ["DJANGO_SETTINGS_MODULE"] = "crmbridge.settings_test"
    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return name


def drop_pg(args, name):
    if not name:
        return
    from django.db import connections

    connections.close_all()
    import psycopg

    with psycopg.connect(f"{args.pg.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main():
    args = parse()
    dbname = setup_django(args)
    try:
        run_bench(args)
    finally:
        drop_pg(args, dbname)


def run_bench(args):
    from rest_framework.test import APIClient

    import sfemulator
    from integrations.dialer import services
    from integrations.dialer.models import CallRun, Integration
    from integrations.salesforce import SalesforceClient, install_client

    org = sfemulator.Org(":memory:")
    client = SalesforceClient.for_emulator(org, base_delay=0)
    install_client(client)

    project, secret = services.project_create(name="Bench")
    person = [("first_name", "FirstName"), ("last_name", "LastName"), ("email", "Email"),
              ("title", "Title")]  # fmt: skip
    for action, code in ACTIONS:
        maps = (
            [{"dialer_field": d, "sobject": "Lead", "salesforce_field": s} for d, s in person]
            + [{"dialer_field": "company", "sobject": "Lead", "salesforce_field": "Company"}]
            + [{"dialer_field": d, "sobject": "Contact", "salesforce_field": s} for d, s in person]
            + [{"dialer_field": "company", "sobject": "Account", "salesforce_field": "Name"}]
            + [
                {"dialer_field": d, "sobject": "Opportunity", "salesforce_field": s}
                for d, s in [("deal", "Name"), ("stage", "StageName"), ("close", "CloseDate")]
            ]
        )
        services.integration_save(
            integration=Integration(project=project, name=action, action=action),
            result_codes=[code],
            secondary_keys=[{"dialer_field": "email", "salesforce_field": "Email"}],
            field_mappings=maps,
        )

    n = args.calls
    per_action = max(1, n // len(ACTIONS))
    # Records the dialer calls about: Contacts to update (by Id), Leads to convert (by e-mail).
    contacts = [
        org.insert("Contact", {"LastName": f"Known{i}", "Email": f"known{i}@bench.example"})
        for i in range(per_action)
    ]
    for i in range(per_action):
        org.insert(
            "Lead",
            {
                "LastName": f"Lead{i}",
                "Company": f"Convert Co {i}",
                "Email": f"conv{i}@bench.example",
            },
        )
    for i in range(0, per_action, 4):  # a quarter of the new Contacts' companies exist already
        org.insert("Account", {"Name": f"Company {i}"})

    def call(action, i):
        base = {"first_name": "Pat", "last_name": f"Caller{i}", "title": "Director",
                "deal": f"Deal {i}", "stage": "Prospecting", "close": "2027-06-30"}  # fmt: skip
        if action == "update_only":
            return {**base, "salesforce_id": contacts[i % len(contacts)], "title": f"T{i}"}
        if action == "update_or_create_lead":
            return {**base, "email": f"lead{i}@new.example", "company": f"Lead Co {i}"}
        if action == "update_or_create_contact":
            return {**base, "email": f"new{i}@new.example", "company": f"Company {i}"}
        j = i % per_action
        return {**base, "email": f"conv{j}@bench.example", "company": f"Convert Co {j}"}

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.limits()  # log in first: the login is not part of any run
    latencies, by_action_calls, failures = [], defaultdict(list), Counter()
    endpoints = defaultdict(Counter)
    plan = [(ACTIONS[k % len(ACTIONS)], k // len(ACTIONS)) for k in range(n)]
    started = time.perf_counter()
    for k, ((action, code), i) in enumerate(plan):
        before = Counter(org.stats.calls)
        t0 = time.perf_counter()
        response = api.post(
            "/api/v1/dialer/call-results/",
            {"project": project.pk, "call_id": f"bench-{k}", "result_code": code,
             "record": call(action, i)},
            format="json",
        )  # fmt: skip
        latencies.append(time.perf_counter() - t0)
        assert response.status_code == 202, response.content
        used = Counter(org.stats.calls) - before
        by_action_calls[action].append(sum(used.values()))
        endpoints[action].update(used)
    elapsed = time.perf_counter() - started
    run_times = []
    for status, t_start, t_end in CallRun.objects.values_list(
        "status", "started_at", "finished_at"
    ):
        failures[status] += 1
        if t_start and t_end:
            run_times.append((t_end - t_start).total_seconds())
    run_times.sort()

    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"dialer bench: {n} call results, database {os.environ['DATABASE_URL'].split(':')[0]}, "
          "in-process emulated org, django-q2 tasks inline (sync)")  # fmt: skip
    print(f"  run statuses: {dict(failures)}")
    print(f"  throughput: {n / elapsed:.1f} runs/s ({elapsed:.1f} s)")
    print(
        f"  latency webhook -> Salesforce written: median {statistics.median(latencies) * 1000:.1f}"
        f" ms, p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )
    print(
        "  of which the run itself (task claimed -> Salesforce written -> run saved): median "
        f"{statistics.median(run_times) * 1000:.1f} ms, p99 "
        f"{run_times[min(len(run_times) - 1, int(len(run_times) * 0.99))] * 1000:.1f} ms; the "
        "rest is the request cycle and django-q2's inline task bookkeeping"
    )
    print("  Salesforce API calls per run, by action (scenario):")
    scenario = {
        "update_only": "match by Id, update Contact",
        "update_or_create_lead": "no match, create Lead",
        "update_or_create_contact": "no match, Contact + Account (found 1/4, else created) + "
        "Opportunity",
        "update_convert_or_create_contact": "Lead by e-mail, convert, Contact mapping",
    }
    for action, _ in ACTIONS:
        calls = by_action_calls[action]
        top = ", ".join(f"{k} x{v / len(calls):.2f}" for k, v in endpoints[action].most_common())
        print(
            f"    {action:34} mean {statistics.mean(calls):.2f} (min {min(calls)}, max "
            f"{max(calls)})  [{scenario[action]}]\n      {top}"
        )


if __name__ == "__main__":
    main()
