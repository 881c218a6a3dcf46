import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Contact
from integrations.outbox.claims import STALE_CLAIM_AFTER, outbox_claim, outbox_reclaim_stale
from integrations.outbox.models import OutboxItem
from integrations.outbox.payloads import outbox_reference
from integrations.outbox.services import outbox_enqueue, outbox_retry
from integrations.sync import push
from integrations.sync.push import outbox_push
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

UPSERT = "PATCH composite/sobjects/{type}/{field}"


def sf_by_ext(sf_org, sobject):
    return {r["Crmbridge_Id__c"]: r for r in sf_org.rows(sobject) if r["Crmbridge_Id__c"]}


def new_account_and_contacts(n, *, account_ext="acc-1"):
    with transaction.atomic():
        account = AccountFactory(name="Acme", crmbridge_id=account_ext, local=True)
        outbox_enqueue(
            sobject="Account",
            crmbridge_id=account_ext,
            payload={"Name": "Acme", "Website": "acme.example"},
            local=account,
        )
        contacts = []
        for i in range(n):
            c = ContactFactory(
                last_name=f"Doe{i}", email=f"d{i}@acme.example", crmbridge_id=f"c-{i}",
                account=account, created_by_crmbridge=True, local=True,
            )  # fmt: skip
            outbox_enqueue(
                sobject="Contact",
                crmbridge_id=c.crmbridge_id,
                payload={
                    "LastName": c.last_name,
                    "Email": c.email,
                    "AccountId": outbox_reference(account),
                },
                local=c,
            )
            contacts.append(c)
    return account, contacts


def test_it_pushes_parents_before_children_and_writes_salesforce_ids_back(sf_org, sf_client):
    account, contacts = new_account_and_contacts(2)
    with transaction.atomic():
        outbox_enqueue(
            sobject="Task",
            crmbridge_id="task-1",
            payload={
                "Subject": "Call",
                "WhoId": outbox_reference(contacts[0]),
                "WhatId": outbox_reference(account),
            },
        )
    result = outbox_push()
    assert result.pushed == 4 and result.failed == 0
    account.refresh_from_db()
    sf_accounts = sf_by_ext(sf_org, "Account")
    assert account.sf_id == sf_accounts["acc-1"]["Id"]
    sf_contacts = sf_by_ext(sf_org, "Contact")
    for c in contacts:
        c.refresh_from_db()
        assert c.sf_id == sf_contacts[c.crmbridge_id]["Id"]
        assert sf_contacts[c.crmbridge_id]["AccountId"] == account.sf_id
    task = sf_by_ext(sf_org, "Task")["task-1"]
    assert task["WhoId"] == contacts[0].sf_id
    assert task["WhatId"] == account.sf_id
    assert set(OutboxItem.objects.values_list("state", flat=True)) == {"sent"}


def test_a_polymorphic_parent_known_only_to_salesforce_is_looked_up(sf_org, sf_client, enqueue):
    lead_id = sf_org.insert(
        "Lead", {"LastName": "Roe", "Company": "Roe Inc", "Crmbridge_Id__c": "lead-9"}
    )
    enqueue(
        sobject="Task",
        crmbridge_id="task-2",
        payload={"Subject": "Mail", "Who": {"Crmbridge_Id__c": "lead-9"}},
    )
    assert outbox_push().pushed == 1
    assert sf_by_ext(sf_org, "Task")["task-2"]["WhoId"] == lead_id


def test_a_reference_by_external_id_is_resolved_or_left_to_salesforce(sf_org, sf_client, enqueue):
    acc_id = sf_org.insert("Account", {"Name": "Only in SF", "Crmbridge_Id__c": "sf-acc"})
    enqueue(
        sobject="Contact",
        crmbridge_id="c-x",
        payload={"LastName": "X", "Account": {"Crmbridge_Id__c": "sf-acc"}},
    )
    enqueue(
        sobject="Event",
        crmbridge_id="ev-1",
        payload={
            "Subject": "Meet",
            "What": {"attributes": {"type": "Account"}, "Crmbridge_Id__c": "sf-acc"},
        },
    )
    assert outbox_push().pushed == 2
    assert sf_by_ext(sf_org, "Contact")["c-x"]["AccountId"] == acc_id
    assert sf_by_ext(sf_org, "Event")["ev-1"]["WhatId"] == acc_id


def test_a_polymorphic_parent_still_waiting_defers_the_child(sf_org, sf_client, enqueue):
    with transaction.atomic():
        contact = ContactFactory(last_name="Later", crmbridge_id="c-later", local=True)
        outbox_enqueue(
            sobject="Contact", crmbridge_id="c-later", payload={"LastName": "Later"}, local=contact
        )
        task = outbox_enqueue(
            sobject="Task", crmbridge_id="t-1", payload={"WhoId": outbox_reference(contact)}
        )
    parent = OutboxItem.objects.get(crmbridge_id="c-later")
    future = timezone.now() + dt.timedelta(minutes=5)
    OutboxItem.objects.filter(pk=parent.pk).update(next_attempt_at=future)  # parent backing off
    outbox_push()
    task.refresh_from_db()
    assert task.state == "pending" and task.error_code == "WAITING_FOR_PARENT"
    assert task.attempts == 0
    outbox_push(now=future + dt.timedelta(minutes=1))
    task.refresh_from_db()
    contact.refresh_from_db()
    assert task.state == "sent"
    assert sf_by_ext(sf_org, "Task")["t-1"]["WhoId"] == contact.sf_id


