from datetime import UTC, datetime

import pytest

from accounts.models import Account, Contact
from crmbridge.bulk import instance_build, rows_insert, rows_update_values
from integrations.outbox.models import OutboxItem
from integrations.sync.models import PulledValues

pytestmark = pytest.mark.django_db


def _item(n):
    return OutboxItem.objects.create(
        sobject="Contact", operation="upsert", crmbridge_id=f"c{n}", payload={"n": n}
    )


def test_it_gives_each_row_its_own_values_and_leaves_others_alone():
    first, second, untouched = _item(1), _item(2), _item(3)
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)

    updated = rows_update_values(
        model=OutboxItem,
        fields=["sf_id", "sent_at", "payload", "claimed_at"],
        rows=[(first.pk, "003A", at, {"x": [1]}, None), (second.pk, "003B", None, {}, at)],
    )

    assert updated == 2
    first.refresh_from_db()
    second.refresh_from_db()
    untouched.refresh_from_db()
    assert (first.sf_id, first.sent_at, first.payload, first.claimed_at) == (
        "003A",
        at,
        {"x": [1]},
        None,
    )
    assert (second.sf_id, second.sent_at, second.payload, second.claimed_at) == (
        "003B",
        None,
        {},
        at,
    )
    assert (untouched.sf_id, untouched.payload) == ("", {"n": 3})


def test_shared_values_reach_every_row_of_every_chunk():
    items = OutboxItem.objects.bulk_create(
        OutboxItem(sobject="Contact", operation="upsert", crmbridge_id=f"c{n}") for n in range(600)
    )
    untouched = _item(9999)
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)

    updated = rows_update_values(
        model=OutboxItem,
        fields=["sf_id"],
        rows=[(item.pk, f"003{n:015d}") for n, item in enumerate(items)],  # two chunks of 500
        shared={"state": "sent", "sent_at": at, "claimed_at": None, "last_error": ""},
    )

    assert updated == 600
    stored = {i.pk: i for i in OutboxItem.objects.exclude(pk=untouched.pk)}
    assert {(i.state, i.sent_at, i.claimed_at) for i in stored.values()} == {("sent", at, None)}
    assert [stored[item.pk].sf_id for item in items] == [f"003{n:015d}" for n in range(600)]
    untouched.refresh_from_db()
    assert (untouched.state, untouched.sf_id) == ("pending", "")


def test_it_does_nothing_without_rows():
    assert rows_update_values(model=OutboxItem, fields=["sf_id"], rows=[]) == 0


def test_rows_insert_fills_defaults_and_keeps_types():
    at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    account = Account.objects.create(name="Acme")
    sent = rows_insert(
        model=Contact,
        rows=[
            {"sf_id": "003A", "last_name": "Ada", "account_id": account.pk, "sf_modstamp": at},
            {"sf_id": "003B", "last_name": "Bob", "department": None, "is_deleted": True},
        ],
    )
    assert sent == 2
    ada, bob = Contact.objects.order_by("sf_id")
    assert (ada.account, ada.sf_modstamp, ada.title, ada.created_by_crmbridge) == (
        account,
        at,
        "",
        False,
    )
    assert ada.local_modified_at is not None  # auto_now
    assert (bob.is_deleted, bob.department, bob.account) == (True, None, None)


def test_rows_insert_can_update_the_rows_whose_key_exists():
    PulledValues.objects.create(sobject="Contact", sf_id="003A", values={"title": "old"})
    rows_insert(
        model=PulledValues,
        rows=[
            {"sobject": "Contact", "sf_id": "003A", "values": {"title": "new"}},
            {"sobject": "Contact", "sf_id": "003B", "values": {}},
        ],
        conflict=("sf_id",),
        update=("values",),
    )
    assert dict(PulledValues.objects.values_list("sf_id", "values")) == {
        "003A": {"title": "new"},
        "003B": {},
    }


def test_rows_insert_without_update_fields_leaves_the_rows_whose_key_exists():
    PulledValues.objects.create(sobject="Contact", sf_id="003A", values={"title": "old"})
    sent = rows_insert(
        model=PulledValues,
        rows=[
            {"sobject": "Contact", "sf_id": "003A", "values": {"title": "new"}},
            {"sobject": "Contact", "sf_id": "003B", "values": {}},
        ],
        conflict=("sf_id",),
    )
    assert sent == 2
    assert dict(PulledValues.objects.values_list("sf_id", "values")) == {
        "003A": {"title": "old"},
        "003B": {},
    }


