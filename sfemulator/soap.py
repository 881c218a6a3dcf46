"""The SOAP (partner API) calls crmbridge uses: login and convertLead."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - parsing requests addressed to ourselves
from html import escape

from .errors import ApiError
from .versions import LOGIN_REMOVED_FROM, VERSIONS, is_retired
from .web import Response

ENV_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns="urn:partner.soap.sforce.com" '
    'xmlns:sf="urn:sobject.partner.soap.sforce.com" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
)
ENV_CLOSE = "</soapenv:Envelope>"
XML = "text/xml;charset=UTF-8"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el) -> dict:
    return {_local(c.tag): c for c in el}


def _text(el, name, default=None):
    for c in el:
        if _local(c.tag) == name:
            return (c.text or "").strip() or default
    return default


def _fault(code: str, message: str, fault_type="UnexpectedErrorFault"):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        f'<detail><sf:{fault_type} xsi:type="sf:{fault_type}">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        f"</sf:{fault_type}></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(500, body, XML)


def handle(app, req, version: str):
    if version not in VERSIONS:
        what = "is retired" if is_retired(version) else "is not supported"
        return _fault("UNSUPPORTED_API_VERSION", f"API version {version} {what}")
    try:
        root = ET.fromstring(req.body)  # noqa: S314
    except ET.ParseError:
        return _fault("INVALID_XML", "The request is not well-formed XML")
    parts = _children(root)
    body = parts.get("Body")
    if body is None or not len(body):
        return _fault("INVALID_XML", "No SOAP Body")
    call = body[0]
    op = _local(call.tag)
    org = app.org
    if op == "login" and float(version) >= LOGIN_REMOVED_FROM:
        return _fault(
            "INVALID_OPERATION",
            "SOAP API login() is not available in API version 65.0 and later; "
            "authenticate with OAuth 2.0 through a connected app or external client app.",
        )
    if op == "login":
        sid = org.login(_text(call, "username", ""), _text(call, "password", ""))
        if sid is None:
            return _fault(
                "INVALID_LOGIN",
                "Invalid username, password, security token; or user locked out.",
                "LoginFault",
            )
        user = org.get("User", org.user_id)
        server = f"{req.base}/services/Soap/u/{version}/{org.org_id[:15]}"
        meta = f"{req.base}/services/Soap/m/{version}/{org.org_id[:15]}"
        xml = (
            ENV_OPEN + "<soapenv:Body><loginResponse><result>"
            f"<metadataServerUrl>{escape(meta)}</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
            f"<serverUrl>{escape(server)}</serverUrl><sessionId>{escape(sid)}</sessionId>"
            f"<userId>{org.user_id}</userId><userInfo>"
            "<accessibilityMode>false</accessibilityMode><currencySymbol>$</currencySymbol>"
            "<orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit>"
            "<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>"
            "<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments>"
            "<orgHasPersonAccounts>false</orgHasPersonAccounts>"
            f"<organizationId>{org.org_id}</organizationId>"
            "<organizationMultiCurrency>false</organizationMultiCurrency>"
            "<organizationName>crmbridge emulated org</organizationName>"
            '<profileId>00e5g000000AbCdAAK</profileId><roleId xsi:nil="true"/>'
            "<sessionSecondsValid>7200</sessionSecondsValid>"
            f'<userDefaultCurrencyIsoCode xsi:nil="true"/><userEmail>{escape(user["Email"])}'
            f"</userEmail><userFullName>{escape(user['Name'])}</userFullName>"
            f"<userId>{org.user_id}</userId><userLanguage>en_US</userLanguage>"
            "<userLocale>en_US</userLocale>"
            f"<userName>{escape(org.username)}</userName>"
            "<userTimeZone>Europe/London</userTimeZone><userType>Standard</userType>"
            "<userUiSkin>Theme3</userUiSkin></userInfo></result></loginResponse></soapenv:Body>"
            + ENV_CLOSE
        )
        resp = Response(200, xml, XML)
        return resp
    header = parts.get("Header")
    sid = None
    if header is not None:
        for el in header.iter():
            if _local(el.tag) == "sessionId":
                sid = (el.text or "").strip()
    if not org.check_session(sid):
        return _fault(
            "INVALID_SESSION_ID",
            "Invalid Session ID found in SessionHeader: Illegal Session",
            "UnexpectedErrorFault",
        )
    allowed, used, limit = org.count_api_call()
    if not allowed:
        resp = _fault("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        app._limit_header(resp, used, limit)
        return resp
    if op != "convertLead":
        resp = _fault("INVALID_OPERATION", f"Operation {op} is not supported by the emulator")
        app._limit_header(resp, used, limit)
        return resp
    converts = [c for c in call if _local(c.tag) == "leadConverts"]
    if len(converts) > 200:
        resp = _fault("LIMIT_EXCEEDED", "convertLead accepts at most 200 leads")
        app._limit_header(resp, used, limit)
        return resp
    results = []
    for c in converts:
        lead_id = _text(c, "leadId")
        try:
            r = org.convert_lead(
                lead_id or "",
                _text(c, "convertedStatus"),
                account_id=_text(c, "accountId"),
                contact_id=_text(c, "contactId"),
                do_not_create_opportunity=(
                    _text(c, "doNotCreateOpportunity", "false").lower() == "true"
                ),
                opportunity_name=_text(c, "opportunityName"),
                owner_id=_text(c, "ownerId"),
            )
        except ApiError as exc:
            fields = "".join(f"<fields>{escape(f)}</fields>" for f in exc.fields)
            results.append(
                '<result><accountId xsi:nil="true"/><contactId xsi:nil="true"/>'
                f"<errors>{fields}<message>{escape(exc.message)}</message>"
                f"<statusCode>{exc.code}</statusCode></errors>"
                f"<leadId>{escape(lead_id or '')}</leadId>"
                '<opportunityId xsi:nil="true"/><success>false</success></result>'
            )
            continue

        def el(name, value):
            return f'<{name} xsi:nil="true"/>' if value is None else f"<{name}>{value}</{name}>"

        results.append(
            "<result>"
            + el("accountId", r["accountId"])
            + el("contactId", r["contactId"])
            + el("leadId", r["leadId"])
            + el("opportunityId", r["opportunityId"])
            + "<success>true</success></result>"
        )
    xml = (
        ENV_OPEN
        + "<soapenv:Body><convertLeadResponse>"
        + "".join(results)
        + "</convertLeadResponse></soapenv:Body>"
        + ENV_CLOSE
    )
    resp = Response(200, xml, XML)
    app._limit_header(resp, used, limit)
    return resp
