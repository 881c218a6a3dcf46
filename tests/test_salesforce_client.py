"""integrations.salesforce.SalesforceClient against the emulated org (no mocks of
simple-salesforce; faults are injected by the emulator)."""

from __future__ import annotations

import logging

import pytest

import sfemulator
from integrations.salesforce import (
    BudgetExceeded,
    LimitExceeded,
    PermanentError,
    SalesforceClient,
    SalesforceError,
    TransientError,
    client_from_config,
)

PASSWORD = "hunter2-secret"
TOKEN = "tok3n-secret"


@pytest.fixture
def org():
    o = sfemulator.Org(
        ":memory:", username="api@crmbridge.example", password=PASSWORD, security_token=TOKEN
    )
    yield o
    o.close()


@pytest.fixture
def client(org):
    return SalesforceClient.for_emulator(org, base_delay=0, max_attempts=4)


def test_it_retries_transient_failures_then_succeeds(org, client):
    client.limits()
    org.faults.fail_next(1, "503")
    org.faults.fail_next(1, "connection")
    org.faults.fail_next(1, "unable_to_lock_row")
    assert client.count("SELECT COUNT() FROM Contact") == 0
    assert org.stats["GET query"] == 4


def test_it_backs_off_exponentially_with_a_cap(org):
    delays = []
    c = SalesforceClient.for_emulator(
        org, base_delay=1, max_delay=3, max_attempts=5, sleep=delays.append
    )
    c.limits()
    org.faults.fail_next(4, "timeout")
    c.limits()
    assert delays == [1, 2, 3, 3]


def test_it_gives_up_after_a_finite_number_of_attempts(org, client):
    client.limits()
    org.faults.fail_next(10, "500")
    with pytest.raises(TransientError) as exc:
        client.limits()
    assert exc.value.status == 500
    assert org.stats["GET limits"] == 1 + 4
    assert client.describe_connection()["last_error"]


def test_it_logs_in_again_once_on_an_expired_session(org, client):
    client.limits()
    org.expire_sessions()
    assert client.limits()["DailyApiRequests"]["Max"] == org.api_limit
    assert client.logins == 2
    org.faults.fail_next(1, "invalid_session")
    client.limits()
    assert client.logins == 3


def test_a_session_rejected_right_after_login_is_permanent(org, client):
    client.limits()
    org.faults.fail_next(2, "invalid_session", endpoint="GET limits")
    with pytest.raises(PermanentError) as exc:
        client.limits()
    assert exc.value.error_code == "INVALID_SESSION_ID"
    assert client.logins == 2


def test_it_raises_typed_permanent_errors(client):
    with pytest.raises(PermanentError) as exc:
        client.create("Contact", {"FirstName": "No last name"})
    assert exc.value.error_code == "REQUIRED_FIELD_MISSING"
    assert exc.value.fields == ["LastName"]
    assert "Required fields are missing" in exc.value.message
    with pytest.raises(PermanentError) as exc:
        client.query_all("SELECT Id FROM Contact WHERE Nope = {v}", v=1)
    assert exc.value.error_code == "INVALID_FIELD"
    with pytest.raises(PermanentError) as exc:
        client.get("Contact", "003000000000000AAA")
    assert exc.value.error_code == "NOT_FOUND" and exc.value.status == 404
    assert isinstance(exc.value, SalesforceError)


def test_it_raises_limit_exceeded_when_the_org_limit_is_spent(org, client):
    org.api_limit = 3
    client.limits()
    client.limits()
    client.limits()
    with pytest.raises(LimitExceeded) as exc:
        client.limits()
    assert exc.value.error_code == "REQUEST_LIMIT_EXCEEDED"
    assert org.stats["GET limits"] == 4  # not retried


def test_it_tracks_usage_from_the_limit_header(org, client):
    org.api_limit = 1000
    client.count("SELECT COUNT() FROM Account")
    client.describe("Account")
    assert (client.api_used, client.api_max) == (2, 1000)
    assert client.describe_connection() == {
        "mode": "emulator",
        "flow": "password",
        "api_version": "64.0",
        "instance_url": "https://sfemulator.salesforce.com",
        "username": "api@crmbridge.example",
        "api_used": 2,
        "api_max": 1000,
        "last_error": None,
    }


def test_it_refuses_work_that_would_pass_the_budget(org):
    org.api_limit = 100
    c = SalesforceClient.for_emulator(org, base_delay=0, budget_percent=20)
    c.ensure_budget(19)  # learns usage with one call: 1 used, 20 allowed
    assert c.api_used == 1
    with pytest.raises(BudgetExceeded) as exc:
        c.ensure_budget(20)
    assert "budget 20%" in str(exc.value)
    c.budget_percent = 50
    c.ensure_budget(20)


