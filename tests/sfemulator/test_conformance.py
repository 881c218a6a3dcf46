"""The emulated org as simple-salesforce sees it, in-process and over a loopback socket."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
import requests
from simple_salesforce import format_soql
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sfemulator import ids


def error_of(exc_info):
    content = exc_info.value.content
    return content[0]["errorCode"], content[0].get("fields", [])


def test_it_lists_versions_and_resources(way):
    r = way.session.get(way.url("/services/data/"))
    assert r.status_code == 200
    assert {"version": "59.0", "url": "/services/data/v59.0", "label": "Winter '24"} in r.json()
    assert way.sf.restful("")["query"] == "/services/data/v59.0/query"
    names = {o["name"] for o in way.sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Lead", "Opportunity", "LeadStatus", "User"} <= names


def test_it_creates_reads_updates_and_deletes(way):
    created = way.sf.Account.create({"Name": "Acme", "Website": "https://acme.com"})
    assert created["success"] is True and created["errors"] == []
    acc_id = created["id"]
    assert acc_id.startswith("001") and len(acc_id) == 18 and ids.is_valid(acc_id)
    rec = way.sf.Account.get(acc_id)
    assert rec["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{acc_id}",
    }
    assert rec["Name"] == "Acme" and rec["IsDeleted"] is False
    assert rec["OwnerId"] == way.org.user_id
    assert rec["CreatedDate"].endswith("+0000")
    assert way.sf.Account.get(acc_id[:15])["Id"] == acc_id  # 15-character ids work too
    assert way.sf.Account.update(acc_id, {"Website": "acme.io"}) == 204
    assert way.sf.Account.get(acc_id)["Website"] == "acme.io"
    assert way.sf.Account.delete(acc_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as exc:
        way.sf.Account.get(acc_id)
    assert error_of(exc)[0] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("sobject", "data", "missing"),
    [
        ("Contact", {"FirstName": "Ann"}, ["LastName"]),
        ("Lead", {"FirstName": "Ann"}, ["LastName", "Company"]),
        ("Account", {"Website": "x.com"}, ["Name"]),
        ("Opportunity", {"AccountId": None}, ["Name", "StageName", "CloseDate"]),
    ],
)
def test_it_reports_missing_required_fields(way, sobject, data, missing):
    with pytest.raises(SalesforceMalformedRequest) as exc:
        getattr(way.sf, sobject).create(data)
    code, fields = error_of(exc)
    assert code == "REQUIRED_FIELD_MISSING"
    assert fields == missing
    assert exc.value.content[0]["message"] == f"Required fields are missing: [{', '.join(missing)}]"


def test_it_reports_unknown_things_like_salesforce(way):
    with pytest.raises(SalesforceResourceNotFound) as exc:
        way.sf.Widget__c.create({"Name": "x"})
    assert error_of(exc)[0] == "NOT_FOUND"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.query("SELECT Id FROM Widget__c")
    assert error_of(exc)[0] == "INVALID_TYPE"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.query("SELECT Id, Shoe_Size__c FROM Contact")
    assert error_of(exc)[0] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.query("SELECT Id FROM Contact WHERE")
    assert error_of(exc)[0] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.Contact.create({"LastName": "X", "Shoe_Size__c": 9})
    assert error_of(exc)[0] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.Contact.create({"LastName": "X", "IsDeleted": True})
    assert error_of(exc)[0] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_it_rejects_malformed_ids(way):
    acc = way.org.insert("Account", {"Name": "A"})
    broken = acc[:15] + "999"  # 6..9 never occur in a checksum suffix
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.Account.get(broken)
    assert error_of(exc)[0] == "MALFORMED_ID"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.Contact.create({"LastName": "X", "AccountId": "not-an-id"})
    assert error_of(exc) == ("MALFORMED_ID", ["AccountId"])
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.Contact.get(acc)  # an Account id is no Contact id
    assert error_of(exc)[0] == "MALFORMED_ID"


def test_it_upserts_by_external_id_with_salesforce_status_codes(way):
    r = way.sf.Contact.upsert("Crmbridge_Id__c/cb-1", {"LastName": "One"}, raw_response=True)
    assert r.status_code == 201
    assert r.json()["created"] is True
    cid = r.json()["id"]
    r = way.sf.Contact.upsert("Crmbridge_Id__c/cb-1", {"LastName": "Uno"}, raw_response=True)
    assert r.status_code == 200  # API 46.0 and later answer 200 with a body
    assert r.json() == {"id": cid, "success": True, "errors": [], "created": False}
    assert way.sf.Contact.get(cid)["LastName"] == "Uno"
    assert way.sf.Contact.get_by_custom_id("Crmbridge_Id__c", "cb-1")["Id"] == cid
    # an older API version answers 204 without a body
    r = way.session.patch(
        way.url("/services/data/v45.0/sobjects/Contact/Crmbridge_Id__c/cb-1"),
        json={"LastName": "Un"},
        headers={"Authorization": f"Bearer {way.sf.session_id}"},
    )
    assert r.status_code == 204 and r.content == b""
    # updateOnly: no match is a 404, nothing created
    with pytest.raises(SalesforceResourceNotFound):
        way.sf.restful(
            "sobjects/Contact/Crmbridge_Id__c/cb-2",
            params={"updateOnly": "true"},
            method="PATCH",
            json={"LastName": "Two"},
        )
    assert way.org.count("Contact") == 1
    # an external id held by two records (planted; a real org can hold such data): 300
    way.org.insert("Contact", {"LastName": "Twin", "Crmbridge_Id__c": "cb-1"}, validate=False)
    with pytest.raises(SalesforceMoreThanOneRecord) as exc:
        way.sf.Contact.upsert("Crmbridge_Id__c/cb-1", {"LastName": "Three"})
    assert exc.value.status == 300
    assert len(exc.value.content) == 2 and all(
        "/sobjects/Contact/003" in u for u in exc.value.content
    )


def test_it_rejects_a_duplicate_external_id(way):
    way.sf.Account.create({"Name": "A", "Crmbridge_Id__c": "acc-1"})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.Account.create({"Name": "B", "Crmbridge_Id__c": "acc-1"})
    assert error_of(exc) == ("DUPLICATE_VALUE", ["Crmbridge_Id__c"])


def test_it_describes_fields_enough_to_find_mandatory_ones(way):
    d = way.sf.Contact.describe()
    assert d["name"] == "Contact" and d["keyPrefix"] == "003"
    fields = {f["name"]: f for f in d["fields"]}
    mandatory = [
        n
        for n, f in fields.items()
        if f["createable"] and not f["nillable"] and not f["defaultedOnCreate"]
    ]
    assert mandatory == ["LastName"]
    assert fields["Crmbridge_Id__c"]["externalId"] is True
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    departments = [p["value"] for p in fields["Department"]["picklistValues"]]
    assert "Engineering" in departments and len(departments) >= 5
    assert [p["value"] for p in fields["Seniority__c"]["picklistValues"]][:2] == [
        "Executive",
        "Vice President",
    ]
    lead = {f["name"]: f for f in way.sf.Lead.describe()["fields"]}
    statuses = [p["value"] for p in lead["Status"]["picklistValues"]]
    assert "Closed - Converted" in statuses
    assert [
        n
        for n, f in lead.items()
        if f["createable"] and not f["nillable"] and not f["defaultedOnCreate"]
    ] == ["LastName", "Company"]
    assert way.sf.Opportunity.metadata()["objectDescribe"]["keyPrefix"] == "006"


def test_it_pages_query_results_with_next_records_url(way):
    way.org.bulk_insert("Contact", ({"LastName": f"P{i:04d}"} for i in range(2450)))
    first = way.sf.query("SELECT Id, LastName FROM Contact ORDER BY LastName")
    assert first["totalSize"] == 2450 and first["done"] is False
    assert len(first["records"]) == 2000
    assert re.fullmatch(r"/services/data/v59\.0/query/01g\w{15}-2000", first["nextRecordsUrl"])
    rest = way.sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert rest["done"] is True and "nextRecordsUrl" not in rest and len(rest["records"]) == 450
    assert rest["records"][-1]["LastName"] == "P2449"
    pages = []
    result = way.sf.query(
        "SELECT Id FROM Contact WHERE LastName < 'P0450'",
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    pages.append(len(result["records"]))
    while not result["done"]:
        result = way.sf.query_more(result["nextRecordsUrl"], identifier_is_url=True)
        pages.append(len(result["records"]))
    assert pages == [200, 200, 50]
    every = way.sf.query_all("SELECT Id FROM Contact")
    assert len({r["Id"] for r in every["records"]}) == 2450


def test_query_hides_deleted_rows_and_query_all_shows_them(way):
    a = way.org.insert("Account", {"Name": "Gone"})
    way.org.insert("Account", {"Name": "Here"})
    way.sf.Account.delete(a)
    assert [r["Name"] for r in way.sf.query("SELECT Name FROM Account")["records"]] == ["Here"]
    rows = way.sf.query_all(
        "SELECT Name, IsDeleted FROM Account ORDER BY Name", include_deleted=True
    )["records"]
    assert [(r["Name"], r["IsDeleted"]) for r in rows] == [("Gone", True), ("Here", False)]


@pytest.fixture
def people(org):
    acme = org.insert("Account", {"Name": "Acme", "Website": "acme.com"})
    org.insert("Account", {"Name": "Globex"})
    rows = [
        ("Ann", "Archer", "ann@acme.com", "VP Sales", acme, "2024-01-05"),
        ("Bob", "Baker", "BOB@acme.com", "Engineer", acme, None),
        ("Cid", "O'Brien", None, "Director of IT", None, "2024-03-01"),
        (None, "Dee", "dee@x.org", None, None, None),
    ]
    out = {}
    for first, last, email, title, acc, _ in rows:
        out[last] = org.insert(
            "Contact",
            {
                "FirstName": first,
                "LastName": last,
                "Email": email,
                "Title": title,
                "AccountId": acc,
            },
        )
    return out


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Email = 'bob@ACME.com'", ["Baker"]),  # string equality ignores case
        ("Email != 'ann@acme.com'", ["Baker", "Dee", "O'Brien"]),  # null is "not equal" too
        ("Email = null", ["O'Brien"]),
        ("Email != null", ["Archer", "Baker", "Dee"]),
        ("LastName < 'C'", ["Archer", "Baker"]),
        ("LastName <= 'Baker'", ["Archer", "Baker"]),
        ("LastName > 'Dee'", ["O'Brien"]),
        ("LastName >= 'Dee'", ["Dee", "O'Brien"]),
        ("Title LIKE '%director%'", ["O'Brien"]),
        ("Email LIKE '%@acme.com'", ["Archer", "Baker"]),
        ("LastName IN ('Dee', 'Archer')", ["Archer", "Dee"]),
        ("LastName NOT IN ('Dee', 'Archer')", ["Baker", "O'Brien"]),
        ("LastName = 'O\\'Brien'", ["O'Brien"]),
        ("Title = 'VP Sales' OR (Email = null AND NOT LastName = 'Dee')", ["Archer", "O'Brien"]),
        ("NOT (AccountId = null)", ["Archer", "Baker"]),
        ("Account.Name = 'Acme' AND FirstName != 'Ann'", ["Baker"]),
        (
            "IsDeleted = FALSE AND CreatedDate > 2000-01-01T00:00:00Z",
            ["Archer", "Baker", "Dee", "O'Brien"],
        ),
        ("CreatedDate < 2000-01-01T00:00:00+01:00", []),
        ("CreatedDate = LAST_N_DAYS:3", ["Archer", "Baker", "Dee", "O'Brien"]),
    ],
)
def test_soql_operators(way, people, where, expected):
    rows = way.sf.query_all(f"SELECT LastName FROM Contact WHERE {where} ORDER BY LastName")
    assert [r["LastName"] for r in rows["records"]] == expected


def test_soql_values_go_through_format_soql(way, people):
    soql = format_soql(
        "SELECT Id FROM Contact WHERE LastName = {name} AND Id IN {ids}",
        name="O'Brien",
        ids=[people["O'Brien"][:15], people["Dee"]],
    )
    assert [r["Id"] for r in way.sf.query(soql)["records"]] == [people["O'Brien"]]
    injected = format_soql("SELECT Id FROM Contact WHERE LastName = {}", "x' OR LastName != '")
    assert way.sf.query(injected)["totalSize"] == 0


def test_soql_parent_relationships_count_order_limit_offset(way, people):
    rows = way.sf.query(
        "SELECT Id, Name, Account.Name, Account.Website, Owner.Email FROM Contact "
        "ORDER BY Account.Name DESC NULLS LAST, LastName ASC LIMIT 3 OFFSET 1"
    )["records"]
    assert [r["Name"] for r in rows] == ["Bob Baker", "Dee", "Cid O'Brien"]
    acc = rows[0]["Account"]
    assert acc["attributes"]["type"] == "Account" and acc["Name"] == "Acme"
    assert acc["Website"] == "acme.com"
    assert rows[1]["Account"] is None
    assert rows[0]["Owner"]["Email"] == "api@crmbridge.example"
    assert list(rows[0]) == ["attributes", "Id", "Name", "Account", "Owner"]
    count = way.sf.query("SELECT COUNT() FROM Contact WHERE AccountId != null")
    assert count == {"totalSize": 2, "done": True, "records": []}
    nulls_first = way.sf.query("SELECT LastName FROM Contact ORDER BY Email NULLS FIRST")
    assert nulls_first["records"][0]["LastName"] == "O'Brien"
    nulls_last = way.sf.query("SELECT LastName FROM Contact ORDER BY Email ASC NULLS LAST")
    assert nulls_last["records"][-1]["LastName"] == "O'Brien"


def test_polymorphic_who_and_what(way, people):
    lead = way.org.insert("Lead", {"LastName": "Lee", "Company": "L Co"})
    acme = way.sf.query("SELECT Id FROM Account WHERE Name = 'Acme'")["records"][0]["Id"]
    way.org.insert("Task", {"WhoId": people["Archer"], "WhatId": acme, "Subject": "Call"})
    way.org.insert(
        "Event",
        {
            "WhoId": lead,
            "Subject": "Meet",
            "StartDateTime": "2024-05-01T09:00:00Z",
            "EndDateTime": "2024-05-01T10:00:00Z",
        },
    )
    task = way.sf.query("SELECT Subject, Status, Who.Name, What.Name FROM Task")["records"][0]
    assert task["Who"]["attributes"]["type"] == "Contact" and task["Who"]["Name"] == "Ann Archer"
    assert task["What"]["Name"] == "Acme" and task["Status"] == "Not Started"
    event = way.sf.query("SELECT Who.Name, StartDateTime FROM Event")["records"][0]
    assert event["Who"]["attributes"]["type"] == "Lead"
    assert event["StartDateTime"] == "2024-05-01T09:00:00.000+0000"


def collection(way, method, path, body=None, params=None):
    return way.sf.restful(path, method=method, json=body, params=params)


def test_collections_without_all_or_none_keep_the_good_records(way):
    res = collection(
        way,
        "POST",
        "composite/sobjects",
        {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "Good"},
                {"attributes": {"type": "Account"}, "Website": "bad.com"},
                {"attributes": {"type": "Contact"}, "LastName": "Also good"},
            ],
        },
    )
    assert [r["success"] for r in res] == [True, False, True]
    assert res[1]["errors"] == [
        {
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [Name]",
            "fields": ["Name"],
        }
    ]
    assert way.org.count("Account") == 1 and way.org.count("Contact") == 1
    upd = collection(
        way,
        "PATCH",
        "composite/sobjects",
        {
            "records": [
                {"attributes": {"type": "Account"}, "Id": res[0]["id"], "Website": "good.com"},
                {"attributes": {"type": "Contact"}, "Id": res[2]["id"], "LastName": None},
            ]
        },
    )
    assert [r["success"] for r in upd] == [True, False]
    assert way.sf.Account.get(res[0]["id"])["Website"] == "good.com"
    gone = collection(
        way,
        "DELETE",
        "composite/sobjects",
        params={"ids": f"{res[0]['id']},{res[2]['id']}", "allOrNone": "false"},
    )
    assert [r["success"] for r in gone] == [True, True]
    assert way.org.count("Account") == 0 and way.org.count("Contact") == 0


def test_collections_with_all_or_none_roll_everything_back(way):
    res = collection(
        way,
        "POST",
        "composite/sobjects",
        {
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "Good"},
                {"attributes": {"type": "Account"}, "Website": "bad.com"},
            ],
        },
    )
    assert res[0]["success"] is False
    assert res[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert res[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert way.org.count("Account") == 0


def test_collections_upsert_by_external_id(way):
    way.org.insert("Contact", {"LastName": "Old", "Crmbridge_Id__c": "c-1"})
    records = [
        {"attributes": {"type": "Contact"}, "Crmbridge_Id__c": "c-1", "LastName": "New"},
        {"attributes": {"type": "Contact"}, "Crmbridge_Id__c": "c-2", "LastName": "Two"},
        {"attributes": {"type": "Contact"}, "Crmbridge_Id__c": "c-3"},
    ]
    res = collection(
        way,
        "PATCH",
        "composite/sobjects/Contact/Crmbridge_Id__c",
        {"allOrNone": False, "records": records},
    )
    assert [(r["success"], r.get("created")) for r in res] == [
        (True, False),
        (True, True),
        (False, None),
    ]
    assert sorted(r["LastName"] for r in way.org.rows("Contact")) == ["New", "Two"]
    too_many = [{"attributes": {"type": "Contact"}, "LastName": str(i)} for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        collection(way, "POST", "composite/sobjects", {"records": too_many})
    assert error_of(exc)[0] == "EXCEEDED_ID_LIMIT"


def test_composite_resolves_references(way):
    res = collection(
        way,
        "POST",
        "composite",
        {
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "acc",
                    "body": {"Name": "Ref Co"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Contact",
                    "referenceId": "con",
                    "body": {"LastName": "Ref", "AccountId": "@{acc.id}"},
                },
                {
                    "method": "GET",
                    "referenceId": "q",
                    "url": "/services/data/v59.0/query/?q=SELECT+Id,Account.Name+FROM+Contact",
                },
                {
                    "method": "PATCH",
                    "url": "/services/data/v59.0/sobjects/Contact/@{q.records[0].Id}",
                    "referenceId": "upd",
                    "body": {"Title": "CTO"},
                },
            ],
        },
    )["compositeResponse"]
    assert [r["httpStatusCode"] for r in res] == [201, 201, 200, 204]
    assert res[1]["httpHeaders"]["Location"].startswith("/services/data/v59.0/sobjects/Contact/")
    assert res[2]["body"]["records"][0]["Account"]["Name"] == "Ref Co"
    assert way.org.rows("Contact")[0]["Title"] == "CTO"


def test_composite_all_or_none_rolls_back(way):
    res = collection(
        way,
        "POST",
        "composite",
        {
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "acc",
                    "body": {"Name": "Doomed"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Contact",
                    "referenceId": "con",
                    "body": {"FirstName": "No last name", "AccountId": "@{acc.id}"},
                },
            ],
        },
    )["compositeResponse"]
    assert [r["httpStatusCode"] for r in res] == [400, 400]
    assert res[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert res[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert way.org.count("Account") == 0
    res = collection(
        way,
        "POST",
        "composite",
        {
            "allOrNone": False,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "bad",
                    "body": {},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Contact",
                    "referenceId": "con",
                    "body": {"LastName": "X", "AccountId": "@{bad.id}"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "ok",
                    "body": {"Name": "Kept"},
                },
            ],
        },
    )["compositeResponse"]
    assert [r["httpStatusCode"] for r in res] == [400, 400, 201]
    assert res[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert [r["Name"] for r in way.org.rows("Account")] == ["Kept"]
    with pytest.raises(SalesforceMalformedRequest):
        collection(
            way,
            "POST",
            "composite",
            {
                "compositeRequest": [
                    {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"r{i}"}
                    for i in range(26)
                ]
            },
        )


def test_updated_and_deleted_for_replication(way):
    now = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    way.org.clock = lambda: now
    a = way.org.insert("Contact", {"LastName": "A"})
    b = way.org.insert("Contact", {"LastName": "B"})
    now = dt.datetime(2025, 3, 1, 12, 30, tzinfo=dt.UTC)
    way.sf.Contact.update(a, {"Title": "Boss"})
    way.sf.Contact.delete(b)
    start, end = (
        dt.datetime(2025, 3, 1, 12, 10, tzinfo=dt.UTC),
        dt.datetime(2025, 3, 1, 13, 0, tzinfo=dt.UTC),
    )
    updated = way.sf.Contact.updated(start, end)
    assert updated["ids"] == [a]
    assert updated["latestDateCovered"] == "2025-03-01T13:00:00.000+0000"
    deleted = way.sf.Contact.deleted(start, end)
    assert deleted["deletedRecords"] == [{"id": b, "deletedDate": "2025-03-01T12:30:00.000+0000"}]
    early = way.sf.Contact.updated(dt.datetime(2025, 3, 1, 11, 0, tzinfo=dt.UTC), start)
    assert early["ids"] == [b] or early["ids"] == []  # b is deleted now: not reported as updated
    assert (
        way.sf.Contact.deleted(dt.datetime(2025, 3, 1, 11, 0, tzinfo=dt.UTC), start)[
            "deletedRecords"
        ]
        == []
    )


def test_limits_header_and_request_limit_exceeded(way):
    way.org.api_limit = 5
    way.org.reset_api_usage()
    seen = []
    way.session.hooks["response"].append(
        lambda r, *a, **k: seen.append(r.headers.get("Sforce-Limit-Info"))
    )
    limits = way.sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 5, "Remaining": 4}
    assert way.sf.api_usage["api-usage"].used == 1 and way.sf.api_usage["api-usage"].total == 5
    with pytest.raises(SalesforceMalformedRequest):
        way.sf.query("SELECT Nope FROM Contact")  # an error still counts and carries the header
    for _ in range(3):
        way.sf.query("SELECT Id FROM Contact")
    with pytest.raises(SalesforceRefusedRequest) as exc:
        way.sf.query("SELECT Id FROM Contact")
    assert exc.value.status == 403 and error_of(exc)[0] == "REQUEST_LIMIT_EXCEEDED"
    assert seen == [f"api-usage={n}/5" for n in (1, 2, 3, 4, 5)] + ["api-usage=5/5"]


def test_an_invalid_session_is_401(way):
    way.org.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as exc:
        way.sf.query("SELECT Id FROM Account")
    assert exc.value.status == 401 and error_of(exc)[0] == "INVALID_SESSION_ID"
    way.login_again()
    assert way.sf.query("SELECT Id FROM Account")["totalSize"] == 0


def test_a_wrong_password_fails_soap_login(way):
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed
    from simple_salesforce.login import soap_login

    from .conftest import LOGIN_BODY

    with pytest.raises(SalesforceAuthenticationFailed) as exc:
        soap_login(
            way.url("/services/Soap/u/59.0"),
            LOGIN_BODY.format(u=way.org.username, p="wrong"),
            {"content-type": "text/xml", "SOAPAction": "login"},
            None,
            way.session,
        )
    assert exc.value.code == "INVALID_LOGIN"


@pytest.mark.parametrize(
    "kind", ["500", "503", "connection", "timeout", "invalid_session", "unable_to_lock_row"]
)
def test_faults_are_injected(way, kind):
    way.org.faults.fail_next(1, kind)
    expected = {
        "500": SalesforceGeneralError,
        "503": SalesforceGeneralError,
        "connection": requests.ConnectionError,
        "timeout": requests.Timeout,
        "invalid_session": SalesforceExpiredSession,
        "unable_to_lock_row": SalesforceMalformedRequest,
    }[kind]
    with pytest.raises(expected) as exc:
        way.sf.query("SELECT Id FROM Account", timeout=0.5)
    if kind in ("500", "503"):
        assert exc.value.status == int(kind)
    if kind == "unable_to_lock_row":
        assert error_of(exc)[0] == "UNABLE_TO_LOCK_ROW"
    assert way.sf.query("SELECT Id FROM Account")["totalSize"] == 0  # only the next call failed
    assert way.org.stats["GET query"] == 2


def test_faults_after_processing_lose_the_answer_not_the_write(way):
    way.org.faults.fail_next(1, "connection", endpoint="POST sobjects", after=True)
    with pytest.raises(requests.ConnectionError):
        way.sf.Account.create({"Name": "Written anyway"})
    assert way.org.count("Account") == 1


def test_fault_rate_is_seeded(org):
    def run():
        org.faults.clear()
        org.faults.fail_rate(0.3, "503", seed=7)
        return [org.faults.pick("GET query") is not None for _ in range(50)]

    first, second = run(), run()
    assert first == second and 5 < sum(first) < 25


def test_control_endpoints(way):
    s = way.session
    assert s.post(way.url("/_emulator/faults"), json={"n": 1, "kind": "503"}).status_code == 200
    with pytest.raises(SalesforceGeneralError):
        way.sf.limits()
    s.post(way.url("/_emulator/faults"), json={"rate": 1.0, "kind": "500", "seed": 1})
    assert s.get(way.url("/_emulator/faults")).json()["faults"][0]["rate"] == 1.0
    s.delete(way.url("/_emulator/faults"))
    way.sf.limits()
    stats = s.get(way.url("/_emulator/stats")).json()
    assert stats["calls"]["GET limits"] == 2 and stats["faults_injected"] == {"503": 1}
    s.post(way.url("/_emulator/stats/reset"))
    assert s.get(way.url("/_emulator/stats")).json()["total"] == 0
    assert s.post(way.url("/_emulator/limits"), json={"api_limit": 7}).json()["api_limit"] == 7
    s.post(way.url("/_emulator/sessions/expire"))
    with pytest.raises(SalesforceExpiredSession):
        way.sf.limits()
    assert s.post(way.url("/_emulator/faults"), json={"kind": "nope"}).status_code == 400


CONVERT = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Header><urn:SessionHeader>'
    "<urn:sessionId>{sid}</urn:sessionId></urn:SessionHeader></soapenv:Header>"
    "<soapenv:Body><urn:convertLead><urn:leadConverts>{inner}</urn:leadConverts>"
    "</urn:convertLead></soapenv:Body></soapenv:Envelope>"
)


def convert(way, **fields):
    inner = "".join(f"<urn:{k}>{v}</urn:{k}>" for k, v in fields.items())
    r = way.session.post(
        f"https://{way.sf.sf_instance}/services/Soap/u/59.0",
        data=CONVERT.format(sid=way.sf.session_id, inner=inner),
        headers={"Content-Type": "text/xml", "SOAPAction": "convertLead"},
    )
    root = ET.fromstring(r.content)
    out = {}
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag not in out:
            nil = el.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
            out[tag] = None if nil else el.text
    return r, out


def test_convert_lead_creates_account_contact_and_opportunity(way):
    lead = way.sf.Lead.create(
        {
            "FirstName": "Lia",
            "LastName": "Lo",
            "Company": "Lo Ltd",
            "Email": "lia@lo.example",
            "Title": "CEO",
        }
    )["id"]
    assert way.sf.Lead.get(lead)["Status"] == "Open - Not Contacted"  # the default status
    r, out = convert(way, leadId=lead, convertedStatus="Closed - Converted")
    assert r.status_code == 200 and out["success"] == "true"
    assert r.headers["Sforce-Limit-Info"].startswith("api-usage=")
    contact = way.sf.Contact.get(out["contactId"])
    assert (contact["Email"], contact["Title"], contact["AccountId"]) == (
        "lia@lo.example",
        "CEO",
        out["accountId"],
    )
    assert way.sf.Account.get(out["accountId"])["Name"] == "Lo Ltd"
    assert way.sf.Opportunity.get(out["opportunityId"])["AccountId"] == out["accountId"]
    converted = way.sf.Lead.get(lead)
    assert converted["IsConverted"] is True and converted["Status"] == "Closed - Converted"
    assert converted["ConvertedContactId"] == out["contactId"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.Lead.update(lead, {"Title": "CFO"})
    assert error_of(exc)[0] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_convert_lead_reuses_account_and_contact(way):
    acc = way.org.insert("Account", {"Name": "Existing"})
    con = way.org.insert("Contact", {"LastName": "Lo", "AccountId": acc})
    lead = way.org.insert("Lead", {"LastName": "Lo", "Company": "X", "Phone": "+1 555"})
    _, out = convert(
        way,
        accountId=acc,
        contactId=con,
        convertedStatus="Closed - Converted",
        doNotCreateOpportunity="true",
        leadId=lead,
    )
    assert (out["accountId"], out["contactId"], out["opportunityId"]) == (acc, con, None)
    assert way.org.count("Account") == 1 and way.org.count("Opportunity") == 0
    assert way.sf.Contact.get(con)["Phone"] == "+1 555"  # blank fields filled from the lead


def test_convert_lead_needs_a_converted_status(way):
    lead = way.org.insert("Lead", {"LastName": "Lo", "Company": "X"})
    _, out = convert(way, leadId=lead, convertedStatus="Working - Contacted")
    assert out["success"] == "false" and out["statusCode"] == "INVALID_STATUS"
    assert way.sf.Lead.get(lead)["IsConverted"] is False


def test_convert_lead_with_a_bad_session_is_a_fault(way):
    way.org.expire_sessions()
    r, out = convert(way, leadId="00Q000000000000", convertedStatus="Closed - Converted")
    assert r.status_code == 500 and out["exceptionCode"] == "INVALID_SESSION_ID"
