"""SOQL in the emulated org as simple-salesforce sees it, in-process and over a loopback socket:
deleted rows, operators, format_soql values, relationships, polymorphic Who and What."""

from __future__ import annotations

import pytest
from simple_salesforce import format_soql


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
