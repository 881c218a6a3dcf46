import itertools
from datetime import timedelta

from django.utils import timezone

from accounts.models import Account, Contact, Opportunity
from activities.engagement import executive_engaged
from activities.models import Activity, Participant
from classification import selectors, services
from classification.models import ClassificationSettings, ReclassificationRun
from integrations.outbox.models import OutboxItem


def test_a_rule_change_reclassifies_only_the_contacts_that_change(
    db, make_contact, django_capture_on_commit_callbacks
):
    pulled = make_contact("Technical Lead", sf_id="003000000000001AAA")
    ours = make_contact("Technical Writer", crmbridge_id="c" * 32)
    local_only = make_contact("Technical Architect")
    already = make_contact(
        "Technical Director", sf_id="003000000000002AAA", department="Engineering"
    )
    other = make_contact("Chef", sf_id="003000000000003AAA", department="Kitchen")

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


def test_it_works_in_batches_and_records_progress(db, make_contact):
    for i in range(7):
        make_contact(f"Finance Analyst {i}")
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


def test_a_run_is_not_taken_twice(db, make_contact):
    run = services.reclassification_enqueue(reason="test")
    services.contacts_reclassify(run_id=run.pk)
    finished = services.contacts_reclassify(run_id=run.pk)
    assert finished.state == ReclassificationRun.State.DONE


def test_queued_changes_share_one_run(db):
    services.rule_create(keyword="Finance", dimension="department", value="Finance")
    services.rule_create(keyword="Marketing", dimension="department", value="Marketing")
    assert ReclassificationRun.objects.count() == 1


def test_with_clear_unmatched_a_deleted_rule_clears_the_value(
    db, make_contact, django_capture_on_commit_callbacks
):
    settings = ClassificationSettings.load()
    settings.clear_unmatched = True
    settings.save()
    contact = make_contact("Finance Director", sf_id="003000000000009AAA")
    with django_capture_on_commit_callbacks(execute=True):
        rule, _ = services.rule_create(keyword="Finance", dimension="department", value="Finance")
    contact.refresh_from_db()
    assert contact.department == "Finance"
    with django_capture_on_commit_callbacks(execute=True):
        services.rule_delete(rule=rule)
    contact.refresh_from_db()
    assert contact.department is None
    assert OutboxItem.objects.filter(sf_id=contact.sf_id).count() == 2


def test_the_unclassified_queue_lists_titles_most_frequent_first(db, make_contact):
    for _ in range(3):
        make_contact("Head of Growth")
    make_contact("Zookeeper")
    make_contact("Zookeeper")
    make_contact("Astronaut")
    make_contact("Classified", seniority="Manager")
    make_contact("", seniority=None)
    make_contact("Gone", is_deleted=True)
    queue = selectors.unclassified_titles(dimension="seniority")
    assert queue == [
        {"title": "Head of Growth", "contacts": 3},
        {"title": "Zookeeper", "contacts": 2},
        {"title": "Astronaut", "contacts": 1},
    ]
    assert selectors.unclassified_count(dimension="seniority") == 3


_ACTIVITY_SEQ = itertools.count(1)


def _activity(owner, *, days_ago, account=None, opportunity=None):
    n = [next(_ACTIVITY_SEQ)]
    return Activity.objects.create(
        external_id=f"act-{n[0]}",
        kind=Activity.Kind.MEETING,
        occurred_at=timezone.now() - timedelta(days=days_ago),
        owner=owner,
        account=account,
        opportunity=opportunity,
    )


def test_executive_engaged_counts_recent_executives_per_account_and_opportunity(
    db, rep_user, make_contact
):
    acme = Account.objects.create(name="Acme")
    globex = Account.objects.create(name="Globex")
    deal = Opportunity.objects.create(name="Acme renewal", account=acme)
    vp = make_contact("VP Sales", seniority="Vice President", account=acme)
    ceo = make_contact("CEO", seniority="Executive", account=acme)
    manager = make_contact("Manager", seniority="Manager", account=acme)
    stale = make_contact("CFO", seniority="Executive", account=globex)

    recent = _activity(rep_user, days_ago=3, account=acme, opportunity=deal)
    older = _activity(rep_user, days_ago=30, account=acme)
    long_ago = _activity(rep_user, days_ago=120, account=globex)
    for activity, contact in [
        (recent, vp),
        (older, vp),
        (older, ceo),
        (recent, manager),
        (long_ago, stale),
    ]:
        Participant.objects.create(activity=activity, email=contact.email, contact=contact)

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


def test_executive_engaged_api(api_as, csm_user, rep_user, make_contact):
    acme = Account.objects.create(name="Acme")
    vp = make_contact("VP Sales", seniority="Vice President", account=acme)
    activity = _activity(rep_user, days_ago=1, account=acme)
    Participant.objects.create(activity=activity, email=vp.email, contact=vp)
    url = "/api/v1/classification/executive-engaged/"
    body = api_as(csm_user).get(url, {"accounts": str(acme.id)}).json()
    assert body["accounts"][0]["account"] == acme.id
    assert body["accounts"][0]["executives_engaged"] == 1
    assert api_as(csm_user).get(url, {"accounts": "x"}).status_code == 400
    assert api_as(rep_user).get(url).status_code == 403


def test_a_long_run_continues_in_a_new_task_from_where_it_stopped(
    db, make_contact, django_capture_on_commit_callbacks
):
    contacts = [make_contact(f"Finance Analyst {i}") for i in range(7)]
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
