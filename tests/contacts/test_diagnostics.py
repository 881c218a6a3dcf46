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
