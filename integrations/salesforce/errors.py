"""The errors the client raises, and which Salesforce error codes are worth trying again."""

from simple_salesforce.exceptions import SalesforceError as _SSError
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

# Error codes of a call that may pass when sent again.
TRANSIENT_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION"})
# Record-level results worth sending again later: the transient ones, the org's spent limit
# and crmbridge's own code for a connection that failed before Salesforce answered.
RESEND_LATER_CODES = TRANSIENT_CODES | {"REQUEST_LIMIT_EXCEEDED", "CONNECTION"}


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


def first_error(content) -> tuple[str | None, str, list]:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        e = content[0]
        return e.get("errorCode") or e.get("statusCode"), e.get("message", ""), e.get("fields", [])
    if isinstance(content, dict):
        return content.get("errorCode"), content.get("message", str(content)), []
    return None, str(content)[:500], []


def normalise_result(r: dict) -> dict:
    r = dict(r)
    return {
        "id": r.get("id"),
        "success": bool(r.get("success")),
        "created": r.get("created"),
        "errors": [dict(e) for e in r.get("errors") or []],
    }


def translate(exc: _SSError) -> SalesforceError:
    code, message, fields = first_error(exc.content)
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
