"""The one Salesforce client: the only module in crmbridge that imports simple_salesforce.

Three ways to reach an org, chosen by ``settings.SALESFORCE`` (see ``get_client``):

* ``emulator``: the embedded emulated org (``sfemulator``) in this process, from a SQLite file;
* ``loopback``: an emulated org served over HTTP at ``http://127.0.0.1:PORT``
  (``python -m sfemulator serve``), logged in with username and password;
* ``org``: a real org, by username, password and security token (``DOMAIN=test`` for sandboxes).

The same code runs against all three. The client retries transient failures (5xx, dropped
connections, timeouts, ``UNABLE_TO_LOCK_ROW``) with capped exponential backoff and a finite number
of attempts, logs in again once when the session expired, reads API usage from the
``Sforce-Limit-Info`` header of every response, refuses work that would pass the API budget, and
raises typed errors:

* ``SalesforceError``: the base class (``message``, ``error_code``, ``fields``, ``status``);
* ``TransientError``: gave up after retrying (or an ambiguous failure of a non-idempotent call);
* ``PermanentError``: Salesforce said no (``error_code``, ``fields``, ``message``); a retry
  would fail the same way;
* ``LimitExceeded``: the org's own API limit is spent (``REQUEST_LIMIT_EXCEEDED``);
* ``BudgetExceeded``: crmbridge's budget (``budget_percent`` of the org's daily limit) would pass.

All SOQL is built with ``simple_salesforce.format_soql``. Passwords and tokens never reach logs,
exception messages or ``repr``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import xml.etree.ElementTree as ET  # noqa: S405 - responses from the org we called
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from html import escape
from typing import Any

import requests
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.exceptions import SalesforceError as _SSError
from simple_salesforce.login import SalesforceLogin, soap_login

log = logging.getLogger(__name__)

API_VERSION = "59.0"
COLLECTION_SIZE = 200
TRANSIENT_CODES = {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION"}
_LIMIT_RE = re.compile(r"api-usage=(\d+)/(\d+)")


# -- errors -----------------------------------------------------------------------------------
class SalesforceError(Exception):
    """Base of every error this client raises."""

    def __init__(self, message: str, *, error_code: str | None = None, fields=None, status=None):
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.fields = list(fields or [])
        self.status = status

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}" if self.error_code else self.message


class TransientError(SalesforceError):
    """A failure that may pass: the client retried and gave up, or could not retry safely."""


class PermanentError(SalesforceError):
    """Salesforce rejected the request; the same request will fail again."""


class LimitExceeded(SalesforceError):
    """The org's daily API request limit is exhausted (REQUEST_LIMIT_EXCEEDED)."""


class BudgetExceeded(SalesforceError):
    """The work would pass crmbridge's share of the org's daily API limit."""


class _Expired(Exception):
    """Internal: the session expired (REST 401 or SOAP INVALID_SESSION_ID fault)."""


def _first_error(content) -> tuple[str | None, str, list]:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        e = content[0]
        return e.get("errorCode") or e.get("statusCode"), e.get("message", ""), e.get("fields", [])
    if isinstance(content, dict):
        return content.get("errorCode"), content.get("message", str(content)), []
    return None, str(content)[:500], []


