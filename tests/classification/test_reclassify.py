import threading

import pytest
from django.db import connection

from accounts.models import Contact
from activities.engagement import executive_engaged
from activities.models import Activity
from classification import selectors, services
from classification.models import ClassificationSettings, ReclassificationRun
from integrations.outbox.models import OutboxItem
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    OpportunityFactory,
    ParticipantFactory,
)


def test_a_rule_change_reclassifies_only_the_contacts_that_change(
    db, django_capture_on_commit_callbacks
):
    pulled = ContactFactory(title="Technical Lead", sf_id="003000000000001AAA")
    ours = ContactFactory(title="Technical Writer", crmbridge_id="c" * 32, local=True)
    local_only = ContactFactory(title="Technical Architect", local=True)
    already = ContactFactory(
        title="Technical Director", sf_id="003000000000002AAA", department="Engineering"
    )
    other = ContactFactory(title="Chef", sf_id="003000000000003AAA", department="Kitchen")

    with django_capture_on_commit_callbacks(execute=True):
        services.rule_create(keyword="Technical", dimension="department", value="Engineering")

    run = ReclassificationRun.objects.get()
    assert run.state == ReclassificationRun.State.DONE
    assert (run.total, run.processed, run.changed, run.outbox_queued) == (5, 5, 3, 2)
    assert run.finished_at is not None and run.percent == 100

    departments = dict(Contact.objects.values_list("id", "department"))
    assert (
        departments[pulled.id]
        == departments[ours.id]
        == departments[local_only.id]
        == "Engineering"
    )
    assert departments[other.id] == "Kitchen"  # no rule matches: the org's value stays

    items = {item.local_ref: item for item in OutboxItem.objects.all()}
    assert set(items) == {f"accounts.contact:{pulled.id}", f"accounts.contact:{ours.id}"}
    update = items[f"accounts.contact:{pulled.id}"]
    assert update.operation == OutboxItem.Operation.UPDATE and update.sf_id == pulled.sf_id
    assert update.payload == {"Department": "Engineering", "Seniority__c": None}
    upsert = items[f"accounts.contact:{ours.id}"]
    assert upsert.operation == OutboxItem.Operation.UPSERT and upsert.crmbridge_id == "c" * 32
    assert f"accounts.contact:{already.id}" not in items


def test_it_works_in_batches_and_records_progress(db):
    for i in range(7):
        ContactFactory(title=f"Finance Analyst {i}", local=True)
    services.rule_create(keyword="Finance", dimension="department", value="Finance")
    run = ReclassificationRun.objects.get()  # queued; the test did not run on_commit hooks
    assert run.state == ReclassificationRun.State.QUEUED
    run = services.contacts_reclassify(run_id=run.pk, batch_size=3)
    assert (run.processed, run.changed) == (7, 7)
    assert not Contact.objects.exclude(department="Finance").exists()
    # A second pass writes nothing.
    again = services.reclassification_enqueue(reason="test")
    again = services.contacts_reclassify(run_id=again.pk, batch_size=3)
    assert (again.processed, again.changed, again.outbox_queued) == (7, 0, 0)


def test_a_run_is_not_taken_twice(db):
    run = services.reclassification_enqueue(reason="test")
    services.contacts_reclassify(run_id=run.pk)
    finished = services.contacts_reclassify(run_id=run.pk)
    assert finished.state == ReclassificationRun.State.DONE


def test_queued_changes_share_one_run(db):
    services.rule_create(keyword="Finance", dimension="department", value="Finance")
    services.rule_create(keyword="Marketing", dimension="department", value="Marketing")
    assert ReclassificationRun.objects.count() == 1


def test_with_clear_unmatched_a_deleted_rule_clears_the_value(
    db, django_capture_on_commit_callbacks
):
    settings = ClassificationSettings.load()
    settings.clear_unmatched = True
    settings.save()
    contact = ContactFactory(title="Finance Director", sf_id="003000000000009AAA")
    with django_capture_on_commit_callbacks(execute=True):
        rule, _ = services.rule_create(keyword="Finance", dimension="department", value="Finance")
    contact.refresh_from_db()
    assert contact.department == "Finance"
    with django_capture_on_commit_callbacks(execute=True):
        services.rule_delete(rule=rule)
    contact.refresh_from_db()
    assert contact.department is None
    assert OutboxItem.objects.filter(sf_id=contact.sf_id).count() == 2


def test_the_unclassified_queue_lists_titles_most_frequent_first(db):
    for _ in range(3):
        ContactFactory(title="Head of Growth", local=True)
    ContactFactory(title="Zookeeper", local=True)
    ContactFactory(title="Zookeeper", local=True)
    ContactFactory(title="Astronaut", local=True)
    ContactFactory(title="Classified", seniority="Manager", local=True)
    ContactFactory(title="", seniority=None, local=True)
    ContactFactory(title="Gone", is_deleted=True, local=True)
    queue = selectors.unclassified_titles(dimension="seniority")
    assert queue == [
        {"title": "Head of Growth", "contacts": 3},
        {"title": "Zookeeper", "contacts": 2},
        {"title": "Astronaut", "contacts": 1},
    ]
    assert selectors.unclassified_count(dimension="seniority") == 3


