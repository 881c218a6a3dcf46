"""API versions, SOAP login's retirement and chunked request bodies, both ways in."""

from __future__ import annotations

import socket

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed
from simple_salesforce.login import soap_login

import sfemulator

from .conftest import LOGIN_BODY


def chunks(data: bytes, size: int = 7):
    """A generator body: requests sends it with Transfer-Encoding: chunked."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


def auth(way) -> dict:
    return {"Authorization": f"Bearer {way.sf.session_id}"}


def test_versions_listed_are_served_and_the_default_is_current(way):
    listed = way.session.get(way.url("/services/data/")).json()
    versions = [v["version"] for v in listed]
    assert versions == sfemulator.VERSIONS and versions[0] == "31.0" and versions[-1] == "68.0"
    assert sfemulator.DEFAULT_VERSION == "68.0"
    assert {"label": "Winter '27", "url": "/services/data/v68.0", "version": "68.0"} in listed
    for v in ("31.0", "59.0", "66.0", "68.0"):
        r = way.session.get(way.url(f"/services/data/v{v}/limits"), headers=auth(way))
        assert r.status_code == 200, v


@pytest.mark.parametrize("version", ["69.0", "99.0", "6.0"])
def test_an_unknown_version_is_404(way, version):
    r = way.session.get(way.url(f"/services/data/v{version}/limits"), headers=auth(way))
    assert r.status_code == 404
    assert r.json()[0]["errorCode"] == "NOT_FOUND"


@pytest.mark.parametrize("version", ["20.0", "30.0"])
def test_a_retired_version_is_gone_over_rest_and_unsupported_over_soap(way, version):
    r = way.session.get(way.url(f"/services/data/v{version}/sobjects"), headers=auth(way))
    assert r.status_code == 410
    assert r.json()[0]["errorCode"] == "GONE"
    body = LOGIN_BODY.format(u=way.org.username, p=way.org.password)
    with pytest.raises(SalesforceAuthenticationFailed) as exc:
        soap_login(
            way.url(f"/services/Soap/u/{version}"), body, {"SOAPAction": "login"}, None, way.session
        )
    assert exc.value.code == "UNSUPPORTED_API_VERSION"


@pytest.mark.parametrize("version", ["65.0", "66.0"])
def test_soap_login_is_refused_from_65(way, version):
    body = LOGIN_BODY.format(u=way.org.username, p=way.org.password)
    r = way.session.post(
        way.url(f"/services/Soap/u/{version}"),
        data=body,
        headers={"SOAPAction": "login", "Content-Type": "text/xml"},
    )
    assert r.status_code == 500
    assert "<faultcode>sf:INVALID_OPERATION</faultcode>" in r.text
    assert "login() is not available in API version 65.0 and later" in r.text
    sid, _ = soap_login(
        way.url("/services/Soap/u/64.0"), body, {"SOAPAction": "login"}, None, way.session
    )
    assert sid


def test_chunked_bodies_on_rest_soap_and_oauth(way):
    r = way.session.post(
        way.url("/services/data/v66.0/sobjects/Account"),
        data=chunks(b'{"Name": "Chunked Ltd", "Website": "chunked.example"}'),
        headers={**auth(way), "Content-Type": "application/json"},
    )
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert r.status_code == 201, r.text
    acc = r.json()["id"]
    r = way.session.patch(
        way.url(f"/services/data/v66.0/sobjects/Account/{acc}"),
        data=chunks(b'{"Website": "chunked.io"}', 3),
        headers={**auth(way), "Content-Type": "application/json"},
    )
    assert r.status_code == 204
    assert way.org.get("Account", acc)["Website"] == "chunked.io"
    body = LOGIN_BODY.format(u=way.org.username, p=way.org.password).encode()
    r = way.session.post(
        way.url("/services/Soap/u/59.0"),
        data=chunks(body, 50),
        headers={"SOAPAction": "login", "Content-Type": "text/xml"},
    )
    assert r.status_code == 200 and "<sessionId>" in r.text
    app = way.org.create_connected_app("cc", run_as=way.org.username)
    form = f"grant_type=client_credentials&client_id={app.consumer_key}"
    form += f"&client_secret={app.consumer_secret}"
    r = way.session.post(
        way.url("/services/oauth2/token"),
        data=chunks(form.encode(), 9),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and r.json()["access_token"]
    sf = Salesforce(
        session_id=r.json()["access_token"], instance=way.sf.sf_instance, session=way.session
    )
    assert sf.query("SELECT Website FROM Account")["records"][0]["Website"] == "chunked.io"


def test_a_broken_chunked_body_is_a_400_not_a_crash(org):
    server = sfemulator.serve(org)
    try:
        host, port = server.server_address[:2]
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(
                b"POST /services/data/v66.0/sobjects/Account HTTP/1.1\r\nHost: x\r\n"
                b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"
            )
            answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 400")
    finally:
        server.stop()
