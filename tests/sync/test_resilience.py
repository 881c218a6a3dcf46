"""Faults and dead workers: afterwards Salesforce and the mirror agree record for record."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from accounts.models import Account, Contact
from integrations.outbox import claims
from integrations.outbox.claims import outbox_claim
from integrations.outbox.models import OutboxItem
from integrations.outbox.payloads import outbox_reference
from integrations.outbox.services import outbox_enqueue
from integrations.sync import push
from integrations.sync.push import outbox_push
from integrations.sync.services import sync_run_execute
from tests.factories import AccountFactory, ContactFactory


def crmbridge_creates(n_accounts, per_account):
    with transaction.atomic():
        for a in range(n_accounts):
            account = AccountFactory(name=f"A{a}", crmbridge_id=f"acc{a}", local=True)
            outbox_enqueue(
                sobject="Account", crmbridge_id=account.crmbridge_id,
                payload={"Name": account.name}, local=account,
            )  # fmt: skip
            for c in range(per_account):
                contact = ContactFactory(
                    last_name=f"C{a}-{c}", crmbridge_id=f"c{a}x{c}", account=account,
                    created_by_crmbridge=True, local=True,
                )  # fmt: skip
                outbox_enqueue(
                    sobject="Contact",
                    crmbridge_id=contact.crmbridge_id,
                    payload={"LastName": contact.last_name, "AccountId": outbox_reference(account)},
                    local=contact,
                )
                outbox_enqueue(
                    sobject="Task",
                    crmbridge_id=f"t{a}x{c}",
                    payload={"Subject": "Call", "WhoId": outbox_reference(contact),
                             "WhatId": outbox_reference(account)},
                )  # fmt: skip


def assert_in_step(sf_org):
    """Every mirror row is in Salesforce under its Id, once; nothing waits; no duplicates."""
    assert OutboxItem.objects.exclude(state="sent").count() == 0
    for sobject, model in (("Account", Account), ("Contact", Contact)):
        sf_rows = list(sf_org.rows(sobject))
        sf_ids = [r["Id"] for r in sf_rows]
        assert len(sf_ids) == len(set(sf_ids))
        exts = [r["Crmbridge_Id__c"] for r in sf_rows if r["Crmbridge_Id__c"]]
        assert len(exts) == len(set(exts)), f"duplicate {sobject} in Salesforce"
        mirror = dict(model.objects.filter(is_deleted=False).values_list("sf_id", "crmbridge_id"))
        assert set(mirror) == set(sf_ids), f"{sobject}: mirror and Salesforce differ"
        by_id = {r["Id"]: r for r in sf_rows}
        for sf_id, ext in mirror.items():
            assert by_id[sf_id]["Crmbridge_Id__c"] in (ext, None)
    contacts = {c.sf_id: c for c in Contact.objects.select_related("account")}
    for row in sf_org.rows("Contact"):
        account = contacts[row["Id"]].account
        assert row["AccountId"] == (account.sf_id if account else None)
    tasks = sf_org.rows("Task")
    assert len(tasks) == len({t["Crmbridge_Id__c"] for t in tasks})
    assert all(t["WhoId"] in contacts for t in tasks)


def until_done(runs=12):
    now = timezone.now()
    for _ in range(runs):
        sync_run_execute(kind="sync", trigger="schedule")
        if not OutboxItem.objects.exclude(state="sent").exists():
            return
        # the next window: every backoff has passed
        OutboxItem.objects.filter(state="pending").update(next_attempt_at=now)


@pytest.mark.django_db
def test_ten_percent_of_calls_failing_loses_and_duplicates_nothing(sf_org, sf_client):
    for i in range(30):
        sf_org.insert("Contact", {"LastName": f"Pulled{i}"})
    crmbridge_creates(5, 60)
    for kind in ("503", "connection", "timeout"):
        sf_org.faults.fail_rate(0.1, kind=kind, seed=11, after=True)
    sf_org.faults.fail_rate(0.05, kind="unable_to_lock_row", seed=5)
    until_done()
    sf_org.faults.clear()
    sync_run_execute(kind="sync", trigger="schedule")  # pull back what was pushed
    assert_in_step(sf_org)
    assert sf_org.count("Contact") == 30 + 300
    assert sum(sf_org.faults.injected.values()) > 0


@pytest.mark.django_db
def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(sf_org, sf_client):
    crmbridge_creates(3, 100)
    # A worker claims a batch, sends it (Salesforce writes it) and dies before recording it.
    claimed = outbox_claim(worker="doomed")
    sf_client.upsert_many(
        claimed[0].sobject,
        "Crmbridge_Id__c",
        [{**i.payload, "Crmbridge_Id__c": i.crmbridge_id} for i in claimed],
    )
    # Another pusher dies mid-batch: the write happened, the answer never came back.
    sf_org.faults.fail_next(20, kind="connection", after=True)
    outbox_push()
    sf_org.faults.clear()
    later = timezone.now() + claims.STALE_CLAIM_AFTER + dt.timedelta(minutes=1)
    claims.outbox_reclaim_stale(now=later)
    until_done()
    sync_run_execute(kind="sync", trigger="schedule")
    assert_in_step(sf_org)
    assert sf_org.count("Account") == 3 and sf_org.count("Contact") == 300


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_pushers_at_once_never_send_the_same_row(sf_org, sf_client):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    crmbridge_creates(2, 300)
    sf_org.stats.reset()
    results, errors = [], []
    barrier = threading.Barrier(2)

    def pusher(name):
        try:
            barrier.wait()
            results.append(push.Pusher(client=sf_client, worker=name).push())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pusher, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    until_done()
    assert sum(r.pushed for r in results) <= OutboxItem.objects.count()
    # each row was sent by exactly one pusher: total upserted records == rows
    sent_records = sf_org.count("Account") + sf_org.count("Contact") + sf_org.count("Task")
    assert sent_records == OutboxItem.objects.count() == 2 + 600 + 600
    assert_in_step(sf_org)