def test_it_sends_collections_of_at_most_200(sf_org, sf_client):
    new_account_and_contacts(450)
    sf_org.stats.reset()
    result = outbox_push()
    assert result.pushed == 451
    assert sf_org.stats[UPSERT] == 1 + 3
    assert sf_org.count("Contact") == 450


def test_a_permanent_error_is_kept_with_salesforces_message_until_fixed(sf_org, sf_client, enqueue):
    item = enqueue(sobject="Contact", crmbridge_id="c-bad", payload={"Email": "x@y.example"})
    result = outbox_push()
    assert result.failed == 1
    item.refresh_from_db()
    assert item.state == "failed"
    assert item.error_code == "REQUIRED_FIELD_MISSING"
    assert "LastName" in item.last_error
    # the admin fixes the payload and retries
    item.payload = {**item.payload, "LastName": "Fixed"}
    item.save()
    assert outbox_retry(items=[item]) == 1
    assert outbox_push().pushed == 1
    assert sf_by_ext(sf_org, "Contact")["c-bad"]["LastName"] == "Fixed"


def test_transient_failures_are_retried_with_backoff_a_finite_number_of_times(
    sf_org, sf_client, enqueue
):
    item = enqueue(sobject="Account", crmbridge_id="a-1", payload={"Name": "A"})
    sf_org.faults.fail_rate(1.0, kind="503", endpoint=UPSERT)
    now = timezone.now()
    outbox_push(now=now)
    item.refresh_from_db()
    assert item.state == "pending" and item.attempts == 1
    assert item.next_attempt_at > now
    # not due yet: nothing is sent
    assert outbox_push(now=now).batches == 0
    for _ in range(push.MAX_ATTEMPTS - 1):
        now += push.BACKOFF_CAP
        outbox_push(now=now)
    item.refresh_from_db()
    assert item.state == "failed" and item.attempts == push.MAX_ATTEMPTS
    assert "gave up" in item.last_error
    sf_org.faults.clear()
    outbox_retry(items=[item])
    assert outbox_push().pushed == 1


def test_an_unreachable_salesforce_stops_the_push_without_spending_attempts(
    sf_org, sf_client, enqueue
):
    item = enqueue(sobject="Account", crmbridge_id="a-1", payload={"Name": "A"})
    sf_org.faults.fail_rate(1.0, kind="connection")
    result = outbox_push()
    assert result.stopped_code == "CONNECTION"
    item.refresh_from_db()
    assert item.state == "pending" and item.attempts == 0
    sf_org.faults.clear()
    assert outbox_push().pushed == 1


def test_a_child_waits_for_its_parent_and_fails_when_the_parent_failed(sf_org, sf_client, enqueue):
    enqueue(sobject="Account", crmbridge_id="a-bad", payload={"Website": "no-name.example"})
    child = enqueue(
        sobject="Contact",
        crmbridge_id="c-1",
        payload={"LastName": "Kid", "Account": {"Crmbridge_Id__c": "a-bad"}},
    )
    outbox_push()
    child.refresh_from_db()
    assert child.state == "failed" and child.error_code == "PARENT_FAILED"
    parent = OutboxItem.objects.get(crmbridge_id="a-bad")
    parent.payload = {"Name": "Now named"}
    parent.save()
    outbox_retry(items=[parent])
    assert outbox_push().pushed == 2
    assert (
        sf_by_ext(sf_org, "Contact")["c-1"]["AccountId"]
        == sf_by_ext(sf_org, "Account")["a-bad"]["Id"]
    )


def test_a_call_failing_inside_a_claim_keeps_what_the_calls_before_it_sent(sf_org, sf_client):
    account, contacts = new_account_and_contacts(450)  # one claim, three collection calls
    # The Account's call and the Contacts' first call go through; the second always fails.
    sf_org.faults.fail_next(sf_client.max_attempts, "503", endpoint=UPSERT, skip=2)

    result = outbox_push()

    assert result.pushed == 1 + 200 and result.retrying == 250
    sent = OutboxItem.objects.filter(sobject="Contact", state="sent")
    assert sent.count() == 200 and len(sf_by_ext(sf_org, "Contact")) == 200
    assert (
        Contact.objects.filter(pk__in=[c.pk for c in contacts], sf_id__isnull=False).count() == 200
    )
    waiting = OutboxItem.objects.filter(sobject="Contact", state="pending")
    assert waiting.count() == 250 and not waiting.filter(error_code="").exists()

    later = timezone.now() + dt.timedelta(hours=1)
    assert outbox_push(now=later).pushed == 250
    assert len(sf_by_ext(sf_org, "Contact")) == 450


