"""Each gate alone failing, the profile overriding the global switch, required extra fields."""

import pytest

from accounts.models import Contact
from activities.decisions import check_message
from activities.models import ContactDecision
from tests.factories import AccountFactory, ConfigurationProfileFactory

JANE = {"email": "jane.doe@acme.com", "name": "Jane Doe", "title": "VP Sales"}


def decision_for(activity, email="jane.doe@acme.com"):
    return ContactDecision.objects.get(activity=activity, email=email)


def failed(decision):
    return decision.failed_codes


@pytest.mark.django_db
def test_it_creates_a_contact_when_every_gate_holds(ingest, acme, rep_sf):
    activity = ingest([JANE])
    contact = Contact.objects.get(email="jane.doe@acme.com")
    assert (contact.first_name, contact.last_name, contact.title) == ("Jane", "Doe", "VP Sales")
    assert contact.account == acme and contact.owner == rep_sf
    assert contact.lead_source == "crmbridge" and contact.created_by_crmbridge
    decision = decision_for(activity)
    assert decision.outcome == ContactDecision.Outcome.CREATED_CONTACT
    assert decision.contact == contact
    assert all(check["passed"] for check in decision.checks)


@pytest.mark.django_db
def test_it_records_creation_disabled_globally_alone(ingest, acme, org_settings):
    org_settings.contact_creation_enabled = False
    org_settings.save()
    decision = decision_for(ingest([JANE]))
    assert failed(decision) == ["creation_disabled_globally"]
    assert check_message(decision.checks[0]) == "Contact creation is turned off in Global Settings."
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_it_records_creation_disabled_on_the_default_profile(ingest, acme, default_profile):
    default_profile(enabled=False)
    decision = decision_for(ingest([JANE]))
    assert failed(decision) == ["creation_disabled_on_profile"]
    assert decision.profile_name == "Everyone"
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_the_owners_own_profile_overrides_the_default(ingest, acme, rep_user, default_profile):
    default_profile(enabled=False)
    ConfigurationProfileFactory(name="EMEA", contact_creation_enabled=True, members=[rep_user])
    decision = decision_for(ingest([JANE]))
    assert decision.outcome == ContactDecision.Outcome.CREATED_CONTACT
    assert decision.profile_name == "EMEA"


@pytest.mark.django_db
def test_both_switches_must_be_on(ingest, acme, rep_user, org_settings):
    ConfigurationProfileFactory(name="EMEA", contact_creation_enabled=True, members=[rep_user])
    org_settings.contact_creation_enabled = False
    org_settings.save()
    decision = decision_for(ingest([JANE]))
    assert failed(decision) == ["creation_disabled_globally"]


@pytest.mark.django_db
def test_an_unmatched_domain_fails_the_activity_and_domain_gates(ingest):
    # No Account has the domain: neither the activity nor the person is matched.
    activity = ingest([{"email": "jane.doe@nowhere-inc.com", "name": "Jane Doe"}])
    decision = decision_for(activity, "jane.doe@nowhere-inc.com")
    assert failed(decision) == ["activity_unmatched", "domain_unmatched"]
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_it_records_activity_unmatched_alone(ingest, acme):
    # Jane's address matches Acme, but the activity is ambiguous between two Accounts.
    AccountFactory(name="Globex", website="globex.com")
    activity = ingest(
        [
            {"email": "jane.doe@acme.com", "name": "Jane Doe"},
            {"email": "hank.scorpio@globex.com", "name": "Hank Scorpio"},
        ]
    )
    assert activity.match_status != "matched"
    decision = decision_for(activity, "jane.doe@acme.com")
    assert failed(decision) == ["activity_unmatched"]
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_it_records_domain_unmatched_alone(ingest, acme):
    # The activity matched Acme through Jane; Bob writes from a personal address, which never
    # matches an Account, so no Contact is made for him on Acme.
    activity = ingest(
        [
            {"email": "jane.doe@acme.com", "name": "Jane Doe"},
            {"email": "bob.smith@gmail.com", "name": "Bob Smith"},
        ]
    )
    assert activity.match_status == "matched"
    decision = decision_for(activity, "bob.smith@gmail.com")
    assert failed(decision) == ["domain_unmatched"]
    assert list(Contact.objects.values_list("email", flat=True)) == ["jane.doe@acme.com"]


