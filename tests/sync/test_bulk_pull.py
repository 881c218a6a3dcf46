"""A first pull of a large org reads it with Bulk API 2.0 query jobs; incremental runs use REST."""

import pytest
from django.apps import apps
from django.db import connection, models

from accounts.models import AccountDomain, Contact
from integrations.salesforce import SalesforceClient
from integrations.salesforce.objects import MIRRORED
from integrations.sync.models import PulledValues, SyncRun, Watermark
from integrations.sync.pull import mirror_pull
from integrations.sync.runlog import RunLog
from integrations.sync.services import sync_run_execute

pytestmark = pytest.mark.django_db

ROLE = "OpportunityContactRole"


@pytest.fixture
def org_world(sf_org, clock):
    """Every mirrored object, with booleans both ways, dates, nulls, a deleted record, commas
    and quotes in values, a Contact without an Account."""
    rex = sf_org.insert("User", {"Name": "Rex", "Email": "rex@crmbridge.example", "Username": "r"})
    sf_org.insert(
        "User", {"Name": "Gone", "Email": "g@crmbridge.example", "Username": "g", "IsActive": False}
    )
    acme = sf_org.insert(
        "Account",
        {
            "Name": 'Acme, "the" Company',
            "Website": "https://www.acme.com",
            "Alternate_Domains__c": "acme.io; acme.de",
            "OwnerId": rex,
        },
    )
    other = sf_org.insert("Account", {"Name": "Globex", "Website": "globex.com"})
    contacts = []
    for i in range(12):
        clock.tick(minutes=1)
        contacts.append(
            sf_org.insert(
                "Contact",
                {
                    "FirstName": None if i == 3 else f"Ann{i}",
                    "LastName": f"Person {i}",
                    "Email": f"p{i}@acme.com",
                    "Title": "VP, Sales" if i % 3 else None,
                    "Phone": "+1 555 0100" if i % 2 else None,
                    "MailingCountry": "DE",
                    "AccountId": None if i == 5 else (acme if i % 2 else other),
                    "OwnerId": rex,
                },
            )
        )
    sf_org.delete("Contact", contacts[7])
    sf_org.insert(
        "Lead",
        {"LastName": "Lee", "Company": "Initech", "Email": "lee@initech.com", "Status": "Open"},
    )
    opp = sf_org.insert(
        "Opportunity",
        {"Name": "Deal", "StageName": "Closed Won", "CloseDate": "2026-12-01", "AccountId": acme},
    )
    sf_org.insert(
        "OpportunityContactRole",
        {
            "OpportunityId": opp,
            "ContactId": contacts[1],
            "Role": "Decision Maker",
            "IsPrimary": True,
        },
    )
    clock.tick(minutes=5)
    return {"contacts": contacts}


def mirror_snapshot() -> dict:
    """Every mirrored row by Salesforce Id, references as Salesforce Ids, without local keys and
    local timestamps."""
    out = {}
    for spec in MIRRORED:
        model = apps.get_model(spec.model)
        names = []
        for f in model._meta.concrete_fields:
            if f.primary_key or f.name == "local_modified_at":
                continue
            mirrored = isinstance(f, models.ForeignKey) and hasattr(f.related_model, "sf_id")
            names.append(f"{f.name}__sf_id" if mirrored else f.attname)
        out[spec.sobject] = list(model.objects.order_by("sf_id").values(*names))
    out["domains"] = sorted(AccountDomain.objects.values_list("account__sf_id", "domain", "source"))
    out["pulled"] = sorted(PulledValues.objects.values_list("sf_id", "values"), key=str)
    return out


def clear_mirror():
    for spec in reversed(MIRRORED):
        apps.get_model(spec.model).objects.all().delete()
    for model in (AccountDomain, PulledValues, Watermark, SyncRun):
        model.objects.all().delete()


def run(kind="sync"):
    return sync_run_execute(kind=kind, trigger="command")


def test_a_large_first_pull_uses_bulk_jobs_and_mirrors_what_rest_pages_would(
    sf_org, sf_client, org_world, settings
):
    settings.SYNC_BULK_THRESHOLD = 10**9
    sf_org.stats.reset()
    by_rest = run()
    assert by_rest.state == "succeeded", by_rest.message
    assert sf_org.stats["POST jobs/query"] == 0
    rest_mirror = mirror_snapshot()
    assert len(rest_mirror["Contact"]) == 11

    clear_mirror()
    settings.SYNC_BULK_THRESHOLD = 1
    sf_org.stats.reset()
    by_bulk = run()
    assert by_bulk.state == "succeeded", by_bulk.message
    assert sf_org.stats["POST jobs/query"] == len(MIRRORED)
    assert mirror_snapshot() == rest_mirror
    assert by_bulk.counts["Contact"]["pulled"] == by_rest.counts["Contact"]["pulled"] == 11
    marks = dict(Watermark.objects.values_list("sobject", "modstamp"))
    assert marks["Contact"] == max(c.sf_modstamp for c in Contact.objects.all())


