"""Where other clients look: child subqueries, aggregates, semi-/anti-joins, collections
retrieve, describe's childRelationships and the standard picklists of a new org."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

import sfemulator


@pytest.fixture
def world(org):
    acme = org.insert("Account", {"Name": "Acme"})
    bare = org.insert("Account", {"Name": "Bare"})
    globex = org.insert("Account", {"Name": "Globex"})
    people = [
        org.insert("Contact", {"LastName": n, "Email": f"{n.lower()}@{d}", "AccountId": a})
        for n, d, a in [
            ("Ann", "acme.com", acme),
            ("Bob", "acme.com", acme),
            ("Cy", "acme.com", acme),
            ("Dee", "globex.com", globex),
        ]
    ]
    org.insert("Contact", {"LastName": "Orphan"})
    for name, stage, acc in [
        ("A1", "Prospecting", acme),
        ("A2", "Closed Won", acme),
        ("G1", "Prospecting", globex),
    ]:
        org.insert(
            "Opportunity",
            {"Name": name, "StageName": stage, "AccountId": acc, "CloseDate": "2026-06-30"},
        )
    return {"acme": acme, "bare": bare, "globex": globex, "people": people}


def test_child_relationship_subqueries(way, world):
    res = way.sf.query(
        "SELECT Name, (SELECT LastName, Email FROM Contacts WHERE Email LIKE '%acme.com' "
        "ORDER BY LastName DESC LIMIT 2) FROM Account ORDER BY Name"
    )
    assert res["totalSize"] == 3
    acme, bare, globex = res["records"]
    assert acme["Name"] == "Acme" and acme["Contacts"]["totalSize"] == 2
    assert acme["Contacts"]["done"] is True
    assert [c["LastName"] for c in acme["Contacts"]["records"]] == ["Cy", "Bob"]
    assert acme["Contacts"]["records"][0]["attributes"]["type"] == "Contact"
    assert bare["Contacts"] is None and globex["Contacts"] is None  # none matched
    res = way.sf.query(
        "SELECT Id, (SELECT Name FROM Opportunities) FROM Account WHERE Name = 'Globex'"
    )
    assert [o["Name"] for o in res["records"][0]["Opportunities"]["records"]] == ["G1"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.query("SELECT Name, (SELECT Id FROM Widgets) FROM Account")
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE"


def test_aggregate_queries(way, world):
    res = way.sf.query("SELECT COUNT(Id) FROM Contact")
    assert res == {
        "totalSize": 1,
        "done": True,
        "records": [{"attributes": {"type": "AggregateResult"}, "expr0": 5}],
    }
    res = way.sf.query(
        "SELECT StageName, COUNT(Id) total, COUNT(AccountId) FROM Opportunity "
        "GROUP BY StageName ORDER BY COUNT(Id) DESC"
    )
    assert [(r["StageName"], r["total"], r["expr0"]) for r in res["records"]] == [
        ("Prospecting", 2, 2),
        ("Closed Won", 1, 1),
    ]
    res = way.sf.query(
        "SELECT AccountId, COUNT(Id), MAX(LastName) FROM Contact "
        "WHERE AccountId != null GROUP BY AccountId ORDER BY AccountId"
    )
    by_account = {r["AccountId"]: (r["expr0"], r["expr1"]) for r in res["records"]}
    assert by_account == {world["acme"]: (3, "Cy"), world["globex"]: (1, "Dee")}
    assert way.sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 5  # COUNT() stays a count
    with pytest.raises(SalesforceMalformedRequest) as exc:
        way.sf.query("SELECT Name, COUNT(Id) FROM Contact GROUP BY AccountId")
    assert exc.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_semi_joins_and_anti_joins(way, world):
    res = way.sf.query(
        "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact "
        "WHERE Email LIKE '%acme.com') ORDER BY Name"
    )
    assert [r["Name"] for r in res["records"]] == ["Acme"]
    res = way.sf.query(
        "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM "
        "Opportunity WHERE StageName = 'Prospecting') ORDER BY Name"
    )
    assert [r["Name"] for r in res["records"]] == ["Bare"]
    res = way.sf.query(
        "SELECT LastName FROM Contact WHERE AccountId IN (SELECT AccountId FROM Opportunity "
        "WHERE StageName = 'Closed Won') AND Id NOT IN (SELECT Id FROM Contact WHERE "
        "LastName = 'Bob') ORDER BY LastName"
    )
    assert [r["LastName"] for r in res["records"]] == ["Ann", "Cy"]
    with pytest.raises(SalesforceMalformedRequest):
        way.sf.query("SELECT Id FROM Account WHERE Name IN (SELECT LastName FROM Contact)")


def test_collections_retrieve_by_get_and_post(way, world):
    wanted = [world["people"][1], world["people"][3], world["acme"]]  # the Account id: no match
    url = way.url("/services/data/v66.0/composite/sobjects/Contact")
    headers = {"Authorization": f"Bearer {way.sf.session_id}"}
    r = way.session.get(
        url, headers=headers, params={"ids": ",".join(wanted), "fields": "LastName,Email"}
    )
    assert r.status_code == 200
    first, second, missing = r.json()
    assert set(first) == {"attributes", "LastName", "Email"} and first["LastName"] == "Bob"
    assert first["attributes"]["url"].endswith(world["people"][1])
    assert second["Email"] == "dee@globex.com" and missing is None
    r = way.session.post(url, headers=headers, json={"ids": wanted[:2], "fields": ["Email"]})
    assert r.status_code == 200 and [c["Email"] for c in r.json()] == [
        "bob@acme.com",
        "dee@globex.com",
    ]
    r = way.session.get(url, headers=headers, params={"ids": wanted[0], "fields": "Shoe__c"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"


def test_describe_lists_child_relationships(way):
    children = {
        (c["childSObject"], c["field"]): c["relationshipName"]
        for c in way.sf.Account.describe()["childRelationships"]
    }
    assert children[("Contact", "AccountId")] == "Contacts"
    assert children[("Opportunity", "AccountId")] == "Opportunities"
    assert children[("Task", "WhatId")] == "Tasks"
    opp = {c["relationshipName"] for c in way.sf.Opportunity.describe()["childRelationships"]}
    assert "OpportunityContactRoles" in opp


def test_every_new_org_has_the_standard_picklists(way):
    statuses = way.sf.query(
        "SELECT MasterLabel, IsConverted, IsDefault FROM LeadStatus ORDER BY SortOrder"
    )["records"]
    assert [s["MasterLabel"] for s in statuses] == [
        "Open - Not Contacted",
        "Working - Contacted",
        "Closed - Converted",
        "Closed - Not Converted",
    ]
    assert [s["MasterLabel"] for s in statuses if s["IsConverted"]] == ["Closed - Converted"]
    assert [s["MasterLabel"] for s in statuses if s["IsDefault"]] == ["Open - Not Contacted"]
    lead = way.sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    assert way.sf.Lead.get(lead)["Status"] == "Open - Not Contacted"
    assert way.org.convert_lead(lead, "Closed - Converted")["contactId"]
    fields = {f["name"]: f for f in way.sf.Opportunity.describe()["fields"]}
    stages = [p["value"] for p in fields["StageName"]["picklistValues"]]
    assert stages[0] == "Prospecting" and {"Closed Won", "Closed Lost"} <= set(stages)
    won = way.sf.Opportunity.create(
        {"Name": "W", "StageName": "Closed Won", "CloseDate": "2026-01-31"}
    )["id"]
    assert way.sf.Opportunity.get(won)["IsWon"] is True
    assert sfemulator.Org(":memory:").count("LeadStatus") == 4  # any new org, not only this one
