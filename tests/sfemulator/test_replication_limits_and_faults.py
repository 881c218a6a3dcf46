"""The emulated org as simple-salesforce sees it, in-process and over a loopback socket:
replication, limits, sessions, injected faults, the control endpoints and lead conversion."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from tests.sfemulator.errors import error_of


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
