"""An activity at the participant limit: the pages that show its participants (Match details,
the activity's own page) show them a page at a time, with links to the rest, and Edit match
offers its domains without loading every participant."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activities.contract import MAX_PARTICIPANTS
from activities.services import activity_ingest_many
from tests.factories import activity_item

pytestmark = pytest.mark.django_db

FEED = "/admin/activities/activity/"
PER_PAGE = 50


@pytest.fixture
def crowded(rep_user, org_settings):
    emails = [f"person{n:03d}@company{n % 7}.com" for n in range(MAX_PARTICIPANTS)]
    [result] = activity_ingest_many(items=[activity_item(rep_user, emails=emails)])
    assert result.status == "created", result.errors
    return result.activity


def _rows(page):
    return re.findall(r"person(\d{3})@company\d\.com", page)


@pytest.mark.parametrize("suffix", ["match/", "change/"])
def test_it_shows_the_participants_a_page_at_a_time(client, rep_user, crowded, suffix):
    client.force_login(rep_user)
    url = f"{FEED}{crowded.pk}/{suffix}"
    first = client.get(url).content.decode()
    assert sorted(set(_rows(first))) == [f"{n:03d}" for n in range(PER_PAGE)]
    assert f"{MAX_PARTICIPANTS} participants" in first
    assert "?page=2" in first and f"?page={MAX_PARTICIPANTS // PER_PAGE}" in first

    last = client.get(url, {"page": MAX_PARTICIPANTS // PER_PAGE}).content.decode()
    assert sorted(set(_rows(last))) == [
        f"{n:03d}" for n in range(MAX_PARTICIPANTS - PER_PAGE, MAX_PARTICIPANTS)
    ]
    # A page past the end, or not a number, is the last or the first page, never an error.
    assert client.get(url, {"page": "999"}).status_code == 200
    assert client.get(url, {"page": "x"}).status_code == 200


def test_match_details_reads_a_bounded_number_of_rows(client, rep_user, crowded):
    client.force_login(rep_user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{FEED}{crowded.pk}/match/").status_code == 200
    assert len(queries) < 30


def test_edit_match_offers_each_domain_once_without_a_query_per_participant(
    client, admin_member, crowded
):
    client.force_login(admin_member)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"{FEED}{crowded.pk}/edit-match/").content.decode()
    assert len(queries) < 40
    offered = re.findall(r'<option value="(company\d\.com)"', page)
    assert offered == [f"company{n}.com" for n in range(7)]