def test_it_upserts_many_in_collections_of_200(org, client):
    org.insert("Contact", {"LastName": "Old", "Crmbridge_Id__c": "c-0"})
    records = [{"Crmbridge_Id__c": f"c-{i}", "LastName": f"L{i}"} for i in range(450)]
    records[7] = {"Crmbridge_Id__c": "c-7"}  # no LastName: fails alone
    results = client.upsert_many("Contact", "Crmbridge_Id__c", records)
    assert len(results) == 450
    assert org.stats["PATCH composite/sobjects/{type}/{field}"] == 3
    assert results[0]["created"] is False and results[1]["created"] is True
    assert results[7]["success"] is False
    assert results[7]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert org.count("Contact") == 449


def test_it_sends_locked_records_again(org, client):
    client.limits()
    records = [{"Crmbridge_Id__c": f"k-{i}", "LastName": "K"} for i in range(5)]
    org.faults.fail_next(1, "unable_to_lock_row", endpoint="PATCH composite")
    assert all(r["success"] for r in client.upsert_many("Contact", "Crmbridge_Id__c", records))


def test_create_update_and_delete_many(org, client):
    created = client.create_many("Account", [{"Name": f"A{i}"} for i in range(250)])
    assert all(r["success"] for r in created) and org.count("Account") == 250
    ids = [r["id"] for r in created]
    updated = client.update_many("Account", [{"Id": i, "Website": "x.com"} for i in ids])
    assert all(r["success"] for r in updated)
    assert {r["Website"] for r in org.rows("Account")} == {"x.com"}
    org.faults.fail_next(1, "connection", endpoint="DELETE composite", after=True)
    deleted = client.delete_many(ids)
    assert all(r["success"] for r in deleted) and org.count("Account") == 0


def test_create_many_is_not_retried_after_an_ambiguous_failure(org, client):
    client.limits()
    org.faults.fail_next(1, "connection", endpoint="POST composite", after=True)
    with pytest.raises(TransientError):
        client.create_many("Account", [{"Name": "Once"}])
    assert org.count("Account") == 1
    assert org.stats["POST composite/sobjects"] == 1


def test_query_all_iter_pages_and_quotes_values(org, client):
    org.bulk_insert("Contact", ({"LastName": "O'Hara", "Email": f"p{i}@x.com"} for i in range(450)))
    rows = list(
        client.query_all_iter(
            "SELECT Id, Email FROM Contact WHERE LastName = {name}", name="O'Hara", batch_size=200
        )
    )
    assert len(rows) == 450 and len({r["Id"] for r in rows}) == 450
    assert org.stats["GET query"] == 1 and org.stats["GET query/{locator}"] == 2


def test_updated_deleted_describe_and_mandatory_fields(org, client):
    import datetime as dt

    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    org.clock = lambda: t0
    a = org.insert("Contact", {"LastName": "A"})
    b = org.insert("Contact", {"LastName": "B"})
    org.delete("Contact", b)
    end = t0 + dt.timedelta(minutes=5)
    assert client.get_updated("Contact", t0, end)["ids"] == [a]
    assert [r["id"] for r in client.get_deleted("Contact", t0, end)["deletedRecords"]] == [b]
    assert client.mandatory_fields("Lead") == ["LastName", "Company"]
    assert client.mandatory_fields("Opportunity") == ["Name", "StageName", "CloseDate"]
    client.mandatory_fields("Lead")
    assert org.stats["GET sobjects/{type}/describe"] == 2  # cached per sobject


def test_convert_lead_over_soap(org, client):
    lead = org.insert("Lead", {"LastName": "Lo", "Company": "Lo Ltd"})
    out = client.convert_lead(lead, "Closed - Converted")
    assert out["leadId"] == lead and out["opportunityId"].startswith("006")
    with pytest.raises(PermanentError) as exc:
        client.update("Lead", lead, {"Title": "x"})
    assert exc.value.error_code == "CANNOT_UPDATE_CONVERTED_LEAD"
    other = org.insert("Lead", {"LastName": "No", "Company": "No Ltd"})
    with pytest.raises(PermanentError) as exc:
        client.convert_lead(other, "Working - Contacted")
    assert exc.value.error_code == "INVALID_STATUS"


