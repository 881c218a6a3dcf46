"""Figures for the emulated org and the client. Prints, asserts nothing.

.venv/bin/python bench/sfemulator_bench.py [--big N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


import sfemulator  # noqa: E402
from integrations.salesforce import SalesforceClient  # noqa: E402


def bench_upsert(n: int = 10_000) -> None:
    org = sfemulator.Org(":memory:")
    client = SalesforceClient.for_emulator(org, base_delay=0)
    client.limits()
    records = [
        {"Crmbridge_Id__c": f"bench-{i}", "FirstName": "Ada", "LastName": f"L{i}",
         "Email": f"ada{i}@bench.example", "Title": "Engineer"}
        for i in range(n)
    ]  # fmt: skip
    t = time.perf_counter()
    client.upsert_many("Contact", "Crmbridge_Id__c", records)
    created = time.perf_counter() - t
    t = time.perf_counter()
    client.upsert_many("Contact", "Crmbridge_Id__c", records)
    updated = time.perf_counter() - t
    print(f"upsert {n:,} Contacts through the client (in-process, collections of 200):")
    print(f"  create: {n / created:,.0f} records/s ({created:.2f} s)")
    print(f"  update: {n / updated:,.0f} records/s ({updated:.2f} s)")


def bench_lookup(sizes: list[int], repeats: int = 200) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        org = sfemulator.Org(os.path.join(tmp, "bench.sqlite3"))
        client = SalesforceClient.for_emulator(org, base_delay=0)
        loaded = 0
        for size in sizes:
            t = time.perf_counter()
            org.bulk_insert(
                "Contact",
                ({"LastName": f"L{i}", "Email": f"person{i}@bench.example",
                  "Crmbridge_Id__c": f"ext-{i}"} for i in range(loaded, size)),
            )  # fmt: skip
            load = time.perf_counter() - t
            loaded = size
            step = max(size // repeats, 1)
            latencies = []
            for k in range(repeats):
                email = f"person{(k * step) % size}@bench.example"
                t = time.perf_counter()
                rows = client.query_all("SELECT Id FROM Contact WHERE Email = {email}", email=email)
                latencies.append(time.perf_counter() - t)
                assert len(rows) == 1
            ext = []
            for k in range(repeats):
                t = time.perf_counter()
                client.query_all(
                    "SELECT Id FROM Contact WHERE Crmbridge_Id__c = {v}", v=f"ext-{k * step}"
                )
                ext.append(time.perf_counter() - t)
            print(
                f"{size:>9,} Contacts (bulk load {load:.1f} s): SELECT Id FROM Contact WHERE "
                f"Email = ... median {statistics.median(latencies) * 1000:.2f} ms, "
                f"p95 {sorted(latencies)[int(repeats * 0.95)] * 1000:.2f} ms; "
                f"by Crmbridge_Id__c median {statistics.median(ext) * 1000:.2f} ms"
            )
        org.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--upsert", type=int, default=10_000)
    args = parser.parse_args()
    bench_upsert(args.upsert)
    bench_lookup([100_000, args.big])


if __name__ == "__main__":
    main()