# -- the client -------------------------------------------------------------------------------
class SalesforceClient:
    """A thin, retrying client over simple-salesforce. Build it with ``for_emulator``,
    ``for_loopback``, ``for_org``, or ``get_client()`` (from Django settings)."""

    def __init__(
        self,
        *,
        mode: str,
        login: Callable[[requests.Session], tuple[str, str]],
        session: requests.Session,
        username: str | None,
        instance_url: str | None = None,
        version: str = API_VERSION,
        budget_percent: float = 20,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        timeout: float | None = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.mode = mode
        self.username = username
        self.version = version
        self.budget_percent = budget_percent
        self.max_attempts = max(1, int(max_attempts))
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self._sleep = sleep
        self._login_fn = login
        self._session = session
        self._session.hooks["response"].append(self._on_response)
        self._sf: Salesforce | None = None
        self._instance_url = instance_url
        self._lock = threading.RLock()
        self._describe_cache: dict[str, dict] = {}
        self.api_used: int | None = None
        self.api_max: int | None = None
        self.last_error: str | None = None
        self.logins = 0

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def for_emulator(cls, org, **kwargs) -> SalesforceClient:
        """A client for an in-process ``sfemulator.Org`` (no socket)."""
        session = org.session()

        def login(s):
            return SalesforceLogin(
                username=org.username,
                password=org.password,
                security_token=org.security_token,
                sf_version=kwargs.get("version", API_VERSION),
                session=s,
                domain="sfemulator",
            )

        return cls(mode="emulator", login=login, session=session, username=org.username, **kwargs)

    @classmethod
    def for_loopback(cls, url: str, username: str, password: str, **kwargs) -> SalesforceClient:
        """A client for an emulated org served at ``url`` (``http://127.0.0.1:PORT``)."""
        from sfemulator.transport import loopback_session

        url = url.rstrip("/")
        session = loopback_session(url)
        version = kwargs.get("version", API_VERSION)

        def login(s):
            body = _soap_login_body(username, password)
            headers = {"content-type": "text/xml", "charset": "UTF-8", "SOAPAction": "login"}
            return soap_login(f"{url}/services/Soap/u/{version}", body, headers, None, s)

        return cls(
            mode="loopback", login=login, session=session, username=username, instance_url=url,
            **kwargs,
        )  # fmt: skip

    @classmethod
    def for_org(
        cls, username: str, password: str, security_token: str = "", domain: str | None = None,
        **kwargs,
    ) -> SalesforceClient:  # fmt: skip
        """A client for a real org (``domain="test"`` for a sandbox, or a My Domain name)."""
        session = requests.Session()
        version = kwargs.get("version", API_VERSION)

        def login(s):
            return SalesforceLogin(
                username=username,
                password=password,
                security_token=security_token or "",
                sf_version=version,
                session=s,
                domain=domain or "login",
            )

        return cls(mode="org", login=login, session=session, username=username, **kwargs)

    def __repr__(self) -> str:
        return (
            f"<SalesforceClient mode={self.mode} instance={self.instance_url or '-'} "
            f"user={self.username or '-'}>"
        )

    # -- connection -------------------------------------------------------------------------------
    @property
    def instance_url(self) -> str | None:
        if self._sf is not None and self.mode != "loopback":
            return f"https://{self._sf.sf_instance}"
        return self._instance_url

    def _connection(self) -> Salesforce:
        with self._lock:
            if self._sf is None:
                self._login()
            return self._sf

    def _login(self) -> None:
        with self._lock:
            try:
                session_id, instance = self._login_fn(self._session)
            except SalesforceAuthenticationFailed as exc:
                if isinstance(exc.code, int) and exc.code >= 500:
                    raise TransientError(
                        f"login: HTTP {exc.code}", error_code="SERVER_UNAVAILABLE", status=exc.code
                    ) from None
                self.last_error = f"login failed: {exc.code}"
                raise PermanentError(
                    "Salesforce login failed; check the username, password and security token",
                    error_code=str(exc.code) if exc.code else "INVALID_LOGIN",
                    status=401,
                ) from None
            self._sf = Salesforce(
                session_id=session_id, instance=instance, session=self._session,
                version=self.version,
            )  # fmt: skip
            self.logins += 1
            log.info("salesforce: logged in (%s, %s)", self.mode, instance)

    def _on_response(self, response, *args, **kwargs):
        info = response.headers.get("Sforce-Limit-Info")
        if info:
            m = _LIMIT_RE.search(info)
            if m:
                self.api_used, self.api_max = int(m.group(1)), int(m.group(2))
        return response

    # -- the one place that calls Salesforce ------------------------------------------------------
    def _call(self, what: str, fn: Callable[[Salesforce], Any], *, idempotent: bool = True):
        """Run fn(sf) with retries. Non-idempotent calls are not retried after an ambiguous
        failure (the request may have been processed); they raise TransientError instead."""
        relogged = False
        last: SalesforceError | None = None
        attempt = 0
        while attempt < self.max_attempts:
            attempt += 1
            try:
                sf = self._connection()
                result = fn(sf)
                self.last_error = None
                return result
            except _Expired:
                if relogged:
                    last = PermanentError(
                        "session rejected right after logging in",
                        error_code="INVALID_SESSION_ID",
                        status=401,
                    )
                    break
                log.info("salesforce: session expired during %s; logging in again", what)
                relogged = True
                attempt -= 1  # logging in again is not a failed attempt
                with self._lock:
                    self._sf = None
                continue
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = TransientError(f"{what}: {type(exc).__name__}", error_code="CONNECTION")
                if not idempotent:
                    break
            except TransientError as exc:
                last = exc
                # A locked row means nothing was written; anything else may have been.
                if not idempotent and exc.error_code != "UNABLE_TO_LOCK_ROW":
                    break
            except (PermanentError, LimitExceeded) as exc:
                self.last_error = str(exc)
                raise
            if attempt < self.max_attempts:
                delay = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
                log.warning(
                    "salesforce: %s failed (%s), attempt %d/%d, retrying in %.1fs",
                    what, last, attempt, self.max_attempts, delay,
                )  # fmt: skip
                if delay > 0:
                    self._sleep(delay)
        self.last_error = str(last)
        log.error("salesforce: %s gave up: %s", what, last)
        raise last

    def _rest(self, what: str, fn: Callable[[Salesforce], Any], *, idempotent: bool = True):
        """_call for REST: translates simple-salesforce's exceptions into ours."""

        def wrapped(sf):
            try:
                return fn(sf)
            except SalesforceExpiredSession:
                raise _Expired() from None
            except _SSError as exc:
                raise _translate(exc) from None

        return self._call(what, wrapped, idempotent=idempotent)

    # -- budget -----------------------------------------------------------------------------------
    def ensure_budget(self, calls_needed: int) -> None:
        """Raise BudgetExceeded if ``calls_needed`` more calls would pass budget_percent of the
        org's daily limit. Learns the usage with one ``limits`` call if it is not known yet."""
        if self.api_max is None:
            self.limits()
        allowed = self.api_max * self.budget_percent / 100
        if self.api_used + calls_needed > allowed:
            raise BudgetExceeded(
                f"{calls_needed} more API calls would pass the budget: {self.api_used} of "
                f"{self.api_max} used, budget {self.budget_percent}% = {int(allowed)}",
                error_code="BUDGET_EXCEEDED",
            )

    # -- simple calls -----------------------------------------------------------------------------
    def limits(self) -> dict:
        return self._rest("limits", lambda sf: sf.limits())

    def describe(self, sobject: str) -> dict:
        """The sobject's describe (cached per client)."""
        if sobject not in self._describe_cache:
            self._describe_cache[sobject] = self._rest(
                f"describe {sobject}", lambda sf: dict(getattr(sf, sobject).describe())
            )
        return self._describe_cache[sobject]

    def mandatory_fields(self, sobject: str) -> list[str]:
        """Fields a create must set: createable, not nillable, not defaulted on create."""
        return [
            f["name"]
            for f in self.describe(sobject)["fields"]
            if f["createable"] and not f["nillable"] and not f["defaultedOnCreate"]
        ]

    def get(self, sobject: str, record_id: str) -> dict:
        return self._rest(f"get {sobject}", lambda sf: dict(getattr(sf, sobject).get(record_id)))

    def create(self, sobject: str, data: dict) -> str:
        """Create one record (not retried after an ambiguous failure); returns its Id."""
        result = self._rest(
            f"create {sobject}", lambda sf: getattr(sf, sobject).create(data), idempotent=False
        )
        return result["id"]

    def update(self, sobject: str, record_id: str, data: dict) -> None:
        self._rest(f"update {sobject}", lambda sf: getattr(sf, sobject).update(record_id, data))

    def upsert(self, sobject: str, external_id_field: str, value: str, data: dict) -> dict:
        """Upsert one record by external id; returns {id, created}."""

        def call(sf):
            resp = getattr(sf, sobject).upsert(
                f"{external_id_field}/{requests.utils.quote(str(value), safe='')}",
                data,
                raw_response=True,
            )
            body = resp.json() if resp.content else {}
            return {"id": body.get("id"), "created": resp.status_code == 201}

        return self._rest(f"upsert {sobject}", call)

    def delete(self, sobject: str, record_id: str) -> None:
        def call(sf):
            try:
                getattr(sf, sobject).delete(record_id)
            except SalesforceResourceNotFound as exc:
                code, _, _ = _first_error(exc.content)
                if code != "ENTITY_IS_DELETED":
                    raise

        self._rest(f"delete {sobject}", call)

    # -- queries ----------------------------------------------------------------------------------
    def query_all_iter(
        self, soql_template: str, *, batch_size: int | None = None, include_deleted=False, **params
    ) -> Iterator[dict]:
        """Iterate over every record of a query across pages. Values go in as ``params`` and are
        quoted by ``format_soql``: ``query_all_iter("SELECT Id FROM Contact WHERE Email = {email}",
        email=e)``."""
        soql = format_soql(soql_template, **params)
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else {}
        page = self._rest(
            "query",
            lambda sf: sf.query(soql, include_deleted=include_deleted, headers=headers),
        )
        while True:
            yield from page["records"]
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            next_url = page["nextRecordsUrl"]
            page = self._rest(
                "queryMore",
                lambda sf, u=next_url: sf.query_more(u, identifier_is_url=True, headers=headers),
            )

    def query_all(self, soql_template: str, **params) -> list[dict]:
        return list(self.query_all_iter(soql_template, **params))

    def count(self, soql_template: str, **params) -> int:
        soql = format_soql(soql_template, **params)
        return self._rest("query", lambda sf: sf.query(soql))["totalSize"]

    def get_updated(self, sobject: str, start: datetime, end: datetime) -> dict:
        """``{"ids": [...], "latestDateCovered": ...}`` for records changed in [start, end)."""
        return dict(
            self._rest(f"updated {sobject}", lambda sf: getattr(sf, sobject).updated(start, end))
        )

    def get_deleted(self, sobject: str, start: datetime, end: datetime) -> dict:
        """``{"deletedRecords": [{"id", "deletedDate"}], "earliestDateAvailable",
        "latestDateCovered"}``."""
        return dict(
            self._rest(f"deleted {sobject}", lambda sf: getattr(sf, sobject).deleted(start, end))
        )

    # -- collections ------------------------------------------------------------------------------
    def _collection(self, what, records, path, method, *, all_or_none, idempotent, type_=None):
        results: list[dict] = []
        for start in range(0, len(records), COLLECTION_SIZE):
            chunk = records[start : start + COLLECTION_SIZE]
            payload_records = [
                {"attributes": {"type": type_}, **r} if type_ and "attributes" not in r else r
                for r in chunk
            ]
            results.extend(
                self._chunk_with_lock_retries(
                    what, path, method, payload_records, all_or_none, idempotent
                )
            )
        return results

    def _chunk_with_lock_retries(self, what, path, method, records, all_or_none, idempotent):
        """Send one collection; records that failed only with UNABLE_TO_LOCK_ROW are sent again
        (idempotent operations only), up to max_attempts rounds."""
        out: list[dict | None] = [None] * len(records)
        pending = list(range(len(records)))
        for round_ in range(1, self.max_attempts + 1):
            batch = [records[i] for i in pending]
            body = {"allOrNone": all_or_none, "records": batch}
            res = self._rest(
                what,
                lambda sf, body=body: sf.restful(path, method=method, json=body),
                idempotent=idempotent,
            )
            retry = []
            for i, r in zip(pending, res or [], strict=False):
                r = _normalise(r)
                out[i] = r
                codes = {e.get("statusCode") for e in r["errors"]}
                if not r["success"] and codes and codes <= {"UNABLE_TO_LOCK_ROW"}:
                    retry.append(i)
            if not retry or not idempotent or all_or_none or round_ == self.max_attempts:
                break
            pending = retry
            log.warning("salesforce: %s: %d records locked, sending again", what, len(retry))
        return out

    def upsert_many(self, sobject: str, external_id_field: str, records: list[dict]) -> list[dict]:
        """Upsert by external id in collections of 200; returns one result per record:
        ``{"id", "success", "created", "errors": [{"statusCode", "message", "fields"}]}``.
        Safe to retry, so every transient failure is retried."""
        return self._collection(
            f"upsert {sobject}",
            list(records),
            f"composite/sobjects/{sobject}/{external_id_field}",
            "PATCH",
            all_or_none=False,
            idempotent=True,
            type_=sobject,
        )

    def create_many(self, sobject: str, records: list[dict], *, all_or_none=False) -> list[dict]:
        """Create in collections of 200. Not idempotent: an ambiguous failure (dropped
        connection, timeout, 5xx) raises TransientError instead of risking duplicates; prefer
        ``upsert_many`` on Crmbridge_Id__c."""
        return self._collection(
            f"create {sobject}", list(records), "composite/sobjects", "POST",
            all_or_none=all_or_none, idempotent=False, type_=sobject,
        )  # fmt: skip

    def update_many(self, sobject: str, records: list[dict], *, all_or_none=False) -> list[dict]:
        """Update by Id (each record carries ``Id``) in collections of 200."""
        return self._collection(
            f"update {sobject}", list(records), "composite/sobjects", "PATCH",
            all_or_none=all_or_none, idempotent=True, type_=sobject,
        )  # fmt: skip

    def delete_many(self, record_ids: Iterable[str], *, all_or_none=False) -> list[dict]:
        """Delete by Id in collections of 200. A record already deleted (say, by an earlier
        attempt whose answer was lost) counts as deleted."""
        record_ids = list(record_ids)
        results = []
        for start in range(0, len(record_ids), COLLECTION_SIZE):
            chunk = record_ids[start : start + COLLECTION_SIZE]
            params = {"ids": ",".join(chunk), "allOrNone": str(bool(all_or_none)).lower()}
            res = self._rest(
                "delete",
                lambda sf, p=params: sf.restful("composite/sobjects", params=p, method="DELETE"),
            )
            for rid, r in zip(chunk, res or [], strict=False):
                r = _normalise(r)
                if not r["success"] and {e.get("statusCode") for e in r["errors"]} == {
                    "ENTITY_IS_DELETED"
                }:
                    r = {**r, "id": r["id"] or rid, "success": True, "errors": []}
                results.append(r)
        return results

    # -- SOAP convertLead -------------------------------------------------------------------------
    def convert_lead(
        self,
        lead_id: str,
        converted_status: str,
        account_id: str | None = None,
        contact_id: str | None = None,
        do_not_create_opportunity: bool = False,
        opportunity_name: str | None = None,
    ) -> dict:
        """Convert a Lead with SOAP convertLead; returns {leadId, accountId, contactId,
        opportunityId}. When an earlier attempt converted the lead but its answer was lost, the
        retry finds the lead converted and returns what it was converted to."""

        def call(sf):
            envelope = _convert_lead_envelope(
                sf.session_id, lead_id, converted_status, account_id, contact_id,
                do_not_create_opportunity, opportunity_name,
            )  # fmt: skip
            url = f"https://{sf.sf_instance}/services/Soap/u/{self.version}"
            resp = sf.session.post(
                url,
                data=envelope.encode("utf-8"),
                headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "convertLead"},
            )
            return _parse_convert_response(resp)

        state = {"attempts": 0}

        def attempt(sf):
            state["attempts"] += 1
            try:
                return call(sf)
            except PermanentError as exc:
                if state["attempts"] > 1 and exc.error_code == "CANNOT_UPDATE_CONVERTED_LEAD":
                    return self._converted(lead_id)
                raise

        return self._call("convertLead", attempt, idempotent=True)

    def _converted(self, lead_id: str) -> dict:
        rows = self.query_all(
            "SELECT Id, ConvertedAccountId, ConvertedContactId, ConvertedOpportunityId "
            "FROM Lead WHERE Id = {lead_id}",
            lead_id=lead_id,
        )
        r = rows[0]
        return {
            "leadId": r["Id"],
            "accountId": r["ConvertedAccountId"],
            "contactId": r["ConvertedContactId"],
            "opportunityId": r["ConvertedOpportunityId"],
        }

    # -- admin page helpers ----------------------------------------------------------------------
    def describe_connection(self) -> dict:
        return {
            "mode": self.mode,
            "instance_url": self.instance_url,
            "username": self.username,
            "api_used": self.api_used,
            "api_max": self.api_max,
            "last_error": self.last_error,
        }

    def test_connection(self) -> dict:
        """One cheap call (limits). Returns {"ok": bool, "message": str}."""
        try:
            limits = self.limits()
        except SalesforceError as exc:
            return {"ok": False, "message": str(exc)}
        daily = limits.get("DailyApiRequests", {})
        return {
            "ok": True,
            "message": f"connected: {daily.get('Remaining')} of {daily.get('Max')} daily API "
            "requests remaining",
        }


