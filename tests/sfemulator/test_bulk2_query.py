"""Bulk API 2.0 query jobs as simple-salesforce's bulk2 helpers (unmodified) and a plain HTTP
client see them, in-process and over a loopback socket."""

from __future__ import annotations

import csv
import io
import os
import re

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceOperationError,
    SalesforceResourceNotFound,
)

# simple-salesforce sleeps this long before its first look at a job: the org answers at once.
NO_WAIT = 0


def rows(text: str, delimiter=",", lineterminator="\n") -> list[dict]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


@pytest.fixture
def people(way):
    org = way.org
    acme = org.insert("Account", {"Name": 'Acme, "the" Company'})
    ids = [
        org.insert(
            "Contact",
            {
                "FirstName": "Ann" if i % 2 else None,
                "LastName": f"Person {i}",
                "Email": f"p{i}@acme.com",
                "AccountId": acme if i % 2 else None,
            },
        )
        for i in range(7)
    ]
    return {"account": acme, "contacts": ids}


def jobs_url(way, tail="", version="59.0"):
    return way.url(f"/services/data/v{version}/jobs/query{tail}")


def headers(way):
    return {"Authorization": f"Bearer {way.sf.session_id}", "Content-Type": "application/json"}


def test_query_pages_csv_results_by_locator_until_null(way, people):
    way.org.stats.reset()
    pages = list(
        way.sf.bulk2.Contact.query(
            "SELECT Id, FirstName, LastName, Account.Name, IsDeleted, CreatedDate FROM Contact",
            max_records=3,
            wait=NO_WAIT,
        )
    )
    assert len(pages) == 3  # 3 + 3 + 1
    got = [r for page in pages for r in rows(page)]
    assert [r["Id"] for r in got] == people["contacts"]
    first, second = got[0], got[1]
    assert list(first) == [
        "Id",
        "FirstName",
        "LastName",
        "Account.Name",
        "IsDeleted",
        "CreatedDate",
    ]
    assert first["FirstName"] == "" and first["Account.Name"] == ""  # nulls are empty
    assert second["Account.Name"] == 'Acme, "the" Company'
    assert first["IsDeleted"] == "false"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["CreatedDate"])
    assert pages[0].startswith('"Id","FirstName"')  # every value quoted, header on every set
    assert all(p.startswith('"Id"') for p in pages)
    # one create, one look at the job, one call per set of results
    assert way.org.stats["POST jobs/query"] == 1
    assert way.org.stats["GET jobs/query/{id}"] == 1
    assert way.org.stats["GET jobs/query/{id}/results"] == 3


def test_results_headers_name_the_next_set_and_null_on_the_last(way, people):
    job = way.session.post(
        jobs_url(way),
        json={"operation": "query", "query": "SELECT Id FROM Contact"},
        headers=headers(way),
    ).json()
    assert job["state"] == "UploadComplete" and job["id"].startswith("750")
    assert job["jobType"] == "V2Query" and job["contentType"] == "CSV"
    info = way.session.get(jobs_url(way, f"/{job['id']}"), headers=headers(way)).json()
    assert info["state"] == "JobComplete" and info["numberRecordsProcessed"] == 7
    r = way.session.get(
        jobs_url(way, f"/{job['id']}/results"), params={"maxRecords": 5}, headers=headers(way)
    )
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Sforce-NumberOfRecords"] == "5"
    assert "api-usage=" in r.headers["Sforce-Limit-Info"]
    locator = r.headers["Sforce-Locator"]
    assert locator not in ("", "null")
    r2 = way.session.get(
        jobs_url(way, f"/{job['id']}/results"),
        params={"maxRecords": 5, "locator": locator},
        headers=headers(way),
    )
    assert r2.headers["Sforce-NumberOfRecords"] == "2" and r2.headers["Sforce-Locator"] == "null"
    # A locator names the same set as long as the job exists.
    again = way.session.get(
        jobs_url(way, f"/{job['id']}/results"),
        params={"maxRecords": 5, "locator": locator},
        headers=headers(way),
    )
    assert again.text == r2.text


def test_query_all_includes_deleted_records_and_query_does_not(way, people):
    gone = people["contacts"][0]
    way.org.delete("Contact", gone)
    live = "".join(way.sf.bulk2.Contact.query("SELECT Id, IsDeleted FROM Contact", wait=NO_WAIT))
    every = "".join(
        way.sf.bulk2.Contact.query_all("SELECT Id, IsDeleted FROM Contact", wait=NO_WAIT)
    )
    assert gone not in live
    assert {"Id": gone, "IsDeleted": "true"} in rows(every)


def test_download_writes_one_file_per_set(way, people, tmp_path):
    results = way.sf.bulk2.Contact.download(
        "SELECT Id, Email FROM Contact", str(tmp_path), max_records=4, wait=NO_WAIT
    )
    assert [r["number_of_records"] for r in results] == [4, 3]
    emails = []
    for r in results:
        with open(r["file"], encoding="utf-8") as f:
            emails += [row["Email"] for row in csv.DictReader(f)]
        os.remove(r["file"])
    assert sorted(emails) == sorted(f"p{i}@acme.com" for i in range(7))


def test_column_delimiter_and_line_ending_are_the_jobs(way, people):
    pages = way.sf.bulk2.Contact.query(
        "SELECT Id, LastName FROM Contact WHERE LastName = 'Person 3'",
        column_delimiter="PIPE",
        line_ending="CRLF",
        wait=NO_WAIT,
    )
    text = "".join(pages)
    assert text == f'"Id"|"LastName"\r\n"{people["contacts"][3]}"|"Person 3"\r\n'