def test_only_objects_over_the_threshold_use_a_bulk_job(sf_org, sf_client, org_world, settings):
    settings.SYNC_BULK_THRESHOLD = 10
    sf_org.stats.reset()
    assert run().state == "succeeded"
    [job] = sf_org.query_jobs.jobs.values()
    assert job.sobject == "Contact" and job.operation == "queryAll"
    assert sf_org.stats["POST jobs/query"] == 1
    assert sf_org.stats["GET queryAll"] == len(MIRRORED)  # Contact's first page told its size
    assert sf_org.stats["GET queryAll/{locator}"] == 0
    assert Contact.objects.count() == 11


def test_incremental_runs_stay_on_rest(sf_org, sf_client, org_world, clock, settings):
    settings.SYNC_BULK_THRESHOLD = 1
    assert run().state == "succeeded"
    clock.tick(minutes=30)
    sf_org.update("Contact", org_world["contacts"][0], {"Title": "CFO"})
    clock.tick(minutes=1)
    sf_org.stats.reset()
    again = run()
    assert again.state == "succeeded", again.message
    assert sf_org.stats["POST jobs/query"] == 0
    assert sf_org.stats["GET queryAll"] == len(MIRRORED)
    assert Contact.objects.get(sf_id=org_world["contacts"][0]).title == "CFO"


def test_a_failed_bulk_job_fails_the_run_with_salesforce_s_reason(
    sf_org, sf_client, org_world, settings
):
    settings.SYNC_BULK_THRESHOLD = 10
    sf_org.query_jobs.fail_next(message="Query timed out after 10 minutes")
    r = run()
    assert r.state == "failed"
    assert "Bulk API query job" in r.message and "Contact" in r.message
    assert "Query timed out after 10 minutes" in r.message
    assert Contact.objects.count() == 0
    assert not Watermark.objects.filter(sobject="Contact", modstamp__isnull=False).exists()


def test_a_dropped_connection_reads_the_same_set_again_without_a_new_job(sf_org, org_world):
    client = SalesforceClient.for_emulator(sf_org, base_delay=0)
    sf_org.faults.fail_next(1, kind="connection", endpoint="GET jobs/query/{id}/results")
    sf_org.stats.reset()
    got = list(client.bulk_query_iter("Contact", "SELECT Id FROM Contact", max_records=5))
    assert sorted(r["Id"] for r in got) == sorted(
        c for i, c in enumerate(org_world["contacts"]) if i != 7
    )
    assert sf_org.stats["POST jobs/query"] == 1
    assert sf_org.stats["GET jobs/query/{id}/results"] == 4  # 5 + 5 + 1, one of them twice


def test_a_record_whose_parent_is_not_mirrored_is_skipped_and_named_either_way(
    sf_client, org_world, settings
):
    """Contact roles pulled without their Contacts: each is skipped with the same error,
    whether REST pages or a query job bring them."""

    def pull_roles_only():
        sync_run = SyncRun.objects.create(kind="pull", trigger="command")
        runlog = RunLog(sync_run, None)
        mirror_pull(client=sf_client, runlog=runlog, sobjects=["Opportunity", ROLE])
        runlog.flush()
        errors = list(sync_run.errors.values_list("sobject", "record", "error_code"))
        return runlog.counts[ROLE], errors

    settings.SYNC_BULK_THRESHOLD = 10**9
    by_rest = pull_roles_only()
    clear_mirror()
    settings.SYNC_BULK_THRESHOLD = 1
    by_bulk = pull_roles_only()
    assert by_bulk == by_rest
    assert by_rest[0] == {"skipped": 1}
    assert [code for _, _, code in by_rest[1]] == ["PARENT_NOT_MIRRORED"]


def schema_of(model) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass "
            "UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass",
            [model._meta.db_table] * 2,
        )
        return sorted(row[0] for row in cursor.fetchall())


def test_a_bulk_pull_leaves_the_mirror_s_indexes_and_foreign_keys_as_they_were(
    sf_org, sf_client, org_world, settings
):
    """On PostgreSQL a first pull fills an empty table by COPY and INSERT ... SELECT: its
    indexes and foreign keys are all as they were after it, and after a pull whose job failed
    (none is ever dropped to load faster: that would lock the tables it references)."""
    if connection.vendor != "postgresql":
        pytest.skip("the SQL path of the bulk pull is PostgreSQL's only")
    models_ = [apps.get_model(spec.model) for spec in MIRRORED]
    before = [schema_of(m) for m in models_]
    assert any("FOREIGN KEY" in d for d in schema_of(Contact))
    settings.SYNC_BULK_THRESHOLD = 10
    sf_org.query_jobs.fail_next(message="Query timed out after 10 minutes")
    assert run().state == "failed"
    assert [schema_of(m) for m in models_] == before
    clear_mirror()
    settings.SYNC_BULK_THRESHOLD = 1
    assert run().state == "succeeded"
    assert Contact.objects.count() == 11
    assert [schema_of(m) for m in models_] == before