# -- helpers ------------------------------------------------------------------------------------
def _translate(exc: _SSError) -> SalesforceError:
    code, message, fields = _first_error(exc.content)
    status = exc.status
    if isinstance(exc, SalesforceRefusedRequest) and code == "REQUEST_LIMIT_EXCEEDED":
        return LimitExceeded(message, error_code=code, status=status)
    if isinstance(exc, SalesforceGeneralError) and (status or 0) >= 500:
        return TransientError(message or f"HTTP {status}", error_code=code, status=status)
    if code in TRANSIENT_CODES:
        return TransientError(message, error_code=code, fields=fields, status=status)
    if isinstance(exc, SalesforceMoreThanOneRecord):
        return PermanentError(
            f"more than one record matches: {exc.content}", error_code="MULTIPLE_CHOICES",
            status=300,
        )  # fmt: skip
    if isinstance(exc, SalesforceResourceNotFound | SalesforceMalformedRequest):
        return PermanentError(message, error_code=code or "NOT_FOUND", fields=fields, status=status)
    return PermanentError(message, error_code=code, fields=fields, status=status)


def _normalise(r: dict) -> dict:
    r = dict(r)
    return {
        "id": r.get("id"),
        "success": bool(r.get("success")),
        "created": r.get("created"),
        "errors": [dict(e) for e in r.get("errors") or []],
    }


