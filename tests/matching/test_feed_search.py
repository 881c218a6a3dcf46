"""The feed's search (?q=): exactly the right activities, newest first, on SQLite and PostgreSQL
(where each side of a one-word search is its own trigram-indexed query that stops at the cap)."""

import datetime as dt

import pytest
from django.utils import timezone

from activities.admin import ActivityAdmin
from tests.factories import ActivityFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

FEED = "/admin/activities/activity/"


def activity(owner, subject, emails, minutes_ago, **kw):
    made = ActivityFactory(
        owner=owner,
        subject=subject,
        occurred_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        **kw,
    )
    for email in emails:
        ParticipantFactory(activity=made, email=email)
    return made


def found(client, **params):
    response = client.get(FEED, params)
    assert response.status_code == 200
    return [a.pk for a in response.context["cl"].result_list], response.content.decode()


@pytest.fixture
def feed(rep_user, other_rep):
    return {
        "renewal": activity(rep_user, "Renewal with Initech", ["x@globex.com"], 1),
        "by_address": activity(rep_user, "Lunch", ["Bob@INITECH.com"], 2),
        "two_addresses": activity(rep_user, "Lunch", ["a@initech.com", "b@initech.io"], 3),
        "unrelated": activity(rep_user, "Demo", ["c@acme.com"], 4, match_status="matched"),
        "theirs": activity(other_rep, "Initech call", ["d@acme.com"], 5),
    }


def test_one_word_finds_the_subjects_and_addresses_holding_it_once_each_newest_first(
    client, admin_member, rep_user, feed
):
    client.force_login(admin_member)
    rows, page = found(client, q="INITECH")
    wanted = ["renewal", "by_address", "two_addresses", "theirs"]
    assert rows == [feed[name].pk for name in wanted]
    assert "4 results" in page and "4 activities" in page
    rows, _ = found(client, q="@acme")
    assert rows == [feed["unrelated"].pk, feed["theirs"].pk]
    client.force_login(rep_user)
    rows, _ = found(client, q="initech")
    assert rows == [feed[name].pk for name in ["renewal", "by_address", "two_addresses"]]


def test_a_whole_address_and_a_few_words_find_exactly_their_activities(client, admin_member, feed):
    client.force_login(admin_member)
    assert found(client, q="bob@initech.COM")[0] == [feed["by_address"].pk]
    assert found(client, q="with initech")[0] == [feed["renewal"].pk]
    # Words are searched in the subject only, never across subject and addresses.
    assert found(client, q="lunch initech")[0] == []
    assert found(client, q="nothing-like-it")[0] == []


def test_a_search_keeps_the_filters_chosen(client, admin_member, feed):
    client.force_login(admin_member)
    rows, _ = found(client, q="acme", match_status__exact="matched")
    assert rows == [feed["unrelated"].pk]


def test_past_the_cap_the_page_says_more_than_and_pages_hold_the_newest_matches(
    client, admin_member, rep_user, monkeypatch
):
    monkeypatch.setattr(ActivityAdmin, "search_count_cap", 3)
    monkeypatch.setattr(ActivityAdmin, "list_per_page", 2)
    # Subject and address matches interleaved in time, so neither side alone fills a page.
    by_subject = [activity(rep_user, f"Globex {i}", ["x@acme.com"], 2 * i) for i in range(4)]
    by_address = [activity(rep_user, "Call", [f"p{i}@globex.com"], 2 * i + 1) for i in range(4)]
    activity(rep_user, "Call", ["y@acme.com"], 0)
    newest = [a.pk for pair in zip(by_subject, by_address, strict=True) for a in pair]
    client.force_login(admin_member)
    first, page = found(client, q="globex")
    assert "more than 3 results" in page and "more than 3 activities" in page
    assert "4 results" not in page
    # An action across all pages would touch every match, not the capped count: not offered.
    assert "0 of 2 selected" in page
    assert "Select all 4 activities" not in page and "All 4 selected" not in page
    # Each page deeper reaches further: past the cap, up to its own last row and one more.
    second, page = found(client, q="globex", p="2")
    assert "more than 4 results" in page
    third, page = found(client, q="globex", p="3")
    assert "more than 6 results" in page
    fourth, page = found(client, q="globex", p="4")
    assert "8 results" in page and "more than" not in page
    assert "Select all 8 activities" in page
    assert first + second + third + fourth == newest
    # Without a search the feed counts up to its own cap.
    assert "9 activities" in found(client)[1]


def test_an_export_of_a_search_holds_every_match_past_the_cap(
    client, admin_member, rep_user, monkeypatch
):
    monkeypatch.setattr(ActivityAdmin, "search_count_cap", 3)
    for i in range(3):
        activity(rep_user, f"Globex {i}", ["x@acme.com"], i)
        activity(rep_user, "Call", [f"p{i}@globex.com"], 10 + i)
    activity(rep_user, "Call", ["y@acme.com"], 0)
    client.force_login(admin_member)
    export = client.post(
        f"{FEED}export/?q=globex",
        {"format": "0", "resource": "0", "activityresource_subject": "on"},
    )
    rows = export.content.decode().splitlines()[1:]
    assert sorted(rows) == sorted(["Globex 0", "Globex 1", "Globex 2", "Call", "Call", "Call"])