def test_convert_lead_survives_a_lost_answer_and_an_expired_session(org, client):
    acc = org.insert("Account", {"Name": "Acme"})
    lead = org.insert("Lead", {"LastName": "Lo", "Company": "Lo Ltd"})
    client.limits()
    org.expire_sessions()
    org.faults.fail_next(1, "connection", endpoint="POST soap", after=True)
    out = client.convert_lead(
        lead, "Closed - Converted", account_id=acc, do_not_create_opportunity=True
    )
    assert out["accountId"] == acc and out["opportunityId"] is None
    assert org.count("Contact") == 1


def test_a_ten_percent_fault_rate_still_writes_every_record_exactly_once(org, client):
    client.limits()
    org.faults.fail_rate(0.03, "503", seed=1)
    org.faults.fail_rate(0.03, "connection", seed=2, after=True)
    org.faults.fail_rate(0.02, "timeout", seed=3, after=True)
    org.faults.fail_rate(0.02, "unable_to_lock_row", seed=4)
    c = SalesforceClient.for_emulator(org, base_delay=0, max_attempts=8)
    records = [
        {"Crmbridge_Id__c": f"bulk-{i}", "LastName": f"N{i}", "Email": f"n{i}@x.com"}
        for i in range(5000)
    ]
    results = c.upsert_many("Contact", "Crmbridge_Id__c", records)
    assert all(r["success"] for r in results) and len(results) == 5000
    assert sum(org.faults.injected.values()) > 0
    rows = org.rows("Contact")
    assert len(rows) == 5000
    assert len({r["Crmbridge_Id__c"] for r in rows}) == 5000
    assert org.count("Contact", include_deleted=True) == 5000


def test_secrets_never_reach_repr_logs_or_errors(org, caplog):
    caplog.set_level(logging.DEBUG)
    c = SalesforceClient.for_emulator(org, base_delay=0)
    c.limits()
    assert PASSWORD not in repr(c) and TOKEN not in repr(c)
    server = sfemulator.serve(org)
    try:
        bad = SalesforceClient.for_loopback(
            server.url, org.username, "wrong-" + PASSWORD, base_delay=0
        )
        with pytest.raises(PermanentError) as exc:
            bad.limits()
        assert exc.value.error_code == "INVALID_LOGIN"
    finally:
        server.stop()
    text = caplog.text + str(exc.value) + repr(bad) + str(bad.describe_connection())
    assert PASSWORD not in text and TOKEN not in text


def test_the_loopback_client_behaves_the_same(org):
    server = sfemulator.serve(org)
    try:
        c = SalesforceClient.for_loopback(server.url, org.username, PASSWORD + TOKEN, base_delay=0)
        org.faults.fail_next(1, "connection")
        results = c.upsert_many(
            "Contact", "Crmbridge_Id__c", [{"Crmbridge_Id__c": "l-1", "LastName": "Loop"}]
        )
        assert results[0]["created"] is True
        org.expire_sessions()
        assert c.test_connection()["ok"] is True
        assert c.describe_connection()["instance_url"] == server.url
    finally:
        server.stop()


def test_settings_choose_the_mode(tmp_path, org):
    path = str(tmp_path / "org.sqlite3")
    c = client_from_config({"EMULATOR": path})
    assert c.mode == "emulator" and c.test_connection()["ok"]
    server = sfemulator.serve(org)
    try:
        c = client_from_config(
            {
                "EMULATOR": path,
                "INSTANCE_URL": server.url,
                "USERNAME": org.username,
                "PASSWORD": PASSWORD + TOKEN,
            }
        )
        assert c.mode == "loopback" and c.test_connection()["ok"]
    finally:
        server.stop()
    c = client_from_config({"USERNAME": "u@example.com", "PASSWORD": "p", "DOMAIN": "test"})
    assert c.mode == "org"
    with pytest.raises(PermanentError):
        client_from_config({})


@pytest.mark.django_db
def test_get_client_reads_django_settings_lazily_and_is_cached(tmp_path, monkeypatch):
    django_conf = pytest.importorskip("django.conf")
    if not django_conf.settings.configured:
        pytest.skip("Django settings are not configured")
    from integrations.salesforce import get_client, reset_client

    monkeypatch.setattr(
        django_conf.settings,
        "SALESFORCE",
        {"EMULATOR": str(tmp_path / "o.sqlite3")},
        raising=False,
    )
    reset_client()
    try:
        first = get_client()
        assert first is get_client() and first.mode == "emulator"
        reset_client()
        assert get_client() is not first
    finally:
        reset_client()
