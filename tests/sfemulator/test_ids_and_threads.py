"""Id checksums, and the org under concurrent callers."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sfemulator
from sfemulator import ids

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@pytest.mark.parametrize(
    ("id15", "id18"),
    [
        ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
        ("003A000000Ekp2X", "003A000000Ekp2XIAR"),
        ("00Q0000000000AA", "00Q0000000000AAEAY"),
    ],
)
def test_it_computes_the_salesforce_checksum(id15, id18):
    assert ids.to18(id15) == id18
    assert ids.to18(id18.lower()) == id18  # an 18-character id restores its own case
    assert ids.to18(id18.upper()) == id18


@given(st.text(alphabet=ALNUM, min_size=15, max_size=15))
def test_every_15_character_id_round_trips(id15):
    id18 = ids.to18(id15)
    assert id18[:15] == id15
    assert ids.to18(id18) == id18
    assert ids.to18(id18.swapcase()[:15] + id18[15:]) == id18


@pytest.mark.parametrize(
    "bad", ["", "001", "001A0000006Vm9rIA", "001A0000006Vm9r999", "001-000000Vm9r!"]
)
def test_it_rejects_malformed_ids(bad):
    with pytest.raises(ids.MalformedId):
        ids.to18(bad)


def test_generated_ids_carry_their_key_prefix_and_are_unique():
    seen = {ids.make_id("003", n) for n in range(1, 5001)}
    assert len(seen) == 5000
    assert all(i.startswith("0035g0") and ids.is_valid(i) for i in seen)


def test_the_loopback_server_takes_parallel_callers():
    from integrations.salesforce import SalesforceClient

    org = sfemulator.Org()
    server = sfemulator.serve(org)
    errors = []

    def work(n):
        try:
            c = SalesforceClient.for_loopback(server.url, org.username, org.password, base_delay=0)
            records = [{"Crmbridge_Id__c": f"t{n}-{i}", "LastName": "T"} for i in range(60)]
            for start in range(0, 60, 20):
                c.upsert_many("Contact", "Crmbridge_Id__c", records[start : start + 20])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    assert errors == []
    rows = org.rows("Contact")
    assert len(rows) == 360 and len({r["Id"] for r in rows}) == 360
