"""Ingest -> Contacts in the mirror -> push -> records in the (emulated) Salesforce org."""

import pytest

from accounts.models import Contact
from activities.models import ActivityLog
from integrations.outbox.models import OutboxItem
from integrations.sync.push import outbox_push
from tests.factories import AccountFactory, OpportunityFactory, SalesforceUserFactory


@pytest.fixture
def org_world(sf_org, sf_client, rep_user, org_settings):
    """The rep, Acme and its open Opportunity, in Salesforce and in the mirror."""
    user_id = sf_org.insert(
        "User", {"Name": "Rex Rep", "Email": rep_user.email, "Username": rep_user.email}
    )
    account_id = sf_org.insert("Account", {"Name": "Acme", "Website": "https://acme.com"})
    opp_id = sf_org.insert(
        "Opportunity",
        {
            "Name": "Acme renewal",
            "StageName": "Prospecting",
            "CloseDate": "2026-12-31",
            "AccountId": account_id,
            "OwnerId": user_id,
        },
    )
    rep_sf = SalesforceUserFactory(sf_id=user_id, name="Rex Rep", user=rep_user)
    acme = AccountFactory(sf_id=account_id, name="Acme", website="acme.com")
    deal = OpportunityFactory(sf_id=opp_id, name="Acme renewal", account=acme, owner=rep_sf)
    return {"user": user_id, "account": account_id, "opportunity": opp_id, "deal": deal}


def push(client):
    result = outbox_push(client=client)
    assert not OutboxItem.objects.exclude(state=OutboxItem.State.SENT).exists(), list(
        OutboxItem.objects.exclude(state="sent").values("sobject", "error_code", "last_error")
    )
    return result


@pytest.mark.django_db
def test_new_people_become_contacts_in_salesforce_with_their_activity(
    ingest, org_world, sf_org, sf_client
):
    ingest(
        [
            {"email": "jane.doe@acme.com", "name": "Jane Doe", "title": "VP Sales"},
            {"email": "bob.stone@acme.com", "name": "Bob Stone"},
        ],
        subject="Renewal pricing",
    )
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}], kind="meeting", subject="Demo")
    push(sf_client)

    contacts = {c["Email"]: c for c in sf_org.rows("Contact")}
    assert set(contacts) == {"jane.doe@acme.com", "bob.stone@acme.com"}
    jane = contacts["jane.doe@acme.com"]
    assert (jane["FirstName"], jane["LastName"], jane["Title"]) == ("Jane", "Doe", "VP Sales")
    assert jane["AccountId"] == org_world["account"]
    assert jane["OwnerId"] == org_world["user"]
    assert jane["LeadSource"] == "crmbridge"
    mirror = Contact.objects.get(email="jane.doe@acme.com")
    assert mirror.sf_id == jane["Id"]

    tasks = sf_org.rows("Task")
    assert len(tasks) == 2
    assert {t["WhoId"] for t in tasks} == {c["Id"] for c in contacts.values()}
    assert {t["WhatId"] for t in tasks} == {org_world["opportunity"]}
    assert {t["Subject"] for t in tasks} == {"Renewal pricing"}
    assert all(t["OwnerId"] == org_world["user"] for t in tasks)
    (event,) = sf_org.rows("Event")
    assert (event["WhoId"], event["Subject"]) == (jane["Id"], "Demo")

    roles = sf_org.rows("OpportunityContactRole")
    assert {r["ContactId"] for r in roles} == {c["Id"] for c in contacts.values()}
    assert {r["OpportunityId"] for r in roles} == {org_world["opportunity"]}
    assert ActivityLog.objects.filter(sf_id__isnull=False).count() == 3


@pytest.mark.django_db
def test_an_activity_sent_again_is_logged_once_in_salesforce(ingest, org_world, sf_org, sf_client):
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}], ext="mail-1")
    push(sf_client)
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}], ext="mail-1")
    push(sf_client)
    assert sf_org.count("Contact") == 1
    assert sf_org.count("Task") == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["503", "connection", "timeout"])
def test_lost_answers_and_server_errors_never_duplicate_records(
    ingest, org_world, sf_org, sf_client, kind
):
    ingest(
        [{"email": "jane.doe@acme.com", "name": "Jane Doe"}, {"email": "bob.stone@acme.com"}],
        kind="meeting",
    )
    # Every second call fails after Salesforce did the work: the answer is lost.
    sf_org.faults.fail_rate(0.5, kind=kind, seed=7, after=True)
    for _ in range(20):
        outbox_push(client=sf_client, now=None)
        if not OutboxItem.objects.exclude(state=OutboxItem.State.SENT).exists():
            break
        OutboxItem.objects.filter(state=OutboxItem.State.PENDING).update(next_attempt_at=None)
    sf_org.faults.clear()
    push(sf_client)
    assert sf_org.count("Contact") == 2
    assert sf_org.count("Contact") == Contact.objects.count()
    assert sf_org.count("Event") == ActivityLog.objects.count()
    # Contact roles too, though Salesforce never lets a re-sent upsert set OpportunityId again.
    assert sf_org.count("OpportunityContactRole") == 2


@pytest.mark.django_db
def test_lead_mode_creates_leads_in_salesforce_with_the_activity(
    ingest, org_world, sf_org, sf_client, org_settings
):
    org_settings.create_as = "lead"
    org_settings.save()
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])
    push(sf_client)
    (lead,) = sf_org.rows("Lead")
    assert (lead["Company"], lead["LeadSource"], lead["OwnerId"]) == (
        "Acme",
        "crmbridge",
        org_world["user"],
    )
    (task,) = sf_org.rows("Task")
    assert task["WhoId"] == lead["Id"] and task["WhatId"] is None
    assert sf_org.count("Contact") == 0