@pytest.mark.django_db
def test_it_records_missing_first_name_alone(ingest, acme):
    activity = ingest([{"email": "doe@acme.com", "name": "Ms. Doe"}])
    decision = decision_for(activity, "doe@acme.com")
    assert failed(decision) == ["missing_first_name"]
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_it_records_missing_last_name_alone(ingest, acme):
    decision = decision_for(ingest([{"email": "jane@acme.com", "name": "Jane"}]), "jane@acme.com")
    assert failed(decision) == ["missing_last_name"]
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_it_records_both_names_missing_for_jdoe(ingest, acme):
    decision = decision_for(ingest([{"email": "jdoe@acme.com"}]), "jdoe@acme.com")
    assert failed(decision) == ["missing_first_name", "missing_last_name"]


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["country", "title", "phone"])
def test_it_requires_the_organisations_extra_fields(ingest, acme, org_settings, field):
    org_settings.required_contact_fields = [field]
    org_settings.save()
    decision = decision_for(ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}]))
    assert failed(decision) == [f"missing_{field}"]
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_an_extra_field_from_the_signature_satisfies_the_requirement(ingest, acme, org_settings):
    org_settings.required_contact_fields = ["country", "phone", "title"]
    org_settings.save()
    body = (
        "Hi Rex,\n\nSee you then.\n\nBest regards,\nJane Doe\nHead of IT | Acme Inc\n"
        "M: +44 20 7946 0958\n10 Downing Street, London, UK\n"
    )
    activity = ingest([{"email": "jd@acme.com", "role": "from"}], body=body)
    decision = decision_for(activity, "jd@acme.com")
    assert decision.outcome == ContactDecision.Outcome.CREATED_CONTACT
    contact = Contact.objects.get(email="jd@acme.com")
    assert (contact.first_name, contact.last_name) == ("Jane", "Doe")
    assert contact.title == "Head of IT"
    assert contact.phone == "+44 20 7946 0958"
    assert contact.country == "United Kingdom"


@pytest.mark.django_db
def test_one_batch_for_two_owners_follows_each_owners_profile(
    acme, rep_user, other_rep, org_settings, default_profile
):
    from activities.services import activity_ingest_many

    default_profile(enabled=False)
    ConfigurationProfileFactory(name="EMEA", contact_creation_enabled=True, members=[rep_user])

    def item(owner, ext, email):
        return {
            "external_id": ext, "kind": "email", "occurred_at": "2026-11-20T10:00:00Z",
            "owner": owner.email, "subject": "Hello",
            "participants": [{"email": owner.email, "role": "from"},
                             {"email": email, "name": "Jane Doe", "role": "to"}],
        }  # fmt: skip

    results = activity_ingest_many(
        items=[
            item(rep_user, "two-owners-1", "jane.doe@acme.com"),
            item(other_rep, "two-owners-2", "john.roe@acme.com"),
        ]
    )

    emea = decision_for(results[0].activity)
    everyone = decision_for(results[1].activity, "john.roe@acme.com")
    assert (emea.profile_name, emea.outcome) == ("EMEA", ContactDecision.Outcome.CREATED_CONTACT)
    assert everyone.profile_name == "Everyone"
    assert failed(everyone) == ["creation_disabled_on_profile"]
    assert list(Contact.objects.values_list("email", flat=True)) == ["jane.doe@acme.com"]


@pytest.mark.parametrize(
    ("check", "sentence"),
    [
        (
            {"code": "existing_contact", "passed": True, "detail": {"contact": "Jane Doe"}},
            "A Contact with this e-mail already exists: Jane Doe.",
        ),
        (
            {"code": "existing_lead", "passed": True, "detail": {"lead": "Jo Lee"}},
            "A Lead with this e-mail already exists: Jo Lee; the activity is logged on the "
            "Lead and no Contact is created.",
        ),
        (
            {"code": "creation_disabled_on_profile", "passed": True, "detail": {"profile": None}},
            "The owner has no Configuration Profile and there is no default profile, so "
            "nothing turns contact creation off.",
        ),
        (
            {"code": "activity_unmatched", "passed": False, "detail": {"match_reason": ""}},
            "The activity is not matched to an Account: The activity was not matched to an "
            "Account.",
        ),
        (
            {"code": "domain_unmatched", "passed": False, "detail": {"domain": "x.io"}},
            "This person's domain (x.io) did not match an Account.",
        ),
        ({"code": "some_new_gate", "passed": False, "detail": {}}, "Some new gate: failed."),
    ],
)
def test_each_stored_check_reads_as_its_sentence(check, sentence):
    assert check_message(check) == sentence