def test_two_claims_never_take_the_same_row(db, enqueue):
    for i in range(5):
        enqueue(sobject="Account", crmbridge_id=f"a-{i}", payload={"Name": str(i)})
    first = outbox_claim(worker="w1", limit=3)
    second = outbox_claim(worker="w2", limit=3)
    assert len(first) == 3 and len(second) == 2
    assert not {i.id for i in first} & {i.id for i in second}
    assert outbox_claim(worker="w3") == []


def test_one_pushs_claims_go_on_after_its_last_row_but_never_miss_one_due_again(db, enqueue):
    rows = [
        enqueue(sobject="Account", crmbridge_id=f"a-{i}", payload={"Name": str(i)})
        for i in range(5)
    ]
    claimed_up_to = {}

    first = outbox_claim(worker="w", limit=2, after=claimed_up_to)
    # The first row is handed back (a retry due at once) while the push goes on.
    OutboxItem.objects.filter(pk=rows[0].pk).update(state="pending", claimed_by="")
    second = outbox_claim(worker="w", limit=2, after=claimed_up_to)
    third = outbox_claim(worker="w", limit=2, after=claimed_up_to)
    fourth = outbox_claim(worker="w", limit=2, after=claimed_up_to)

    ids = [[item.pk for item in claim] for claim in (first, second, third, fourth)]
    assert ids == [
        [rows[0].pk, rows[1].pk],
        [rows[2].pk, rows[3].pk],
        [rows[4].pk],
        [rows[0].pk],  # past the mark nothing is due: asked again from the start
    ]
    assert outbox_claim(worker="w", after=claimed_up_to) == []


def test_a_dead_workers_claims_are_handed_out_again(sf_org, sf_client, enqueue):
    enqueue(sobject="Account", crmbridge_id="a-1", payload={"Name": "A"})
    claimed = outbox_claim(worker="dead")  # the worker dies here
    assert outbox_push().pushed == 0
    later = timezone.now() + STALE_CLAIM_AFTER + dt.timedelta(seconds=1)
    assert outbox_reclaim_stale(now=later) == 1
    assert outbox_push().pushed == 1
    assert OutboxItem.objects.get(pk=claimed[0].pk).state == "sent"
    assert sf_org.count("Account") == 1


def test_the_budget_stops_the_push_cleanly_and_the_rest_waits(sf_org, sf_client):
    new_account_and_contacts(450)
    sf_org.api_limit = 100
    sf_org.reset_api_usage(17)
    sf_client.budget_percent = 20  # 20 calls allowed: the limits call + 2 batches fit
    result = outbox_push()
    assert result.stopped_code == "BUDGET_EXCEEDED"
    assert "budget" in result.stopped
    assert OutboxItem.objects.filter(state="claimed").count() == 0
    left = OutboxItem.objects.filter(state="pending").count()
    assert 0 < left < 451
    sf_org.reset_api_usage(0)
    assert outbox_push().pushed == left
    assert sf_org.count("Contact") == 450


def test_a_budget_reached_inside_a_claim_keeps_the_calls_made_and_costs_no_attempt(
    sf_org, sf_client
):
    new_account_and_contacts(450)  # the Account's claim, then one claim of three calls
    sf_org.api_limit = 100
    sf_org.reset_api_usage(17)
    sf_client.budget_percent = 20  # 20 calls: the limits call, the Account, 200 Contacts

    result = outbox_push()

    assert result.stopped_code == "BUDGET_EXCEEDED" and result.pushed == 1 + 200
    assert OutboxItem.objects.filter(sobject="Contact", state="sent").count() == 200
    waiting = OutboxItem.objects.filter(state="pending")
    assert waiting.count() == 250 and set(waiting.values_list("attempts", flat=True)) == {0}
    assert sf_org.count("Contact") == 200


@pytest.mark.parametrize("kind", ["connection", "503", "timeout"])
def test_faults_after_the_write_never_duplicate_or_lose_records(sf_org, sf_client, kind):
    new_account_and_contacts(300)
    sf_org.faults.fail_rate(0.1, kind=kind, seed=7, after=True)
    now = timezone.now()
    for _ in range(push.MAX_ATTEMPTS):
        outbox_push(now=now)
        now += push.BACKOFF_CAP
    sf_org.faults.clear()
    assert OutboxItem.objects.exclude(state="sent").count() == 0
    sf_contacts = sf_by_ext(sf_org, "Contact")
    assert len(sf_contacts) == sf_org.count("Contact") == 300
    mirror = dict(Contact.objects.values_list("crmbridge_id", "sf_id"))
    assert mirror == {ext: r["Id"] for ext, r in sf_contacts.items()}
