import datetime as dt

import pytest
from django.db import transaction

from accounts.models import Account, AccountDomain, Contact, SalesforceUser
from integrations.outbox.models import OutboxItem
from integrations.outbox.services import outbox_enqueue
from integrations.sync.models import Conflict, SyncRun, SyncSettings, Watermark
from integrations.sync.services import contact_delete_following_settings, sync_run_execute
from tests.factories import UserFactory
from tests.sync.conftest import T0

pytestmark = pytest.mark.django_db


def run(kind="sync", **kw):
    return sync_run_execute(kind=kind, trigger="command", **kw)


@pytest.fixture
def world(sf_org, clock):
    user = sf_org.insert("User", {"Name": "Rex", "Email": "Rex@crmbridge.example", "Username": "r"})
    acc = sf_org.insert(
        "Account", {"Name": "Acme", "Website": "https://www.acme.com", "OwnerId": user}
    )
    contacts = [
        sf_org.insert(
            "Contact",
            {"LastName": f"C{i}", "Email": f"c{i}@acme.com", "AccountId": acc, "Title": "Dev"},
        )
        for i in range(5)
    ]
    opp = sf_org.insert(
        "Opportunity",
        {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-01", "AccountId": acc},
    )
    sf_org.insert("OpportunityContactRole", {"OpportunityId": opp, "ContactId": contacts[0]})
    return {"user": user, "account": acc, "contacts": contacts, "opportunity": opp}


def test_a_first_run_pulls_everything_and_links_users_and_domains(sf_client, world):
    crm_user = UserFactory(username="rex", email="rex@crmbridge.example")
    r = run()
    assert r.state == "succeeded", r.message
    assert r.counts["Contact"]["pulled"] == 5
    assert Contact.objects.count() == 5
    account = Account.objects.get(sf_id=world["account"])
    assert account.owner.sf_id == world["user"]
    assert SalesforceUser.objects.get(sf_id=world["user"]).user == crm_user
    assert set(account.domains.values_list("domain", flat=True)) == {"acme.com"}
    assert Contact.objects.filter(account=account).count() == 5
    assert account.opportunities.get().contact_roles.count() == 1
    assert r.api_calls > 0


def test_incremental_pull_picks_up_updates_and_deletions_and_nothing_twice(
    sf_org, sf_client, world, clock
):
    run()
    clock.tick(minutes=30)
    sf_org.update("Contact", world["contacts"][1], {"Title": "CTO"})
    sf_org.delete("Contact", world["contacts"][2])
    new = sf_org.insert("Contact", {"LastName": "New", "AccountId": world["account"]})
    clock.tick(minutes=1)
    second = run()
    assert second.counts["Contact"] == {"pulled": 2, "deleted": 1}
    assert "Account" not in second.counts
    assert Contact.objects.get(sf_id=world["contacts"][1]).title == "CTO"
    assert Contact.objects.get(sf_id=world["contacts"][2]).is_deleted
    assert Contact.objects.filter(sf_id=new).exists()
    clock.tick(minutes=1)
    third = run()
    assert third.counts == {}  # the overlap window re-reads, but nothing is applied twice
    assert Contact.objects.count() == 7 - 1  # 5 + new, one of them marked deleted
    assert Contact.objects.filter(is_deleted=False).count() == 5


def test_incremental_api_calls_do_not_grow_with_the_org(sf_org, sf_client, world, clock):
    sf_org.bulk_insert(
        "Contact", ({"LastName": f"Bulk{i}", "AccountId": world["account"]} for i in range(5000))
    )
    clock.tick(minutes=30)
    sf_org.update("Contact", world["contacts"][1], {"Title": "Later"})
    run()
    clock.tick(minutes=30)
    sf_org.update("Contact", world["contacts"][0], {"Title": "VP"})
    clock.tick(minutes=1)
    sf_org.stats.reset()
    r = run()
    assert r.counts["Contact"]["pulled"] == 1
    # limits + one query per object (6), whatever the size of the org
    assert r.api_calls == sf_org.stats.total == 7


def test_the_watermark_edges_use_an_overlap_window(sf_org, sf_client, world, clock):
    run()
    mark = Watermark.objects.get(sobject="Contact").modstamp
    assert mark == T0
    # A change committed late with a SystemModstamp just before the watermark (clock skew)
    clock.at = T0 - dt.timedelta(minutes=2)
    sf_org.update("Contact", world["contacts"][3], {"Title": "Late"})
    clock.at = T0 + dt.timedelta(minutes=10)
    r = run()
    assert r.counts["Contact"]["pulled"] == 1
    assert Contact.objects.get(sf_id=world["contacts"][3]).title == "Late"
    # Changes exactly at the watermark are also seen, once
    clock.at = T0 + dt.timedelta(minutes=10)
    sf_org.update("Contact", world["contacts"][4], {"Title": "Edge"})
    assert run().counts["Contact"]["pulled"] == 1
    assert run().counts == {}


def test_deleted_in_salesforce_can_delete_it_here(sf_org, sf_client, world, clock):
    SyncSettings.objects.update_or_create(pk=1, defaults={"on_salesforce_delete": "delete"})
    run()
    clock.tick(minutes=5)
    sf_org.delete("Contact", world["contacts"][0])
    r = run()
    assert r.counts["Contact"]["deleted"] == 1
    assert not Contact.objects.filter(sf_id=world["contacts"][0]).exists()
    assert not OutboxItem.objects.exists()  # not sent back to Salesforce


def test_a_contact_crmbridge_created_deleted_here_is_deleted_in_salesforce_when_set(
    sf_org, sf_client, world
):
    run()
    contact = Contact.objects.get(sf_id=world["contacts"][0])
    Contact.objects.filter(pk=contact.pk).update(created_by_crmbridge=True)
    contact.refresh_from_db()
    # default: leave it in Salesforce
    contact_delete_following_settings(contact=contact)
    assert not OutboxItem.objects.exists()
    SyncSettings.objects.update_or_create(pk=1, defaults={"on_local_contact_delete": "delete"})
    other = Contact.objects.get(sf_id=world["contacts"][1])
    other.created_by_crmbridge = True
    other.save()
    contact_delete_following_settings(contact=other)
    assert OutboxItem.objects.get().operation == "delete"
    r = run(kind="push")
    assert r.counts["Contact"]["pushed"] == 1
    alive = {c["Id"] for c in sf_org.rows("Contact")}
    assert world["contacts"][1] not in alive and world["contacts"][0] in alive


def test_conflicts_salesforce_wins_and_every_conflict_is_recorded(sf_org, sf_client, world, clock):
    run()
    contact = Contact.objects.get(sf_id=world["contacts"][0])
    with transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(title="Local title", phone="111")
        outbox_enqueue(
            sobject="Contact",
            sf_id=contact.sf_id,
            payload={"Title": "Local title", "Phone": "111"},
            local=contact,
        )
    clock.tick(minutes=5)
    sf_org.update("Contact", contact.sf_id, {"Title": "SF title"})
    r = run()
    contact.refresh_from_db()
    assert contact.title == "SF title"
    conflict = Conflict.objects.get()
    assert (conflict.field, conflict.winner) == ("Title", "salesforce")
    assert conflict.local_value == "Local title" and conflict.salesforce_value == "SF title"
    sf_row = next(c for c in sf_org.rows("Contact") if c["Id"] == contact.sf_id)
    assert sf_row["Title"] == "SF title"  # our stale title was not pushed over theirs
    assert sf_row["Phone"] == "111"  # the field only we changed was
    assert r.counts["Contact"]["conflicts"] == 1


def test_department_and_seniority_are_crmbridges_when_classification_is_on(
    sf_org, sf_client, world, clock
):
    from classification.services import rule_create

    # Through the service, as the admin and API do: it bumps the rule-set version.
    rule_create(keyword="cto", dimension="seniority", value="Executive")
    run()
    contact = Contact.objects.get(sf_id=world["contacts"][0])
    with transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(seniority="Executive")
        outbox_enqueue(
            sobject="Contact", sf_id=contact.sf_id, payload={"Seniority__c": "Executive"}
        )
    clock.tick(minutes=5)
    sf_org.update("Contact", contact.sf_id, {"Seniority__c": "Manager"})
    run()
    contact.refresh_from_db()
    assert contact.seniority == "Executive"
    assert Conflict.objects.get().winner == "crmbridge"
    sf_row = next(c for c in sf_org.rows("Contact") if c["Id"] == contact.sf_id)
    assert sf_row["Seniority__c"] == "Executive"


def test_a_changed_title_is_classified_again(sf_org, sf_client, world, clock):
    from classification.services import rule_create

    # Through the service, as the admin and API do: it bumps the rule-set version.
    rule_create(keyword="cto", dimension="seniority", value="Executive")
    run()
    clock.tick(minutes=5)
    sf_org.update("Contact", world["contacts"][2], {"Title": "CTO"})
    r = run()
    assert Contact.objects.get(sf_id=world["contacts"][2]).seniority == "Executive"
    assert r.counts["Contact"]["reclassified"] == 1
    sf_row = next(c for c in sf_org.rows("Contact") if c["Id"] == world["contacts"][2])
    assert sf_row["Seniority__c"] == "Executive"


def test_a_new_website_rebuilds_domains_and_rematches_activity(sf_org, sf_client, world, clock):
    run()
    clock.tick(minutes=5)
    sf_org.update("Account", world["account"], {"Alternate_Domains__c": "acme-eu.com"})
    run()
    account = Account.objects.get(sf_id=world["account"])
    assert set(AccountDomain.objects.filter(account=account).values_list("domain", flat=True)) == {
        "acme.com",
        "acme-eu.com",
    }


def test_the_budget_stops_a_pull_and_the_next_run_resumes(sf_org, sf_client, world, clock):
    sf_org.bulk_insert(
        "Contact", ({"LastName": f"B{i}", "AccountId": world["account"]} for i in range(4500))
    )
    sf_org.api_limit = 1000
    sf_org.reset_api_usage(195)
    from crmbridge.models import GlobalSettings

    GlobalSettings.objects.update_or_create(pk=1, defaults={"api_budget_percent": 20})
    r = run()  # 200 allowed: the limits call, User, Account, and some Contact pages fit
    assert r.state == "budget"
    assert "budget" in r.message
    assert 0 < Contact.objects.count() < 4505
    sf_org.reset_api_usage(0)
    r2 = run()
    assert r2.state == "succeeded", r2.message
    assert Contact.objects.count() == 4505
    assert Contact.objects.values("sf_id").distinct().count() == 4505
    assert SyncRun.objects.count() == 2
