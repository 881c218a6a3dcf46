"""The one Salesforce client (with ``auth.py`` and ``errors.py``, the only code in crmbridge that
imports simple_salesforce).

It retries transient failures (5xx, dropped connections, timeouts, ``UNABLE_TO_LOCK_ROW``) with
capped exponential backoff and a finite number of attempts, signs in again once when the session
expired (an OAuth client refreshes its access token; ``auth.py`` has the flows), reads API usage
from the ``Sforce-Limit-Info`` header of every response, refuses work that would pass the API
budget, and raises the typed errors of ``errors.py``. All SOQL is built with
``simple_salesforce.format_soql``. Passwords and tokens never reach logs, exception messages or
``repr``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import requests
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceResourceNotFound,
)
from simple_salesforce.exceptions import SalesforceError as _SSError
from simple_salesforce.login import SalesforceLogin, soap_login

from sfemulator.transport import loopback_session

from .auth import (
    SOAP_LOGIN_LAST_VERSION,
    AuthFlow,
    ReconnectRequired,
    check_api_version,
    login_failure,
)
from .bulk import BulkQueries
from .composite import CollectionCalls
from .errors import (
    BudgetExceeded,
    LimitExceeded,
    PermanentError,
    SalesforceError,
    TransientError,
    _Expired,
    first_error,
    translate,
)
from .soap import convert_lead_envelope, parse_convert_response, soap_login_body

log = logging.getLogger(__name__)

_LIMIT_RE = re.compile(r"api-usage=(\d+)/(\d+)")


# -- the client -------------------------------------------------------------------------------
class SalesforceClient(CollectionCalls, BulkQueries):
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
        version: str = SOAP_LOGIN_LAST_VERSION,
        flow: str = AuthFlow.PASSWORD,
        session_id: tuple[str, str] | None = None,
        verify_version: bool = False,
        on_reconnect_required: Callable[[str], None] | None = None,
        budget_percent: float = 20,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        timeout: float | None = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        bulk_poll_seconds: float = 2.0,
    ):
        self.mode = mode
        self.flow = flow
        self.username = username
        self.version = version
        # (access token, instance) kept from an earlier sign-in: used before signing in again.
        self._kept_session = session_id
        self._verify_version = verify_version
        self._on_reconnect_required = on_reconnect_required
        self.budget_percent = budget_percent
        self.max_attempts = max(1, int(max_attempts))
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self._sleep = sleep
        self.bulk_poll_seconds = bulk_poll_seconds  # between looks at a running Bulk API job
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
        kwargs.setdefault("bulk_poll_seconds", 0)  # its jobs are done when first looked at

        def login(s):
            return SalesforceLogin(
                username=org.username,
                password=org.password,
                security_token=org.security_token,
                sf_version=kwargs.get("version", SOAP_LOGIN_LAST_VERSION),
                session=s,
                domain="sfemulator",
            )

        return cls(mode="emulator", login=login, session=session, username=org.username, **kwargs)

    @classmethod
    def for_loopback(cls, url: str, username: str, password: str, **kwargs) -> SalesforceClient:
        """A client for an emulated org served at ``url`` (``http://127.0.0.1:PORT``)."""
        url = url.rstrip("/")
        session = loopback_session(url)
        kwargs.setdefault("bulk_poll_seconds", 0)
        version = kwargs.get("version", SOAP_LOGIN_LAST_VERSION)

        def login(s):
            body = soap_login_body(username, password)
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
        version = kwargs.get("version", SOAP_LOGIN_LAST_VERSION)

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
            f"<SalesforceClient mode={self.mode} flow={self.flow} "
            f"instance={self.instance_url or '-'} "
            f"user={self.username or '-'}>"
        )

    # -- connection -------------------------------------------------------------------------------
    @property
    def instance_url(self) -> str | None:
        if self._sf is not None and not self._instance_url:
            return f"https://{self._sf.sf_instance}"
        return self._instance_url

    def _connection(self) -> Salesforce:
        with self._lock:
            if self._sf is None:
                self._login()
            return self._sf

    def _login(self) -> None:
        with self._lock:
            kept, self._kept_session = self._kept_session, None
            try:
                session_id, instance = kept or self._login_fn(self._session)
            except ReconnectRequired as exc:
                self.last_error = str(exc)
                if self._on_reconnect_required is not None:
                    self._on_reconnect_required(str(exc))
                raise
            except SalesforceAuthenticationFailed as exc:
                if isinstance(exc.code, int) and exc.code >= 500:
                    raise TransientError(
                        f"login: HTTP {exc.code}", error_code="SERVER_UNAVAILABLE", status=exc.code
                    ) from None
                self.last_error = f"login failed: {exc.code}"
                raise login_failure(exc, self.flow) from None
            if self._verify_version:
                check_api_version(self._session, instance, self.version)
                self._verify_version = False  # once per client: at connect time
            self._sf = Salesforce(
                session_id=session_id, instance=instance, session=self._session,
                version=self.version,
            )  # fmt: skip
            if not kept:
                self.logins += 1
            log.info("salesforce: signed in (%s, %s, %s)", self.mode, self.flow, instance)

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
                raise translate(exc) from None

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
                code, _, _ = first_error(exc.content)
                if code != "ENTITY_IS_DELETED":
                    raise

        self._rest(f"delete {sobject}", call)

    # -- queries ----------------------------------------------------------------------------------
    def query_pages(
        self, soql_template: str, *, batch_size: int | None = None, include_deleted=False, **params
    ) -> Iterator[dict]:
        """Every page of a query as the REST API gives it (``totalSize``, ``done``,
        ``records``); the next page is asked for only when the caller wants it. Values go in as
        ``params`` and are quoted by ``format_soql``."""
        soql = format_soql(soql_template, **params)
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else {}
        page = self._rest(
            "query",
            lambda sf: sf.query(soql, include_deleted=include_deleted, headers=headers),
        )
        while True:
            yield page
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            next_url = page["nextRecordsUrl"]
            page = self._rest(
                "queryMore",
                lambda sf, u=next_url: sf.query_more(u, identifier_is_url=True, headers=headers),
            )

    def query_all_iter(
        self, soql_template: str, *, batch_size: int | None = None, include_deleted=False, **params
    ) -> Iterator[dict]:
        """Iterate over every record of a query across pages. Values go in as ``params`` and are
        quoted by ``format_soql``: ``query_all_iter("SELECT Id FROM Contact WHERE Email = {email}",
        email=e)``."""
        for page in self.query_pages(
            soql_template, batch_size=batch_size, include_deleted=include_deleted, **params
        ):
            yield from page["records"]

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
            envelope = convert_lead_envelope(
                sf.session_id, lead_id, converted_status, account_id, contact_id,
                do_not_create_opportunity, opportunity_name,
            )  # fmt: skip
            url = f"https://{sf.sf_instance}/services/Soap/u/{self.version}"
            resp = sf.session.post(
                url,
                data=envelope.encode("utf-8"),
                headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "convertLead"},
            )
            return parse_convert_response(resp)

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
            "flow": self.flow,
            "api_version": self.version,
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
