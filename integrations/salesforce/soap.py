"""SOAP envelopes crmbridge sends (login to a loopback emulator, convertLead) and their answers."""

import xml.etree.ElementTree as ET  # noqa: S405 - responses from the org we called
from html import escape

import requests

from .errors import TRANSIENT_CODES, LimitExceeded, PermanentError, TransientError, _Expired


def soap_login_body(username: str, password: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8" ?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Header><urn:CallOptions>'
        "<urn:client>crmbridge</urn:client><urn:defaultNamespace>sf</urn:defaultNamespace>"
        "</urn:CallOptions></soapenv:Header><soapenv:Body><urn:login>"
        f"<urn:username>{escape(username)}</urn:username>"
        f"<urn:password>{escape(password)}</urn:password>"
        "</urn:login></soapenv:Body></soapenv:Envelope>"
    )


def convert_lead_envelope(
    session_id, lead_id, status, account_id, contact_id, no_opportunity, opportunity_name
) -> str:
    def el(name, value):
        if value is None:
            return ""
        return f"<urn:{name}>{escape(str(value))}</urn:{name}>"

    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Header><urn:SessionHeader>'
        f"<urn:sessionId>{escape(session_id)}</urn:sessionId></urn:SessionHeader>"
        "</soapenv:Header><soapenv:Body><urn:convertLead><urn:leadConverts>"
        + el("accountId", account_id)
        + el("contactId", contact_id)
        + el("convertedStatus", status)
        + el("doNotCreateOpportunity", "true" if no_opportunity else "false")
        + el("leadId", lead_id)
        + el("opportunityName", opportunity_name)
        + el("overwriteLeadSource", "false")
        + el("sendNotificationEmail", "false")
        + "</urn:leadConverts></urn:convertLead></soapenv:Body></soapenv:Envelope>"
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_convert_response(resp: requests.Response) -> dict:
    try:
        root = ET.fromstring(resp.content)  # noqa: S314
    except ET.ParseError:
        if resp.status_code >= 500:
            raise TransientError(f"HTTP {resp.status_code}", status=resp.status_code) from None
        raise PermanentError(f"unreadable SOAP response (HTTP {resp.status_code})") from None
    values = {_local(el.tag): el for el in root.iter()}
    if "Fault" in values:
        code = (values.get("exceptionCode").text if "exceptionCode" in values else None) or (
            (values["faultcode"].text or "").split(":")[-1] if "faultcode" in values else None
        )
        message = values["exceptionMessage"].text if "exceptionMessage" in values else ""
        if code == "INVALID_SESSION_ID":
            raise _Expired()
        if code == "REQUEST_LIMIT_EXCEEDED":
            raise LimitExceeded(message, error_code=code, status=resp.status_code)
        if resp.status_code >= 500 and code in (None, "UNKNOWN_EXCEPTION", "SERVER_UNAVAILABLE"):
            raise TransientError(message or "SOAP fault", error_code=code, status=resp.status_code)
        raise PermanentError(message or "SOAP fault", error_code=code, status=resp.status_code)
    if resp.status_code >= 500:
        raise TransientError(f"HTTP {resp.status_code}", status=resp.status_code)
    result = values.get("result")
    if result is None:
        raise PermanentError("convertLead: no result in the response")
    fields = {}
    for child in result:
        name = _local(child.tag)
        nil = child.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
        fields[name] = None if nil else (child.text or "").strip() or None
    if fields.get("success") != "true":
        err = next((c for c in result if _local(c.tag) == "errors"), None)
        code = message = None
        err_fields = []
        if err is not None:
            for c in err:
                if _local(c.tag) == "statusCode":
                    code = c.text
                elif _local(c.tag) == "message":
                    message = c.text
                elif _local(c.tag) == "fields" and c.text:
                    err_fields.append(c.text)
        if code in TRANSIENT_CODES:
            raise TransientError(message or "convertLead failed", error_code=code)
        raise PermanentError(message or "convertLead failed", error_code=code, fields=err_fields)
    return {k: fields.get(k) for k in ("leadId", "accountId", "contactId", "opportunityId")}
