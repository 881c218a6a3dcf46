"""Matching through ingestion: each outcome, and the reason a rep reads."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activities.services import activity_ingest, activity_ingest_many
from tests.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    activity_item,
)

pytestmark = pytest.mark.django_db


def ingest(owner, emails, **kw):
    result = activity_ingest(item=activity_item(owner, emails=emails, **kw))
    assert result.status == "created", result.errors
    return result.activity


def test_it_matches_a_contact_by_exact_email_whatever_its_case(rep_user, rep_sf, org_settings):
    acme = AccountFactory(name="Acme", website="https://acme.com")
    ContactFactory(email="Jane.Doe@Acme.com", account=acme)
    activity = ingest(rep_user, ["jane.doe@acme.com", "rex@crmbridge.example"])
    assert activity.match_status == "matched"
    assert activity.account == acme
    jane = activity.participants.get(email="jane.doe@acme.com")
    assert (jane.matched_kind, jane.match_rule) == ("contact", "contact_email")
    assert activity.participants.get(email="rex@crmbridge.example").is_internal


def test_a_subdomain_falls_back_to_its_registered_domain(rep_user, rep_sf, org_settings):
    acme = AccountFactory(name="Acme", website="www.acme.com")
    activity = ingest(rep_user, ["bob@eu.acme.com"])
    assert activity.account == acme
    assert "Acme has the domain acme.com" in activity.participants.get().match_reason


def test_alternate_domains_match_too(rep_user, rep_sf, org_settings):
    acme = AccountFactory(name="Acme", website="acme.com", alternate_domains="acme.de, acme.fr")
    assert ingest(rep_user, ["x@acme.fr"]).account == acme


def test_googleventures_does_not_match_google(rep_user, rep_sf, org_settings):
    AccountFactory(name="Google", website="https://google.com")
    activity = ingest(rep_user, ["partner@googleventures.com"])
    assert activity.match_status == "unmatched"
    assert "googleventures.com" in activity.match_reason


def test_personal_domains_never_match_even_when_an_account_has_them(rep_user, rep_sf, org_settings):
    AccountFactory(name="Gmail fan club", website="gmail.com")
    activity = ingest(rep_user, ["someone@gmail.com", "other@mailinator.com"])
    assert activity.match_status == "unmatched"
    assert activity.match_reason_code == "personal_only"
    assert "personal mail domain" in activity.participants.first().match_reason


def test_internal_only_activity_is_internal(rep_user, rep_sf, org_settings):
    activity = ingest(rep_user, ["a@crmbridge.example", "b@eu.ourco.com"])
    assert activity.match_status == "internal"


def test_a_lead_match_links_no_account(rep_user, rep_sf, org_settings):
    LeadFactory(email="lee@startup.io")
    activity = ingest(rep_user, ["lee@startup.io"])
    assert activity.match_status == "unmatched"
    assert activity.match_reason_code == "lead_only"
    assert activity.participants.get().matched_kind == "lead"


def test_several_accounts_on_a_domain_are_ambiguous(rep_user, rep_sf, other_sf, org_settings):
    AccountFactory(name="Acme US", website="acme.com", owner=other_sf)
    AccountFactory(name="Acme EU", website="acme.com")
    activity = ingest(rep_user, ["x@acme.com"])
    assert activity.match_status == "ambiguous"
    assert "Acme US" in activity.match_reason and "Acme EU" in activity.match_reason


def test_the_owners_account_breaks_a_domain_tie(rep_user, rep_sf, other_sf, org_settings):
    AccountFactory(name="Acme US", website="acme.com", owner=other_sf)
    mine = AccountFactory(name="Acme EU", website="acme.com", owner=rep_sf)
    activity = ingest(rep_user, ["x@acme.com"])
    assert activity.account == mine
    assert activity.participants.get().match_rule == "domain_owner"


def test_an_owner_is_their_linked_salesforce_user_else_the_one_with_their_email(
    rep_user, other_rep, other_sf, org_settings
):
    from tests.factories import SalesforceUserFactory

    # other_sf has rita's e-mail (in another case) but no link; rex is linked to his own.
    other_sf.email = other_rep.email.upper()
    other_sf.save()
    rex_sf = SalesforceUserFactory(name="Rex Rep", user=rep_user, email="rex.sf@ourco.com")
    SalesforceUserFactory(name="Not Rex", email=rep_user.email)
    ritas = AccountFactory(name="Rita's", website="ritas.com", owner=other_sf)
    AccountFactory(name="Other Rita's", website="ritas.com")
    rexs = AccountFactory(name="Rex's", website="rexs.com", owner=rex_sf)
    AccountFactory(name="Other Rex's", website="rexs.com")

    results = activity_ingest_many(
        items=[
            activity_item(other_rep, emails=["a@ritas.com"]),
            activity_item(rep_user, emails=["b@rexs.com"]),
        ]
    )

    assert [r.activity.owner_sf_user for r in results] == [other_sf, rex_sf]
    assert [r.activity.account for r in results] == [ritas, rexs]  # the owner breaks each tie


def test_participants_pointing_at_different_accounts(rep_user, rep_sf, other_sf, org_settings):
    AccountFactory(name="Acme", website="acme.com", owner=other_sf)
    globex = AccountFactory(name="Globex", website="globex.com", owner=rep_sf)
    activity = ingest(rep_user, ["a@acme.com", "g@globex.com"])
    assert activity.account == globex
    assert activity.match_reason_code == "owner_tiebreak"

    AccountFactory(name="Initech", website="initech.com", owner=other_sf)
    activity = ingest(rep_user, ["a@acme.com", "i@initech.com"])
    assert activity.match_status == "ambiguous"
    assert activity.match_reason_code == "conflicting_accounts"


def test_an_opportunity_links_only_when_exactly_one_open_one_is_the_owners(
    rep_user, rep_sf, other_sf, org_settings
):
    acme = AccountFactory(name="Acme", website="acme.com", owner=rep_sf)
    deal = OpportunityFactory(account=acme, owner=rep_sf)
    OpportunityFactory(account=acme, owner=rep_sf, is_closed=True)
    OpportunityFactory(account=acme, owner=other_sf)
    assert ingest(rep_user, ["a@acme.com"]).opportunity == deal

    OpportunityFactory(account=acme, owner=rep_sf)
    activity = ingest(rep_user, ["a@acme.com"])
    assert activity.opportunity is None
    assert "you own 2 open ones" in activity.match_reason


def test_one_batch_for_two_owners_links_each_to_the_opportunity_it_owns(
    rep_user, rep_sf, other_rep, org_settings
):
    from tests.factories import SalesforceUserFactory

    rita_sf = SalesforceUserFactory(name="Rita Rep", user=other_rep)
    acme = AccountFactory(name="Acme", website="acme.com", owner=rep_sf)
    rex_deal = OpportunityFactory(account=acme, owner=rep_sf)
    rita_deal = OpportunityFactory(account=acme, owner=rita_sf)
    results = activity_ingest_many(
        items=[
            activity_item(rep_user, emails=["a@acme.com"]),
            activity_item(other_rep, emails=["b@acme.com"]),
            activity_item(rep_user, emails=["c@globex.com"]),
        ]
    )
    assert [r.activity.opportunity for r in results] == [rex_deal, rita_deal, None]


def test_resending_the_same_external_id_returns_the_existing_activity(
    rep_user, rep_sf, org_settings
):
    item = activity_item(rep_user, emails=["a@acme.com"], external_id="msg-1")
    first = activity_ingest(item=item)
    again = activity_ingest(item={**item, "subject": "changed"})
    assert (first.status, again.status) == ("created", "existing")
    assert again.activity.pk == first.activity.pk
    twice = activity_ingest_many(items=[{**item, "external_id": "msg-2"}] * 2)
    assert [r.status for r in twice] == ["created", "existing"]
    assert twice[0].activity.pk == twice[1].activity.pk


def test_bad_items_are_rejected_with_reasons_and_the_rest_go_in(rep_user, rep_sf, org_settings):
    good = activity_item(rep_user, emails=["a@acme.com"])
    results = activity_ingest_many(
        items=[
            good,
            activity_item(rep_user, emails=["not-an-address"]),
            {**good, "external_id": "x2", "owner": "nobody@nowhere.com"},
            {**good, "external_id": "x3", "kind": "fax"},
            {**good, "external_id": "x4", "occurred_at": "yesterday"},
            "not an object",
        ]
    )
    assert [r.status for r in results] == ["created"] + ["rejected"] * 5
    assert "'not-an-address'" in results[1].errors["participants"][0]
    assert "nobody@nowhere.com" in results[2].errors["owner"][0]
    assert "kind" in results[3].errors
    assert "occurred_at" in results[4].errors


def test_bulk_ingestion_queries_do_not_grow_with_batch_size(rep_user, rep_sf, org_settings):
    # Matching alone: contact creation (after matching) is measured by its own tests.
    org_settings.contact_creation_enabled = False
    org_settings.save()
    for n in range(20):
        acme = AccountFactory(website=f"acme{n}.com")
        ContactFactory(email=f"c{n}@acme{n}.com", account=acme)

    def count(size, offset):
        items = [
            activity_item(
                rep_user,
                emails=[f"c{i % 20}@acme{i % 20}.com", f"new{i}@acme{i % 20}.com", "x@gmail.com"],
                external_id=f"q-{offset}-{i}",
            )
            for i in range(size)
        ]
        with CaptureQueriesContext(connection) as ctx:
            results = activity_ingest_many(items=items)
        assert {r.status for r in results} == {"created"}
        # Inserts are split only by the database's limit on parameters per statement.
        # Reads must not grow; rows written (activities, participants, outbox) are inserted in
        # batches the database's parameter limit decides, and the contact step writes
        # its own rows.
        return [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT")]

    assert len(count(10, "a")) == len(count(200, "b"))


def test_account_domains_refresh_keeps_admin_domains(rep_user, org_settings):
    acme = AccountFactory(
        name="Acme", website="acme.com", alternate_domains="acme.de", admin_domains=["acme.io"]
    )
    acme.website = "https://acme.org"
    acme.alternate_domains = ""
    acme.save()
    from accounts.domain_services import account_domains_refresh

    assert account_domains_refresh(account=acme) == {"acme.org"}
    assert set(acme.domains.values_list("domain", "source")) == {
        ("acme.org", "website"),
        ("acme.io", "admin"),
    }


def test_a_nul_character_is_refused_and_not_echoed(rep_user, rep_sf, org_settings):
    item = activity_item(rep_user, emails=["a@acme.com"], subject="a\x00b")
    [result] = activity_ingest_many(items=[item])
    assert result.status == "rejected"
    assert "NUL" in result.errors["subject"][0] and "\x00" not in str(result.errors)


def test_keys_a_concurrent_call_stored_first_are_answered_as_theirs_and_the_rest_go_in_at_once(
    rep_user, django_assert_max_num_queries
):
    from django.utils import timezone

    from activities.models import Activity, Participant
    from activities.services import _insert

    def built(n):
        activity = Activity(source="api", external_id=f"race-{n}", kind="email",
                            occurred_at=timezone.now(), owner=rep_user)  # fmt: skip
        return activity, [Participant(email=f"p{n}@acme.com"), Participant(email=f"q{n}@acme.com")]

    rows = [built(n) for n in range(20)]
    # Stored by another call after this one looked (so it was not seen as existing then).
    theirs = {n: Activity.objects.create(source="api", external_id=f"race-{n}", kind="call",
                                         occurred_at=timezone.now(), owner=rep_user)
              for n in (3, 11, 17)}  # fmt: skip

    with django_assert_max_num_queries(16):  # not one insert (and savepoint) per row
        created, taken = _insert(rows)

    assert {id(rows[n][0]): theirs[n] for n in theirs} == taken
    assert set(created) == {id(a) for n, (a, _) in enumerate(rows) if n not in theirs}
    assert Activity.objects.filter(external_id__startswith="race-").count() == 20
    mine = Activity.objects.filter(external_id__startswith="race-", kind="email")
    assert Participant.objects.filter(activity__in=mine).count() == 17 * 2
    assert not Participant.objects.filter(activity__in=list(theirs.values())).exists()


def test_a_key_sent_twice_in_one_call_is_answered_from_the_first_without_reading_it_back(
    rep_user, rep_sf, org_settings
):
    from activities.api import ActivityViewSet

    first, second = (
        activity_item(rep_user, emails=["a@acme.com"], external_id="twice") for _ in range(2)
    )
    results = activity_ingest_many(items=[first, second])

    assert [r.status for r in results] == ["created", "existing"]
    assert results[1].activity is results[0].activity
    with CaptureQueriesContext(connection) as read:
        shown = ActivityViewSet()._answered(results)
    assert len(read.captured_queries) == 0
    assert [p.email for p in shown[1].shown_participants] == ["a@acme.com"]
