"""What is created: names from their sources, Lead mode, contact roles, Tasks and Events once,
attribute updates that never blank a field, Leads that already exist."""

import pytest

from accounts.models import Contact, Lead, OpportunityContactRole
from activities.models import ActivityLog, ContactAttributeChange, ContactDecision
from activities.names import name_from_address, name_from_display, parse_signature
from integrations.outbox.models import OutboxItem
from tests.factories import ContactFactory, LeadFactory


@pytest.mark.parametrize(
    "display, expected",
    [
        ("Doe, Jane", ("Jane", "Doe")),
        ("Jane Q. Doe", ("Jane", "Doe")),
        ("Dr. Jane Doe", ("Jane", "Doe")),
        ("'Jane Doe' (Acme)", ("Jane", "Doe")),
        ("JANE DOE", ("Jane", "Doe")),
        ("jane.doe@acme.com", ("", "")),
        ("", ("", "")),
    ],
)
def test_it_reads_names_from_display_names(display, expected):
    assert name_from_display(display) == expected


def test_it_reads_a_name_from_the_address_only_when_it_says_both():
    assert name_from_address("jane.doe@acme.com") == ("Jane", "Doe")
    assert name_from_address("jane_doe@acme.com") == ("Jane", "Doe")
    assert name_from_address("jdoe@acme.com") == ("", "")
    assert name_from_address("jane@acme.com") == ("", "")
    assert name_from_address("info2@acme.com") == ("", "")


def test_it_reads_a_signature_block_and_ignores_the_quoted_reply():
    sig = parse_signature(
        "Hello,\n\nworks for me.\n\nThanks,\nJane\n\nJane Doe\nDirector, Finance\n"
        "Acme GmbH\nFriedrichstr. 1, 10117 Berlin, Germany\n+49 30 1234567\n\n"
        "On Tue, Rex wrote:\n> Best,\n> Rex Rep\n"
    )
    assert (sig.first_name, sig.last_name) == ("Jane", "Doe")
    assert sig.title == "Director, Finance"
    assert sig.company == "Acme GmbH"
    assert sig.country == "Germany"
    assert sig.phone == "+49 30 1234567"


@pytest.mark.django_db
def test_the_display_name_wins_over_signature_and_address(ingest, acme):
    body = "Hi\n\nBest,\nJanet Smith\nCFO\n"
    ingest([{"email": "jane.doe@acme.com", "name": "Doe, Jane", "role": "from"}], body=body)
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Jane", "Doe")


@pytest.mark.django_db
def test_the_signature_wins_over_the_address(ingest, acme):
    body = "Hi\n\nBest,\nJanet Smith\nCFO\n"
    ingest([{"email": "jane.doe@acme.com", "role": "from"}], body=body)
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.title) == ("Janet", "Smith", "CFO")


@pytest.mark.django_db
def test_a_signature_is_read_only_from_the_sender(ingest, acme):
    body = "Hi\n\nBest,\nJanet Smith\nCFO\n"
    activity = ingest(
        [{"email": "jdoe@acme.com", "role": "to"}, {"email": "boss@acme.com", "role": "from"}],
        body=body,
    )
    decision = ContactDecision.objects.get(activity=activity, email="jdoe@acme.com")
    assert decision.failed_codes == ["missing_first_name", "missing_last_name"]


@pytest.mark.django_db
def test_the_address_is_the_last_resort(ingest, acme):
    ingest([{"email": "jane.doe@acme.com"}])
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Jane", "Doe")
    assert contact.title == "" and contact.department is None and contact.seniority is None


@pytest.mark.django_db
def test_lead_mode_creates_a_lead_with_the_account_name_as_company(ingest, acme, org_settings):
    org_settings.create_as = "lead"
    org_settings.save()
    activity = ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])
    lead = Lead.objects.get()
    assert lead.company == "Acme" and lead.created_by_crmbridge
    assert not Contact.objects.exists()
    assert ContactDecision.objects.get(activity=activity).outcome == "created_lead"
    row = OutboxItem.objects.get(sobject="Lead")
    assert row.payload["Company"] == "Acme" and row.payload["LeadSource"] == "crmbridge"
    assert ActivityLog.objects.get(activity=activity).lead == lead


@pytest.mark.django_db
def test_it_adds_a_contact_role_only_when_an_opportunity_matched(ingest, acme, acme_deal):
    activity = ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])
    assert activity.opportunity == acme_deal
    role = OpportunityContactRole.objects.get()
    assert role.opportunity == acme_deal and role.contact.email == "jane.doe@acme.com"
    assert OutboxItem.objects.filter(sobject="OpportunityContactRole").count() == 1