def test_objects_insert_stores_instances_as_built_and_gives_each_its_pk(
    rep_user, django_assert_num_queries
):
    from activities.models import Activity, Participant
    from crmbridge.bulk import objects_insert

    at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    activities = [
        Activity(source="t", external_id=f"e{n}", kind="email", occurred_at=at, owner=rep_user)
        for n in range(3)
    ]
    # Built before their activity has a pk, as ingestion does: the pk reaches them on insert.
    participants = [
        Participant(activity=a, email=f"p{n}@acme.com") for n, a in enumerate(activities)
    ]

    assert objects_insert(activities) is activities
    objects_insert(participants)
    items = objects_insert(
        [OutboxItem(sobject="Task", operation="upsert", crmbridge_id="x", payload={"a": [1, "é"]})]
    )

    stored = {a.pk: a for a in Activity.objects.filter(source="t")}
    assert sorted(stored) == sorted(a.pk for a in activities)
    for activity in activities:
        row = stored[activity.pk]
        assert (row.external_id, row.occurred_at, row.owner_id) == (
            activity.external_id,
            at,
            rep_user.pk,
        )
        assert (row.match_status, row.subject, row.created_at) == (
            "pending",
            "",
            activity.created_at,
        )
        assert activity.created_at is not None and not activity._state.adding
    assert set(Participant.objects.values_list("pk", "activity_id", "email", "role")) == {
        (p.pk, p.activity.pk, p.email, "to") for p in participants
    }
    with django_assert_num_queries(0):  # the parent object stays with its row
        assert participants[0].activity is activities[0]
    item = OutboxItem.objects.get(pk=items[0].pk)
    assert (item.payload, item.state, item.stage) == ({"a": [1, "é"]}, "pending", 3)


def test_objects_insert_refuses_a_duplicate_as_an_integrity_error(rep_user):
    from django.db import IntegrityError, transaction

    from activities.models import Activity
    from crmbridge.bulk import objects_insert

    at = datetime(2026, 1, 2, tzinfo=UTC)
    Activity.objects.create(
        source="t", external_id="same", kind="call", occurred_at=at, owner=rep_user
    )
    again = Activity(source="t", external_id="same", kind="call", occurred_at=at, owner=rep_user)

    with pytest.raises(IntegrityError), transaction.atomic():
        objects_insert([again])
    assert Activity.objects.filter(external_id="same").count() == 1


def test_instance_build_makes_the_instance_the_constructor_makes(django_assert_num_queries):
    account = Account.objects.create(sf_id="001A", name="Acme")
    values = {"first_name": "Ada", "last_name": "Byron", "account": account, "owner_id": None}

    with django_assert_num_queries(0):
        built, expected = instance_build(Contact, values), Contact(**values)
        assert built.account is account  # cached, as the constructor caches it: no query
        assert built.owner is None
    columns = [f.attname for f in Contact._meta.concrete_fields]
    assert [getattr(built, c) for c in columns] == [getattr(expected, c) for c in columns]
    assert (built._state.adding, built._state.db) == (expected._state.adding, expected._state.db)
    # A callable default is called for each instance, as the constructor calls it.
    first, second = (instance_build(OutboxItem, {"sobject": "Task"}) for _ in range(2))
    first.payload["WhoId"] = "003A"
    assert second.payload == {}
    built.save()
    assert Contact.objects.get(pk=built.pk).account_id == account.pk
    with pytest.raises(TypeError, match="no field 'nickname'"):
        instance_build(Contact, {"nickname": "A"})
    # A related instance of the wrong model is refused, as the constructor refuses it.
    item = _item(1)
    with pytest.raises(ValueError) as by_constructor:
        Contact(account=item)
    with pytest.raises(ValueError) as built_so:
        instance_build(Contact, {"account": item})
    assert str(built_so.value) == str(by_constructor.value)


def test_instance_build_lets_init_signal_receivers_see_the_instance():
    from django.db.models.signals import post_init

    account = Account.objects.create(sf_id="001A", name="Acme")
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append((instance.first_name, instance.account_id))

    post_init.connect(receiver, sender=Contact)
    try:
        instance_build(Contact, {"first_name": "Ada", "last_name": "Byron", "account": account})
    finally:
        post_init.disconnect(receiver, sender=Contact)
    assert seen == [("Ada", account.pk)]


def test_instance_build_tells_the_other_side_of_a_one_to_one(django_assert_num_queries):
    from activities.models import ContactDecision, Participant

    participant = Participant(email="jane@acme.com")
    with django_assert_num_queries(0):
        decision = instance_build(ContactDecision, {"participant": participant})
        assert participant.contact_decision is decision  # as ContactDecision(participant=...)
