"""The activity feed in the admin: rep isolation, Match details, Edit match, re-match, orphans."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountDomain, Contact, OrphanContact
from activities.models import Activity, MatchEdit
from activities.rematch import activities_rematch_for_domains
from activities.services import activity_ingest_many
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    activity_item,
)

pytestmark = pytest.mark.django_db

FEED = "/admin/activities/activity/"


def ingest(owner, emails, **kw):
    [result] = activity_ingest_many(items=[activity_item(owner, emails=emails, **kw)])
    assert result.status == "created", result.errors
    return result.activity


@pytest.fixture
def two_feeds(rep_user, other_rep, rep_sf, org_settings):
    mine = ingest(rep_user, ["a@acme.com"], subject="Rex talks to Acme")
    theirs = ingest(other_rep, ["b@globex.com"], subject="Rita talks to Globex")
    return mine, theirs


def test_a_rep_sees_only_their_own_feed_everywhere(client, rep_user, two_feeds):
    mine, theirs = two_feeds
    client.force_login(rep_user)
    page = client.get(FEED).content.decode()
    assert "Rex talks to Acme" in page and "Rita talks to Globex" not in page
    assert client.get(f"{FEED}{mine.pk}/change/").status_code == 200
    assert client.get(f"{FEED}{theirs.pk}/change/").status_code in (302, 404)
    assert client.get(f"{FEED}{theirs.pk}/match/").status_code == 404
    assert client.get(f"{FEED}{theirs.pk}/edit-match/").status_code == 404
    export = client.post(
        f"{FEED}export/",
        {
            "format": "0",
            "resource": "0",
            "activityresource_id": "on",
            "activityresource_subject": "on",
        },
    )
    assert export["Content-Disposition"].startswith("attachment")
    body = export.content.decode()
    assert "Rex talks to Acme" in body and "Rita talks to Globex" not in body


def test_an_admin_sees_every_feed_and_searches_participants(client, admin_member, two_feeds):
    client.force_login(admin_member)
    page = client.get(FEED).content.decode()
    assert "Rex talks to Acme" in page and "Rita talks to Globex" in page
    found = client.get(FEED, {"q": "b@globex"}).content.decode()
    assert "Rita talks to Globex" in found and "Rex talks to Acme" not in found
    filtered = client.get(FEED, {"match_status__exact": "matched"}).content.decode()
    assert "Rex talks to Acme" not in filtered


def test_a_search_finds_subject_words_and_address_parts_within_the_visible_feed(
    client, rep_user, admin_member, two_feeds
):
    ingest(rep_user, ["c@initech.com"], subject="Quarterly review with Initech")
    client.force_login(admin_member)
    by_words = client.get(FEED, {"q": "talks TO globex"}).content.decode()
    assert "Rita talks to Globex" in by_words and "Rex talks to Acme" not in by_words
    by_word = client.get(FEED, {"q": "initech"}).content.decode()
    assert "Quarterly review with Initech" in by_word and "Rex talks" not in by_word
    by_address_part = client.get(FEED, {"q": "@acme"}).content.decode()
    assert "Rex talks to Acme" in by_address_part and "Rita" not in by_address_part
    client.force_login(rep_user)
    mine_only = client.get(FEED, {"q": "talks to"}).content.decode()
    assert "Rex talks to Acme" in mine_only and "Rita talks to Globex" not in mine_only


def test_match_details_say_why(client, rep_user, rep_sf, org_settings):
    activity = ingest(rep_user, ["x@gmail.com", "y@nowhere-inc.com"])
    client.force_login(rep_user)
    page = client.get(f"{FEED}{activity.pk}/match/").content.decode()
    assert "personal mail domain" in page
    assert "no Account has the domain nowhere-inc.com" in page


def _bulk_activities(owner, n, prefix):
    Activity.objects.bulk_create(
        ActivityFactory.build(
            source="bench",
            external_id=f"{prefix}{i}",
            kind="email",
            occurred_at=timezone.now() - dt.timedelta(minutes=i),
            owner=owner,
            subject=f"s{i}",
            match_status="unmatched",
        )
        for i in range(n)
    )


def test_the_changelist_does_a_bounded_number_of_queries(client, admin_member, rep_user):
    client.force_login(admin_member)

    def feed_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(FEED).status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    _bulk_activities(rep_user, 60, "a")
    few = feed_queries()
    _bulk_activities(rep_user, 600, "b")
    many = feed_queries()
    assert len(few) == len(many)
    counts = [s for s in many if "COUNT(" in s and "activities_activity" in s]
    assert counts and all("LIMIT" in s for s in counts), counts


def test_edit_match_is_recorded_and_survives_rematching(
    client, rep_user, rep_sf, other_sf, org_settings
):
    AccountFactory(name="Acme US", website="acme.com", owner=other_sf)
    acme_eu = AccountFactory(name="Acme EU", website="acme.com", owner=other_sf)
    deal = OpportunityFactory(account=acme_eu, owner=rep_sf)
    activity = ingest(rep_user, ["x@acme.com"])
    assert activity.match_status == "ambiguous"
    client.force_login(rep_user)
    form = client.get(f"{FEED}{activity.pk}/edit-match/").content.decode()
    assert "also add this domain" not in form.lower()  # admins only
    response = client.post(
        f"{FEED}{activity.pk}/edit-match/",
        {"account": acme_eu.pk, "opportunity": deal.pk},
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert (activity.match_status, activity.account, activity.opportunity) == (
        "matched",
        acme_eu,
        deal,
    )
    edit = MatchEdit.objects.get(activity=activity)
    assert edit.user == rep_user
    assert edit.before["status"] == "ambiguous"
    assert edit.after["account"]["name"] == "Acme EU"

    assert activities_rematch_for_domains(domains=["acme.com"]) == 0
    activity.refresh_from_db()
    assert activity.account == acme_eu
    details = client.get(f"{FEED}{activity.pk}/match/").content.decode()
    assert "Match edits" in details and "Acme EU" in details


def test_an_admin_edit_can_add_the_domain_and_rematch_the_rest(
    client, admin_member, rep_user, rep_sf, org_settings, django_capture_on_commit_callbacks
):
    initech = AccountFactory(name="Initech", website="initech.com")
    first = ingest(rep_user, ["peter@initech-labs.com"])
    second = ingest(rep_user, ["milton@initech-labs.com"])
    old = ingest(rep_user, ["bill@initech-labs.com"], days_ago=120)
    assert first.match_status == "unmatched"
    client.force_login(admin_member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{FEED}{first.pk}/edit-match/",
            {"account": initech.pk, "add_domain": "initech-labs.com"},
        )
    assert response.status_code == 302
    assert AccountDomain.objects.filter(account=initech, domain="initech-labs.com").exists()
    second.refresh_from_db()
    old.refresh_from_db()
    assert (second.match_status, second.account) == ("matched", initech)
    assert old.match_status == "unmatched"  # older than 90 days
    assert MatchEdit.objects.get(activity=first).added_domain == "initech-labs.com"


def test_a_rep_cannot_add_a_domain_by_forging_the_form(client, rep_user, rep_sf, org_settings):
    initech = AccountFactory(name="Initech", website="initech.com")
    activity = ingest(rep_user, ["peter@initech-labs.com"])
    client.force_login(rep_user)
    client.post(
        f"{FEED}{activity.pk}/edit-match/",
        {"account": initech.pk, "add_domain": "initech-labs.com"},
    )
    assert not AccountDomain.objects.filter(domain="initech-labs.com").exists()


def test_adding_a_domain_in_the_account_admin_rematches(
    client, admin_member, rep_user, rep_sf, org_settings, django_capture_on_commit_callbacks
):
    umbrella = AccountFactory(name="Umbrella", website="umbrella.com")
    activity = ingest(rep_user, ["alice@umbrella-research.com"])
    client.force_login(admin_member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/accounts/accountdomain/add/",
            {"account": umbrella.pk, "domain": "umbrella-research.com"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    activity.refresh_from_db()
    assert activity.account == umbrella
    assert "umbrella-research.com" in activity.match_reason


def test_orphans_get_a_suggested_account_and_link_in_bulk(client, admin_member, org_settings):
    acme = AccountFactory(name="Acme Corporation", website="acme.com")
    by_domain = ContactFactory(email="lost@acme.com", account=None)
    LeadFactory(email="wanderer@freemail.example", company="acme corporation")
    by_company = ContactFactory(email="wanderer@freemail.example", account=None)
    hopeless = ContactFactory(email="nobody@unknown-co.com", account=None)
    client.force_login(admin_member)
    page = client.get("/admin/accounts/orphancontact/").content.decode()
    assert "its e-mail domain acme.com" in page
    assert "the company name" in page
    response = client.post(
        "/admin/accounts/orphancontact/",
        {
            "action": "link_to_suggested",
            "_selected_action": [by_domain.pk, by_company.pk, hopeless.pk],
        },
    )
    assert response.status_code == 302
    assert Contact.objects.get(pk=by_domain.pk).account == acme
    assert Contact.objects.get(pk=by_company.pk).account == acme
    assert OrphanContact.objects.filter(pk=hopeless.pk, account__isnull=True).exists()


def test_company_name_rules(org_settings):
    from accounts.selectors import account_for_company_name

    first = AccountFactory(name="Globex")
    AccountFactory(name="GLOBEX")
    AccountFactory(name="Initech Holdings")
    AccountFactory(name="Umbrella East")
    AccountFactory(name="Umbrella West")
    assert account_for_company_name(name="globex") == first
    assert account_for_company_name(name="initech").name == "Initech Holdings"
    assert account_for_company_name(name="Umbrella") is None
    assert account_for_company_name(name="Hooli") is None


def test_attention_lists_the_reps_unmatched_activity(
    client, rep_user, other_rep, rep_sf, org_settings
):
    ingest(rep_user, ["x@nowhere-inc.com"])
    ingest(other_rep, ["y@nowhere-inc.com"])
    ingest(other_rep, ["z@nowhere-inc.com"])
    client.force_login(rep_user)
    page = client.get(reverse("admin:index")).content.decode()
    assert "1 activities matched no Account" in page


def test_a_rep_can_search_accounts_for_edit_match(client, rep_user, org_settings):
    AccountFactory(name="Acme Rockets", website="acme.com")
    client.force_login(rep_user)
    response = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "activities",
            "model_name": "activity",
            "field_name": "account",
            "term": "acme",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Acme Rockets — acme.com · no owner"]
    by_domain = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "activities",
            "model_name": "activity",
            "field_name": "account",
            "term": "acme.com",
        },
    )
    assert [r["text"] for r in by_domain.json()["results"]] == [
        "Acme Rockets — acme.com · no owner"
    ]


def test_account_admin_inline_adds_a_domain_and_refuses_removing_the_website_one(
    client, admin_member, org_settings, django_capture_on_commit_callbacks
):
    acme = AccountFactory(name="Acme", website="acme.com")
    website_row = acme.domains.get()
    client.force_login(admin_member)
    url = f"/admin/accounts/account/{acme.pk}/change/"
    form = {
        "domains-TOTAL_FORMS": "2",
        "domains-INITIAL_FORMS": "1",
        "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000",
        "domains-0-id": str(website_row.pk),
        "domains-0-account": str(acme.pk),
        "domains-1-account": str(acme.pk),
        "domains-1-domain": "acme-rockets.com",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(acme.domains.values_list("domain", "source")) == {
        ("acme.com", "website"),
        ("acme-rockets.com", "admin"),
    }
    refused = client.post(
        url,
        {
            **form,
            "domains-TOTAL_FORMS": "1",
            "domains-0-DELETE": "on",
            "domains-1-domain": "",
        },
    )
    assert refused.status_code == 200
    assert "change it in Salesforce" in refused.content.decode()
    assert acme.domains.filter(domain="acme.com").exists()