def test_invalid_soql_is_refused_when_the_job_is_created(way, people):
    with pytest.raises(SalesforceMalformedRequest) as exc:
        list(way.sf.bulk2.Contact.query("SELECT Id, Nope FROM Contact", wait=NO_WAIT))
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        list(way.sf.bulk2.Contact.query("SELECT Id FROM Nothing", wait=NO_WAIT))
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE"
    for soql in (
        "SELECT COUNT() FROM Contact",
        "SELECT AccountId, COUNT(Id) FROM Contact GROUP BY AccountId",
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
        "SELECT Id FROM Contact LIMIT 2 OFFSET 1",
    ):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            list(way.sf.bulk2.Contact.query(soql, wait=NO_WAIT))
        assert exc.value.content[0]["errorCode"] == "FUNCTIONALITY_NOT_ENABLED", soql
    bad = way.session.post(
        jobs_url(way), json={"operation": "insert", "query": "SELECT Id FROM Contact"},
        headers=headers(way),
    )  # fmt: skip
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALIDJOB"
    assert way.org.query_jobs.jobs == {}


def test_a_job_in_progress_has_no_results_yet_and_can_be_aborted(way, people):
    way.org.query_jobs.in_progress_polls = 1
    job = way.session.post(
        jobs_url(way), json={"operation": "query", "query": "SELECT Id FROM Contact"},
        headers=headers(way),
    ).json()  # fmt: skip
    early = way.session.get(jobs_url(way, f"/{job['id']}/results"), headers=headers(way))
    assert early.status_code == 412
    assert early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    assert "Current status: IN_PROGRESS" in early.json()[0]["message"]
    not_yet = way.session.delete(jobs_url(way, f"/{job['id']}"), headers=headers(way))
    assert not_yet.status_code == 400 and not_yet.json()[0]["errorCode"] == "API_ERROR"
    aborted = way.sf.bulk2.Contact._client.abort_job(job["id"], True)
    assert aborted["state"] == "Aborted"
    info = way.session.get(jobs_url(way, f"/{job['id']}"), headers=headers(way)).json()
    assert info["state"] == "Aborted"
    again = way.session.patch(
        jobs_url(way, f"/{job['id']}"), json={"state": "Aborted"}, headers=headers(way)
    )
    assert again.status_code == 400 and again.json()[0]["errorCode"] == "INVALIDJOBSTATE"


def test_simple_salesforce_waits_through_in_progress(way, people):
    way.org.query_jobs.in_progress_polls = 2
    way.org.stats.reset()
    text = "".join(way.sf.bulk2.Contact.query("SELECT Id FROM Contact", wait=NO_WAIT))
    assert len(rows(text)) == 7
    assert way.org.stats["GET jobs/query/{id}"] == 3


def test_a_failed_job_says_why(way, people):
    way.org.query_jobs.fail_next(message="Query timed out after 10 minutes")
    with pytest.raises(SalesforceOperationError) as exc:
        list(way.sf.bulk2.Contact.query("SELECT Id FROM Contact", wait=NO_WAIT))
    assert "Query timed out after 10 minutes" in str(exc.value)
    [job] = way.org.query_jobs.jobs.values()
    info = way.session.get(jobs_url(way, f"/{job.id}"), headers=headers(way)).json()
    assert info["state"] == "Failed" and info["errorMessage"] == "Query timed out after 10 minutes"


def test_jobs_are_listed_and_deleted(way, people):
    client = way.sf.bulk2.Contact._client
    first = client.create_job("query", "SELECT Id FROM Contact")
    second = client.create_job("queryAll", "SELECT Id FROM Account")
    listing = way.session.get(jobs_url(way), headers=headers(way)).json()
    assert listing["done"] is True
    assert [(j["id"], j["object"], j["operation"]) for j in listing["records"]] == [
        (first["id"], "Contact", "query"),
        (second["id"], "Account", "queryAll"),
    ]
    classic = way.session.get(jobs_url(way), params={"jobType": "Classic"}, headers=headers(way))
    assert classic.json()["records"] == []
    assert client.get_job(first["id"], True)["state"] == "JobComplete"
    r = way.session.delete(jobs_url(way, f"/{first['id']}"), headers=headers(way))
    assert r.status_code == 204 and r.content == b""
    with pytest.raises(SalesforceResourceNotFound) as exc:
        client.get_job(first["id"], True)
    assert exc.value.content[0]["errorCode"] == "NOT_FOUND"
    ids = [j["id"] for j in way.session.get(jobs_url(way), headers=headers(way)).json()["records"]]
    assert ids == [second["id"]]


def test_results_need_the_version_the_job_was_created_with_and_47_or_later(way, people):
    job = way.sf.bulk2.Contact._client.create_job("query", "SELECT Id FROM Contact")
    other = way.session.get(
        jobs_url(way, f"/{job['id']}/results", version="60.0"), headers=headers(way)
    )
    assert other.status_code == 409
    old = way.session.post(
        jobs_url(way, version="46.0"), json={"operation": "query", "query": "SELECT Id FROM User"},
        headers=headers(way),
    )  # fmt: skip
    assert old.status_code == 404 and old.json()[0]["errorCode"] == "NOT_FOUND"


def test_job_calls_count_against_the_api_limit(way, people):
    way.org.api_limit = way.org.api_used + 2
    client = way.sf.bulk2.Contact._client
    job = client.create_job("query", "SELECT Id FROM Contact")
    client.get_job(job["id"], True)
    refused = way.session.get(jobs_url(way, f"/{job['id']}/results"), headers=headers(way))
    assert refused.status_code == 403
    assert refused.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