@pytest.mark.django_db
def test_it_adds_no_contact_role_without_an_opportunity(ingest, acme):
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])
    assert Contact.objects.count() == 1
    assert not OpportunityContactRole.objects.exists()
    assert not OutboxItem.objects.filter(sobject="OpportunityContactRole").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind, sobject", [("email", "Task"), ("call", "Task"), ("meeting", "Event")]
)
def test_it_logs_a_task_for_email_and_call_and_an_event_for_a_meeting(
    ingest, acme, rep_sf, kind, sobject
):
    activity = ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}], kind=kind)
    log = ActivityLog.objects.get(activity=activity)
    assert log.sobject == sobject
    row = OutboxItem.objects.get(crmbridge_id=log.crmbridge_id)
    assert row.sobject == sobject
    assert row.payload["Subject"] == "Hello"
    assert row.payload["OwnerId"] == rep_sf.sf_id
    assert row.payload["WhatId"] == acme.sf_id
    assert row.payload["WhoId"]["$ref"] == f"accounts.contact:{log.contact.pk}"


@pytest.mark.django_db
def test_an_activity_sent_again_is_logged_once(ingest, acme):
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}], ext="same")
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}], ext="same")
    assert ActivityLog.objects.count() == 1
    assert OutboxItem.objects.filter(sobject="Task").count() == 1
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_an_existing_contact_gets_the_activity_logged_and_no_new_contact(ingest, acme):
    existing = ContactFactory(
        sf_id="003000000000001AAA", first_name="Jane", last_name="Doe",
        email="jane.doe@acme.com", account=acme,
    )  # fmt: skip
    activity = ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])
    assert Contact.objects.count() == 1
    decision = ContactDecision.objects.get(activity=activity)
    assert decision.outcome == "existing_contact" and decision.contact == existing
    row = OutboxItem.objects.get(sobject="Task")
    assert row.payload["WhoId"] == existing.sf_id


@pytest.mark.django_db
def test_a_participant_with_a_lead_gets_the_activity_on_the_lead(ingest, acme):
    lead = LeadFactory(
        sf_id="00Q000000000001AAA", first_name="Jane", last_name="Doe",
        email="jane.doe@acme.com", company="Acme",
    )  # fmt: skip
    activity = ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])
    assert not Contact.objects.exists()
    assert ContactDecision.objects.get(activity=activity).outcome == "existing_lead"
    log = ActivityLog.objects.get(activity=activity)
    assert log.lead == lead
    assert OutboxItem.objects.get(sobject="Task").payload["WhoId"] == lead.sf_id


@pytest.fixture
def jane_existing(acme):
    return ContactFactory(
        sf_id="003000000000002AAA", first_name="Jane", last_name="Doe",
        email="jane.doe@acme.com", account=acme, title="Manager", phone="+1 555 0100",
    )  # fmt: skip


@pytest.mark.django_db
def test_attribute_updates_bring_a_newer_title_and_record_it(ingest, jane_existing, org_settings):
    org_settings.auto_attribute_updates = True
    org_settings.save()
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe", "title": "Director"}])
    jane_existing.refresh_from_db()
    assert jane_existing.title == "Director"
    assert jane_existing.phone == "+1 555 0100"
    change = ContactAttributeChange.objects.get(contact=jane_existing)
    assert (change.field, change.old_value, change.new_value) == ("title", "Manager", "Director")
    update = OutboxItem.objects.get(sobject="Contact")
    assert update.operation == "update" and update.sf_id == jane_existing.sf_id
    assert update.payload == {"Title": "Director"}


@pytest.mark.django_db
def test_attribute_updates_never_blank_a_field(ingest, jane_existing, org_settings):
    org_settings.auto_attribute_updates = True
    org_settings.save()
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe", "title": "", "phone": ""}])
    jane_existing.refresh_from_db()
    assert (jane_existing.title, jane_existing.phone) == ("Manager", "+1 555 0100")
    assert not ContactAttributeChange.objects.exists()
    assert not OutboxItem.objects.filter(sobject="Contact").exists()


@pytest.mark.django_db
def test_attribute_updates_are_off_unless_turned_on(ingest, jane_existing):
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe", "title": "Director"}])
    jane_existing.refresh_from_db()
    assert jane_existing.title == "Manager"


@pytest.fixture
def title_rules(db):
    from classification.services import rule_create, value_ensure

    for dimension, keyword, value in [
        ("department", "Sales", "Sales"),
        ("seniority", "Vice President", "Vice President"),
        ("seniority", "VP", "Vice President"),
    ]:
        value_ensure(dimension=dimension, value=value)
        rule_create(keyword=keyword, dimension=dimension, value=value)


