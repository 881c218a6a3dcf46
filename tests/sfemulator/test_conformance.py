"""The emulated org as simple-salesforce sees it, in-process and over a loopback socket: records,
errors, describe, queries, collections and composite requests."""

from __future__ import annotations

import re

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from sfemulator import ids
from tests.sfemulator.errors import error_of


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