def _soap_login_body(username: str, password: str) -> str:
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


def _convert_lead_envelope(
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


def _parse_convert_response(resp: requests.Response) -> dict:
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


# -- from Django settings -------------------------------------------------------------------------
_client: SalesforceClient | None = None
_client_lock = threading.Lock()
_orgs: dict[str, Any] = {}


def client_from_config(config: dict, **kwargs) -> SalesforceClient:
    """Build a client from a ``settings.SALESFORCE``-shaped dict. INSTANCE_URL / USERNAME win over
    EMULATOR; an ``http://`` INSTANCE_URL is an emulator served on loopback."""
    instance_url = config.get("INSTANCE_URL")
    username = config.get("USERNAME")
    if instance_url and instance_url.startswith("http://"):
        return SalesforceClient.for_loopback(
            instance_url, username or "", config.get("PASSWORD") or "", **kwargs
        )
    if instance_url or username:
        domain = config.get("DOMAIN")
        if not domain and instance_url:
            # https://acme.my.salesforce.com -> My Domain login "acme.my"
            host = instance_url.split("://", 1)[-1].split("/", 1)[0]
            domain = host.removesuffix(".salesforce.com") if host.endswith(".salesforce.com") \
                else None  # fmt: skip
        return SalesforceClient.for_org(
            username or "", config.get("PASSWORD") or "", config.get("SECURITY_TOKEN") or "",
            domain, **kwargs,
        )  # fmt: skip
    path = config.get("EMULATOR")
    if path:
        import sfemulator

        org = _orgs.get(path)
        if org is None:
            org = _orgs[path] = sfemulator.Org(path)
        return SalesforceClient.for_emulator(org, **kwargs)
    raise PermanentError(
        "Salesforce is not configured: set SALESFORCE_EMULATOR, or SALESFORCE_INSTANCE_URL / "
        "SALESFORCE_USERNAME",
        error_code="NOT_CONFIGURED",
    )


def get_client() -> SalesforceClient:
    """The process-wide client, built from ``settings.SALESFORCE`` on first use."""
    global _client
    with _client_lock:
        if _client is None:
            from django.conf import settings

            _client = client_from_config(getattr(settings, "SALESFORCE", {}) or {})
        return _client


def install_client(client: SalesforceClient | None) -> None:
    """Make `client` the process-wide client (tests point crmbridge at an in-memory org)."""
    global _client
    with _client_lock:
        _client = client


def reset_client() -> None:
    """Forget the process-wide client (tests, or after settings change)."""
    global _client
    with _client_lock:
        _client = None