@pytest.mark.django_db
def test_new_contacts_are_classified_by_the_active_rules(ingest, acme, title_rules):
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe", "title": "VP, Inside Sales"}])
    ingest([{"email": "bob.stone@acme.com", "name": "Bob Stone", "title": "Chief of Staff"}])
    jane = Contact.objects.get(email="jane.doe@acme.com")
    assert (jane.department, jane.seniority) == ("Sales", "Vice President")
    row = OutboxItem.objects.get(crmbridge_id=jane.crmbridge_id)
    assert row.payload["Department"] == "Sales"
    assert row.payload["Seniority__c"] == "Vice President"
    bob = Contact.objects.get(email="bob.stone@acme.com")
    assert (bob.department, bob.seniority) == (None, None)  # unclassified: NULL, never a guess


@pytest.mark.django_db
def test_an_older_activity_does_not_undo_a_newer_title(
    ingest, jane_existing, org_settings, rep_user
):
    from activities.services import activity_ingest_many

    org_settings.auto_attribute_updates = True
    org_settings.save()

    def send(ext, when, title):
        activity_ingest_many(
            items=[
                {"external_id": ext, "kind": "call", "occurred_at": when, "owner": rep_user.email,
                 "participants": [{"email": "jane.doe@acme.com", "name": "Jane Doe",
                                   "title": title}]},
            ]
        )  # fmt: skip

    send("new", "2026-11-20T10:00:00Z", "Director")
    send("old", "2026-10-01T10:00:00Z", "Intern")
    jane_existing.refresh_from_db()
    assert jane_existing.title == "Director"
    assert list(ContactAttributeChange.objects.values_list("new_value", flat=True)) == ["Director"]


@pytest.mark.django_db
def test_one_batch_with_the_same_new_person_twice_creates_one_contact(rep_user, acme, org_settings):
    from activities.services import activity_ingest_many

    org_settings.auto_attribute_updates = True
    org_settings.save()
    items = [
        {"external_id": f"b{k}", "kind": "email", "occurred_at": f"2026-11-2{k}T10:00:00Z",
         "owner": rep_user.email, "subject": f"Mail {k}",
         "participants": [{"email": "jane.doe@acme.com", "name": "Jane Doe",
                           "title": ["Manager", "Director"][k]}]}
        for k in range(2)
    ]  # fmt: skip
    activity_ingest_many(items=items)
    assert Contact.objects.count() == 1
    assert ActivityLog.objects.count() == 2
    assert sorted(ContactDecision.objects.values_list("outcome", flat=True)) == [
        "created_contact",
        "existing_contact",
    ]


@pytest.mark.django_db
def test_contact_creation_reads_a_bounded_number_of_queries(
    rep_user, acme, org_settings, django_assert_max_num_queries
):
    from activities.services import activity_ingest_many

    def suffix(k):  # letters only: an address with digits gives no name
        return chr(97 + k // 26) + chr(97 + k % 26)

    def items(prefix, n):
        return [
            {"external_id": f"{prefix}{k}", "kind": "email", "occurred_at": "2026-11-20T10:00:00Z",
             "owner": rep_user.email, "subject": "Hi",
             "participants": [{"email": f"jane.{prefix}{suffix(k)}@acme.com"}]}
            for k in range(n)
        ]  # fmt: skip

    activity_ingest_many(items=items("warm", 1))
    with django_assert_max_num_queries(60):
        activity_ingest_many(items=items("x", 40))
    assert Contact.objects.count() == 41


@pytest.mark.django_db
def test_edit_match_decides_again_on_the_same_decision_row(ingest, acme, rep_user):
    from activities.rematch import activity_match_edit
    from tests.factories import AccountFactory

    activity = ingest([{"email": "jane.doe@nowhere-known.com", "name": "Jane Doe"}])
    before = ContactDecision.objects.get(email="jane.doe@nowhere-known.com")
    assert (before.outcome, before.contact) == ("not_created", None)
    assert "activity_unmatched" in before.failed_codes

    activity_match_edit(activity=activity, account=AccountFactory(name="Far"), user=rep_user)

    after = ContactDecision.objects.get(email="jane.doe@nowhere-known.com")
    assert after.pk == before.pk
    assert after.outcome == "not_created"
    assert after.failed_codes == ["domain_unmatched"]  # the activity is matched now
    assert after.activity_id == activity.pk and after.contact is None


@pytest.mark.django_db
def test_a_decision_taken_again_names_the_contact_it_now_logs_on(ingest, acme, rep_user):
    from activities.rematch import activity_match_edit

    activity = ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])
    made = Contact.objects.get(email="jane.doe@acme.com")
    ContactDecision.objects.update(outcome="not_created", contact=None, checks=[])

    activity_match_edit(activity=activity, account=acme, user=rep_user)

    decision = ContactDecision.objects.get()
    assert (decision.outcome, decision.contact) == ("existing_contact", made)
    assert [c["code"] for c in decision.checks] == ["existing_contact"]
