"""'Why did no Contact get created?': the API and the admin page give the same answer."""

import pytest
from django.urls import reverse

URL = "/api/v1/diagnostics/contact-creation/"


@pytest.mark.django_db
def test_it_explains_each_failed_check_in_words(
    ingest, acme, api_as, admin_member, org_settings, default_profile
):
    org_settings.required_contact_fields = ["phone"]
    org_settings.save()
    default_profile(enabled=False)
    ingest([{"email": "jane@acme.com", "name": "Jane"}], subject="Pricing")
    answer = api_as(admin_member).get(URL, {"email": "Jane@acme.com"}).json()
    (row,) = answer["activities"]
    assert row["activity"]["subject"] == "Pricing"
    assert row["profile"] == "Everyone"
    assert row["failed"] == ["creation_disabled_on_profile", "missing_last_name", "missing_phone"]
    messages = {c["code"]: c["message"] for c in row["checks"]}
    assert "Everyone" in messages["creation_disabled_on_profile"]
    assert "last name is not known" in messages["missing_last_name"]
    assert "No Contact" in answer["summary"]


@pytest.mark.django_db
def test_it_says_which_domains_were_tried_when_unmatched(ingest, api_as, admin_member):
    ingest([{"email": "jane.doe@nowhere-inc.com", "name": "Jane Doe"}])
    answer = api_as(admin_member).get(URL, {"email": "jane.doe@nowhere-inc.com"}).json()
    (row,) = answer["activities"]
    assert row["failed"] == ["activity_unmatched", "domain_unmatched"]
    unmatched = next(c for c in row["checks"] if c["code"] == "activity_unmatched")
    said = unmatched["message"] + unmatched["detail"]["participant_reason"]
    assert "nowhere-inc.com" in said


@pytest.mark.django_db
def test_it_names_the_contact_that_already_exists(ingest, acme, api_as, admin_member):
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])
    answer = api_as(admin_member).get(URL, {"email": "jane.doe@acme.com"}).json()
    assert answer["contact"]["name"] == "Jane Doe"
    assert [r["outcome"] for r in answer["activities"]] == ["existing_contact", "created_contact"]


@pytest.mark.django_db
def test_a_rep_sees_only_their_own_activities(ingest, acme, api_as, rep_user, other_rep):
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])
    mine = api_as(rep_user).get(URL, {"email": "jane.doe@acme.com"}).json()
    theirs = api_as(other_rep).get(URL, {"email": "jane.doe@acme.com"}).json()
    assert len(mine["activities"]) == 1
    assert theirs["activities"] == []


@pytest.mark.django_db
def test_it_rejects_a_bad_address_and_strangers(api_as, admin_member):
    assert api_as(admin_member).get(URL, {"email": "not an address"}).status_code == 400
    assert api_as(None).get(URL, {"email": "jane@acme.com"}).status_code in (401, 403)


@pytest.mark.django_db
def test_the_admin_page_gives_the_same_answer_escaped(ingest, acme, client, rep_user):
    ingest([{"email": "jane@acme.com", "name": "<b>Jane</b>"}], subject="<script>x</script>")
    client.force_login(rep_user)
    page = client.get(reverse("admin:activities_why_no_contact"), {"email": "jane@acme.com"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Is the last name known?" in html
    assert "&lt;script&gt;" in html and "<script>x" not in html
    listing = client.get(reverse("admin:activities_contactdecision_changelist"))
    assert listing.status_code == 200 and "jane@acme.com" in listing.content.decode()


@pytest.mark.django_db
def test_every_check_reads_as_a_sentence_made_from_what_it_found(
    ingest, acme, api_as, admin_member, org_settings, default_profile
):
    org_settings.required_contact_fields = ["title", "phone"]
    org_settings.save()
    default_profile(enabled=False)
    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe", "title": "CTO"}])
    ingest([{"email": "sam@nowhere-inc.com"}])
    said = {}
    for email in ("jane.doe@acme.com", "sam@nowhere-inc.com"):
        (row,) = api_as(admin_member).get(URL, {"email": email}).json()["activities"]
        said |= {(email, c["code"]): c["message"] for c in row["checks"]}
    jane, sam = "jane.doe@acme.com", "sam@nowhere-inc.com"
    assert said == {
        (jane, "creation_disabled_globally"): "Contact creation is on in Global Settings.",
        (jane, "creation_disabled_on_profile"): (
            "Contact creation is turned off on the owner's Configuration Profile “Everyone”."
        ),
        (jane, "activity_unmatched"): "The activity matched the Account “Acme”.",
        (jane, "domain_unmatched"): "This person's address matched the Account “Acme”.",
        (jane, "missing_first_name"): "The first name is known (Jane, from display name).",
        (jane, "missing_last_name"): "The last name is known (Doe, from display name).",
        (jane, "missing_email"): (
            "The e-mail address is known (jane.doe@acme.com, from participant)."
        ),
        (jane, "missing_title"): "The title is known (CTO, from participant).",
        (jane, "missing_phone"): (
            "The phone is not known: no display name, signature or address gave it."
        ),
        (sam, "creation_disabled_globally"): "Contact creation is on in Global Settings.",
        (sam, "creation_disabled_on_profile"): (
            "Contact creation is turned off on the owner's Configuration Profile “Everyone”."
        ),
        (sam, "activity_unmatched"): (
            "The activity is not matched to an Account: No participant matched an Account "
            "(domains tried: nowhere-inc.com)."
        ),
        (sam, "domain_unmatched"): (
            "This person's domain (nowhere-inc.com) did not match an Account: No Contact or "
            "Lead has this e-mail, and no Account has the domain nowhere-inc.com."
        ),
        (sam, "missing_first_name"): (
            "The first name is not known: no display name, signature or address gave it."
        ),
        (sam, "missing_last_name"): (
            "The last name is not known: no display name, signature or address gave it."
        ),
        (
            sam,
            "missing_email",
        ): "The e-mail address is known (sam@nowhere-inc.com, from participant).",
        (sam, "missing_title"): (
            "The title is not known: no display name, signature or address gave it."
        ),
        (sam, "missing_phone"): (
            "The phone is not known: no display name, signature or address gave it."
        ),
    }


@pytest.mark.django_db
def test_a_decision_stored_with_its_sentences_still_shows_them(ingest, acme, api_as, admin_member):
    from activities.models import ContactDecision

    ingest([{"email": "jane.doe@acme.com", "name": "Jane Doe"}])
    decision = ContactDecision.objects.get(email="jane.doe@acme.com")
    # As rows decided before checks were stored without their sentence hold them.
    decision.checks = [{**c, "message": f"Stored: {c['code']}"} for c in decision.checks]
    decision.save()
    (row,) = api_as(admin_member).get(URL, {"email": "jane.doe@acme.com"}).json()["activities"]
    assert [c["message"] for c in row["checks"]] == [
        f"Stored: {c['code']}" for c in decision.checks
    ]
