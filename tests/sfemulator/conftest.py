"""Fixtures that reach an emulated org through simple-salesforce, unmodified, both ways in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.login import soap_login

import sfemulator
from tests.sfemulator.oauth_flow import CALLBACK

LOGIN_BODY = (
    '<?xml version="1.0" encoding="utf-8" ?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Body><urn:login>'
    "<urn:username>{u}</urn:username><urn:password>{p}</urn:password>"
    "</urn:login></soapenv:Body></soapenv:Envelope>"
)


@dataclass
class Way:
    kind: str
    org: sfemulator.Org
    sf: Salesforce
    session: requests.Session
    base: str  # scheme://host[:port] that reaches the org with this session

    def url(self, path: str) -> str:
        return self.base + path

    def login_again(self) -> Salesforce:
        self.sf = _login(self.kind, self.org, self.session, self.base)
        return self.sf


def _login(kind, org, session, base) -> Salesforce:
    if kind == "inprocess":
        sid, instance = SalesforceLogin(
            username=org.username,
            password=org.password,
            security_token="",
            session=session,
            domain="sfemulator",
        )
    else:
        sid, instance = soap_login(
            f"{base}/services/Soap/u/59.0",
            LOGIN_BODY.format(u=org.username, p=org.password),
            {"content-type": "text/xml", "SOAPAction": "login"},
            None,
            session,
        )
    return Salesforce(session_id=sid, instance=instance, session=session)


@pytest.fixture
def org():
    o = sfemulator.Org(":memory:", username="api@crmbridge.example", password="s3cret")
    yield o
    o.close()


@pytest.fixture(params=["inprocess", "loopback"])
def way(request, org):
    if request.param == "inprocess":
        session = org.session()
        yield Way(
            "inprocess",
            org,
            _login("inprocess", org, session, ""),
            session,
            "https://sfemulator.salesforce.com",
        )
        return
    server = sfemulator.serve(org, port=0, fault_hold_seconds=2.0)
    session = sfemulator.loopback_session(server.url)
    try:
        yield Way(
            "loopback", org, _login("loopback", org, session, server.url), session, server.url
        )
    finally:
        session.close()
        server.stop()


@pytest.fixture
def app(org):
    return org.create_connected_app(
        "crmbridge", callback_urls=[CALLBACK], run_as=org.username, scopes=["api", "refresh_token"]
    )