def test_executive_engaged_counts_recent_executives_per_account_and_opportunity(db, rep_user):
    acme = AccountFactory(name="Acme")
    globex = AccountFactory(name="Globex")
    deal = OpportunityFactory(name="Acme renewal", account=acme)
    vp = ContactFactory(title="VP Sales", seniority="Vice President", account=acme, local=True)
    ceo = ContactFactory(title="CEO", seniority="Executive", account=acme, local=True)
    manager = ContactFactory(title="Manager", seniority="Manager", account=acme, local=True)
    stale = ContactFactory(title="CFO", seniority="Executive", account=globex, local=True)

    meeting = {"owner": rep_user, "kind": Activity.Kind.MEETING}
    recent = ActivityFactory(**meeting, days_ago=3, account=acme, opportunity=deal)
    older = ActivityFactory(**meeting, days_ago=30, account=acme)
    long_ago = ActivityFactory(**meeting, days_ago=120, account=globex)
    for activity, contact in [
        (recent, vp),
        (older, vp),
        (older, ceo),
        (recent, manager),
        (long_ago, stale),
    ]:
        ParticipantFactory(activity=activity, contact=contact)

    found = executive_engaged()
    assert found["accounts"][acme.id]["count"] == 2
    assert [c["id"] for c in found["accounts"][acme.id]["contacts"]] == [vp.id, ceo.id]
    assert globex.id not in found["accounts"]
    assert found["opportunities"] == {
        deal.id: {"count": 1, "contacts": [found["accounts"][acme.id]["contacts"][0]]}
    }
    assert executive_engaged(account_ids=[globex.id])["accounts"] == {}

    settings = ClassificationSettings.load()
    settings.executive_seniorities = ["Manager"]
    settings.save()
    assert executive_engaged(account_ids=[acme.id])["accounts"][acme.id]["count"] == 1


def test_executive_engaged_api(api_as, csm_user, rep_user):
    acme = AccountFactory(name="Acme")
    vp = ContactFactory(title="VP Sales", seniority="Vice President", account=acme, local=True)
    ActivityFactory(owner=rep_user, kind=Activity.Kind.MEETING, account=acme, participants=[vp])
    url = "/api/v1/classification/executive-engaged/"
    body = api_as(csm_user).get(url, {"accounts": str(acme.id)}).json()
    assert body["accounts"][0]["account"] == acme.id
    assert body["accounts"][0]["executives_engaged"] == 1
    assert api_as(csm_user).get(url, {"accounts": "x"}).status_code == 400
    assert api_as(rep_user).get(url).status_code == 403


def test_a_long_run_continues_in_a_new_task_from_where_it_stopped(
    db, django_capture_on_commit_callbacks
):
    contacts = [ContactFactory(title=f"Finance Analyst {i}", local=True) for i in range(7)]
    services.rule_create(keyword="Finance", dimension="department", value="Finance")
    run = ReclassificationRun.objects.get()
    # No time left after the first batch: the run goes back to the queue with its resume point.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.contacts_reclassify(run_id=run.pk, batch_size=3, time_budget=0)
    assert run.state == ReclassificationRun.State.QUEUED
    assert (run.processed, run.last_contact_id) == (3, contacts[2].id)
    assert len(callbacks) == 1
    # A rule change meanwhile does not join this half-done run: it gets its own.
    other = services.reclassification_enqueue(reason="another change")
    assert other.pk != run.pk
    # The next task continues (and finishes, with the default budget).
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    run.refresh_from_db()
    assert run.state == ReclassificationRun.State.DONE
    assert (run.processed, run.changed, run.total) == (7, 7, 7)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI sets DATABASE_URL)"
)
def test_a_reclassification_batch_holds_up_no_activity_that_meets_its_contacts(
    monkeypatch, rep_user
):
    from activities.models import ActivityLog, ContactDecision
    from activities.services import activity_ingest
    from tests.factories import SalesforceUserFactory, activity_item

    SalesforceUserFactory(user=rep_user)
    acme = AccountFactory(name="Acme", website="acme.com")
    jane = ContactFactory(email="jane@acme.com", title="Finance Analyst", account=acme)
    run = ReclassificationRun.objects.create()
    locked, release = threading.Event(), threading.Event()
    classify = services.contacts_apply_classification

    def classify_slowly(**kwargs):  # a long batch: its Contacts stay locked meanwhile
        locked.set()
        release.wait(30)
        return classify(**kwargs)

    monkeypatch.setattr(services, "contacts_apply_classification", classify_slowly)

    def reclassify():
        try:
            services.contacts_reclassify(run_id=run.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=reclassify)
    worker.start()
    try:
        assert locked.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # waiting for the batch would fail here
        result = activity_ingest(item=activity_item(rep_user, emails=["jane@acme.com"]))
    finally:
        release.set()
        worker.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert result.status == "created"
    assert ContactDecision.objects.get(activity=result.activity).contact == jane
    assert ActivityLog.objects.filter(activity=result.activity, contact=jane).exists()
    assert ReclassificationRun.objects.get(pk=run.pk).state == ReclassificationRun.State.DONE
