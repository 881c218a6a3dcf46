"""Address-book bench: a rep's 5,000 Salesforce Contacts into a real CardDAV server (Radicale).

Prints, for the first sync (empty address book), a run with nothing changed, and a run after
N Contacts changed in Salesforce: CardDAV requests, seconds, and the Salesforce API calls the
address-book run itself made (it reads the mirror; its writes wait in the outbox). Asserts
nothing.

    DEBUG=1 .venv/bin/python bench/addressbook_bench.py
    DEBUG=1 .venv/bin/python bench/addressbook_bench.py --contacts 20000 --changes 100

What the first sync's time is: one PUT per card (If-None-Match: *), nothing else, and the time
is Radicale's. For each new card Radicale checks that no card of the collection has its UID by
reading every card (BaseCollection.has_uid -> get_all, under the storage's write lock, so
parallel PUTs would not help), so filling n cards costs it O(n^2): measured on Radicale 3.9
in-process, 24 ms per PUT for the first 250 cards, 87 ms at 750-1,000 (cProfile: three quarters
of it in has_uid). Standard CardDAV has no batch write, and servers that index UIDs (Google,
iCloud, Nextcloud's database) do not have this cost. The test Radicale
(tests/servers/radicale.py) runs without fsync and with the mtime/size item cache.
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
    p.add_argument("--contacts", type=int, default=5_000)
    p.add_argument("--changes", type=int, default=50)
    return p.parse_args()


def setup_django():
    tmp = tempfile.mkdtemp(prefix="addressbook-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crmbridge.settings")
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main():
    args = parse_args()
    setup_django()
    from django.contrib.auth import get_user_model

    import sfemulator
    from integrations.addressbooks.services import address_book_create, address_book_sync
    from integrations.salesforce import SalesforceClient, install_client
    from integrations.sync.models import SyncRun
    from integrations.sync.services import sync_run_execute
    from tests.servers.radicale import running_radicale

    org = sfemulator.Org(":memory:", api_limit=10_000_000)
    rep = get_user_model().objects.create_user("rep", email="rep@crmbridge.example")
    rep_id = org.insert("User", {"Name": "Rep", "Email": rep.email, "Username": rep.email})
    accounts = [
        org.insert("Account", {"Name": f"Account {n}", "OwnerId": rep_id}) for n in range(200)
    ]
    org.bulk_insert(
        "Contact",
        [
            {
                "FirstName": f"First{n}",
                "LastName": f"Last{n}",
                "Email": f"person{n}@example{n % 200}.com",
                "Title": "Engineer",
                "Phone": f"+1 555 {n:07d}",
                "MailingCountry": "Germany",
                "AccountId": accounts[n % 200],
                "OwnerId": rep_id,
            }
            for n in range(args.contacts)
        ],
    )
    client = SalesforceClient.for_emulator(org, base_delay=0)
    install_client(client)
    sync_run_execute(kind=SyncRun.Kind.SYNC, trigger="command", client=client)

    with running_radicale() as server:
        user = server.add_user()
        book = address_book_create(
            owner=rep, url=server.url, username=user.username, secret=user.password
        )
        print(f"address book of {args.contacts} Contacts on Radicale at {server.url}")

        def measure(label):
            api_before = org.api_used
            started = time.perf_counter()
            run = address_book_sync(address_book=book)
            seconds = time.perf_counter() - started
            book.refresh_from_db()
            to_book = {k: v for k, v in run.counts["to_address_book"].items() if v}
            to_sf = {k: v for k, v in run.counts["to_salesforce"].items() if v}
            print(
                f"{label:<28} {run.requests:>6} CardDAV requests  {seconds:8.2f} s  "
                f"{org.api_used - api_before} Salesforce calls  "
                f"state={run.state} to_address_book={to_book} to_salesforce={to_sf}"
            )

        measure("first sync")
        measure("no-change sync")
        for row in org.rows("Contact")[: args.changes]:
            org.update("Contact", row["Id"], {"Title": "Senior Engineer"})
        sync_run_execute(kind=SyncRun.Kind.SYNC, trigger="command", client=client)
        measure(f"after {args.changes} changed in SF")
        measure("no-change sync again")
    install_client(None)


if __name__ == "__main__":
    main()
