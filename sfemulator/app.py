"""The org's HTTP face: a WSGI app serving REST, SOAP and OAuth as Salesforce does."""

from __future__ import annotations

import logging
import re

from . import bulk2, oauth, soap, versions
from .composite import collections, composite
from .control import control
from .errors import ApiError, not_found
from .faults import InjectedFault
from .org import MultipleMatches, Org, _sobject, attributes
from .schema import OBJECTS
from .values import format_datetime, parse_datetime
from .versions import DATA_PATH_RE
from .web import STATUS_TEXT, Request, Response

log = logging.getLogger(__name__)

_SOAP_RE = re.compile(r"^/services/Soap/u/(\d+\.\d)(/.*)?$")
_OAUTH_RE = re.compile(r"^/services/oauth2/(authorize|token|revoke|userinfo)/?$")
_IDENTITY_RE = re.compile(r"^/id/([0-9A-Za-z]{18})/([0-9A-Za-z]{18})/?$")


def endpoint_name(method: str, path: str) -> str:
    """A stable name for stats and fault rules, e.g. ``PATCH sobjects/{type}/{id}``."""
    m = _SOAP_RE.match(path)
    if m:
        return "POST soap"
    m = DATA_PATH_RE.match(path)
    if not m:
        return f"{method} {path}"
    parts = [p for p in (m.group(2) or "").split("/") if p]
    if not parts:
        return f"{method} /"
    head = parts[0]
    if head in ("query", "queryAll"):
        return f"{method} {head}" + ("/{locator}" if len(parts) > 1 else "")
    if head == "sobjects":
        tail = ["sobjects"]
        rest = parts[1:]
        if rest:
            tail.append("{type}")
        if len(rest) >= 2:
            if rest[1] in ("describe", "updated", "deleted"):
                tail.append(rest[1])
            elif len(rest) == 2:
                tail.append("{id}")
            else:
                tail.extend(["{field}", "{value}"])
        return f"{method} " + "/".join(tail)
    if head == "jobs":
        tail = ["jobs", *parts[1:2]] + ["{id}", "results"][: len(parts) - 2]
        return f"{method} " + "/".join(tail)
    if head == "composite":
        if len(parts) == 1:
            return f"{method} composite"
        tail = ["composite", parts[1]] + ["{type}", "{field}"][: len(parts) - 2]
        return f"{method} " + "/".join(tail)
    return f"{method} {head}"


class EmulatorApp:
    """WSGI application for one Org. Shared by the in-process adapter and the loopback server."""

    def __init__(self, org: Org):
        self.org = org

    def __call__(self, environ, start_response):
        resp = self.handle(Request(environ))
        start_response(
            f"{resp.status} {STATUS_TEXT.get(resp.status, 'Unknown')}",
            [("Content-Type", resp.content_type), *resp.headers],
        )
        return [resp.encode()]

    # -- entry --------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path.startswith("/_emulator/"):
            return control(self.org, req)
        name = endpoint_name(req.method, req.path)
        self.org.stats.count(name)
        fault = self.org.faults.pick(name)
        if fault is not None and not fault.after:
            return self._fault(fault.kind)
        try:
            resp = self._serve(req)
        except ApiError as exc:
            resp = self._error(exc)
        except Exception:  # pragma: no cover - a bug in the emulator
            log.exception("sfemulator crashed on %s %s", req.method, req.path)
            resp = self._error(ApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))
        if fault is not None:
            return self._fault(fault.kind)
        return resp

    def _fault(self, kind: str) -> Response:
        if kind in ("connection", "timeout"):
            raise InjectedFault(kind)
        if kind in ("500", "503"):
            msg = "Server Unavailable" if kind == "503" else "An unexpected error occurred."
            resp = Response(
                int(kind),
                [
                    {
                        "message": msg,
                        "errorCode": "SERVER_UNAVAILABLE" if kind == "503" else "UNKNOWN_EXCEPTION",
                    }
                ],
            )
        elif kind == "invalid_session":
            resp = self._error(ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid"))
        elif kind == "limit":
            resp = self._error(
                ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            )
        else:
            resp = self._error(
                ApiError(
                    400,
                    "UNABLE_TO_LOCK_ROW",
                    "unable to obtain exclusive access to this record or 1 records",
                )
            )
        self._limit_header(resp)
        return resp

    def _error(self, exc: ApiError) -> Response:
        resp = Response(exc.status, exc.body())
        self._limit_header(resp)
        return resp

    def _limit_header(self, resp: Response, used=None, limit=None) -> None:
        used = self.org.api_used if used is None else used
        limit = self.org.api_limit if limit is None else limit
        resp.headers = [h for h in resp.headers if h[0] != "Sforce-Limit-Info"]
        resp.headers.append(("Sforce-Limit-Info", f"api-usage={used}/{limit}"))

    def _session_id(self, req: Request) -> str | None:
        auth = req.headers.get("authorization", "")
        for prefix in ("Bearer ", "OAuth "):
            if auth.startswith(prefix):
                return auth[len(prefix) :].strip()
        return None

    def _serve(self, req: Request) -> Response:
        m = _OAUTH_RE.match(req.path)
        if m:
            return oauth.handle(self, req, m.group(1))
        m = _IDENTITY_RE.match(req.path)
        if m and req.method == "GET":
            return oauth.identity(self, req, m.group(1), m.group(2))
        m = _SOAP_RE.match(req.path)
        if m:
            return soap.handle(self, req, m.group(1))
        if req.path.rstrip("/") == "/services/data":
            resp = Response(200, versions.listing())
            self._limit_header(resp)
            return resp
        m = DATA_PATH_RE.match(req.path)
        if not m:
            raise not_found()
        version = m.group(1)
        versions.check_version(version)
        if not self.org.check_session(self._session_id(req)):
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        allowed, used, limit = self.org.count_api_call()
        if not allowed:
            raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        parts = [p for p in (m.group(2) or "").split("/") if p]
        resp = self.dispatch(req.method, parts, req.query, req.json, version, req.headers)
        self._limit_header(resp, used, limit)
        return resp

    # -- routing ------------------------------------------------------------------------------
    def dispatch(self, method, parts, query, body_fn, version, headers) -> Response:
        try:
            return self._route(method, parts, query, body_fn, version, headers)
        except ApiError as exc:
            return Response(exc.status, exc.body())

    def _route(self, method, parts, query, body_fn, version, headers) -> Response:
        org = self.org
        if not parts:
            base = f"/services/data/v{version}"
            return Response(
                200,
                {
                    k: f"{base}/{k}"
                    for k in ("sobjects", "query", "queryAll", "composite", "limits")
                },
            )
        head, rest = parts[0], parts[1:]
        if head == "limits" and method == "GET":
            return Response(200, self._limits())
        if head in ("query", "queryAll") and method == "GET":
            if rest:
                locator, _, start = rest[0].partition("-")
                return Response(200, org.query_more(locator, int(start or 0), version))
            soql = query.get("q")
            if not soql:
                raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
            batch = _batch_size(headers.get("sforce-query-options", ""))
            result = org.query(
                soql, include_deleted=head == "queryAll", batch_size=batch, version=version
            )
            return Response(200, result)
        if head == "sobjects":
            return self._sobjects(method, rest, query, body_fn, version)
        if head == "jobs":
            return bulk2.route(org, method, rest, query, body_fn, version)
        if head == "composite":
            if not rest and method == "POST":
                return composite(self, body_fn() or {}, version, headers)
            if rest and rest[0] == "sobjects":
                return collections(self, method, rest[1:], query, body_fn, version)
        raise not_found()

    def _limits(self) -> dict:
        used, limit = self.org.api_used, self.org.api_limit
        return {
            "DailyApiRequests": {"Max": limit, "Remaining": max(limit - used, 0)},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1024},
            "SingleEmail": {"Max": 5000, "Remaining": 5000},
        }

    def _sobjects(self, method, rest, query, body_fn, version) -> Response:
        org = self.org
        if not rest:
            if method != "GET":
                raise not_found()
            return Response(
                200,
                {
                    "encoding": "UTF-8",
                    "maxBatchSize": 200,
                    "sobjects": [o.summary(version) for o in OBJECTS.values()],
                },
            )
        obj = _sobject(rest[0])
        if len(rest) == 1:
            if method == "GET":
                return Response(200, {"objectDescribe": obj.summary(version), "recentItems": []})
            if method == "POST":
                body = body_fn()
                if not isinstance(body, dict):
                    raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be an object")
                with org.transaction():
                    rid = org._insert(obj, body)
                return Response(201, {"id": rid, "success": True, "errors": []})
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed.")
        second = rest[1]
        if len(rest) == 2 and second == "describe" and method == "GET":
            return Response(200, obj.describe(version))
        if len(rest) == 2 and second in ("updated", "deleted") and method == "GET":
            return self._replication(obj, second, query)
        if len(rest) == 2:
            if method == "POST" and second.lower() == "id":  # upsert with Id as the external id
                return self._upsert(obj, "Id", None, body_fn, version, query)
            rid = self._path_id(obj, second)
            if rid is None:  # not an id at all
                raise not_found()
            if method == "GET":
                fields = query.get("fields")
                rec = org.get(obj.name, rid, version, fields.split(",") if fields else None)
                return Response(200, rec)
            if method == "PATCH":
                body = body_fn()
                if not isinstance(body, dict):
                    raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be an object")
                with org.transaction():
                    org._update(obj, rid, body)
                return Response(204)
            if method == "DELETE":
                with org.transaction():
                    org._delete(obj, rid)
                return Response(204)
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed.")
        if len(rest) == 3:
            field_name, value = rest[1], rest[2]
            if method == "GET":
                matches = org.find_by_external(obj, field_name, value)
                if not matches:
                    raise not_found()
                if len(matches) > 1:
                    return Response(300, [attributes(obj.name, m, version)["url"] for m in matches])
                return Response(200, org.get(obj.name, matches[0], version))
            if method in ("PATCH", "POST"):
                return self._upsert(obj, field_name, value, body_fn, version, query)
            if method == "DELETE":
                matches = org.find_by_external(obj, field_name, value)
                if not matches:
                    raise not_found()
                if len(matches) > 1:
                    return Response(300, [attributes(obj.name, m, version)["url"] for m in matches])
                with org.transaction():
                    org._delete(obj, matches[0])
                return Response(204)
        raise not_found()

    def _path_id(self, obj, value: str) -> str | None:
        if not re.fullmatch(r"[0-9A-Za-z]{15}([0-9A-Za-z]{3})?", value):
            return None
        return self.org.parse_id(obj, value)

    def _upsert(self, obj, field_name, value, body_fn, version, query) -> Response:
        body = body_fn() or {}
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be an object")
        if "Id" in body or "id" in body:
            raise ApiError(
                400,
                "INVALID_FIELD",
                "The Id field should not be specified in the sobject data.",
            )
        update_only = query.get("updateOnly", "").lower() == "true"
        org = self.org
        with org.transaction():
            if value is None:
                rid, created = org._insert(obj, body), True
            else:
                matches = org.find_by_external(obj, field_name, value)
                if len(matches) > 1:
                    return Response(300, [attributes(obj.name, m, version)["url"] for m in matches])
                if not matches and update_only:
                    raise not_found()
                try:
                    rid, created = org._upsert(obj, field_name, value, body)
                except MultipleMatches as exc:  # pragma: no cover - checked above
                    return Response(300, [attributes(obj.name, m, version)["url"] for m in exc.ids])
        if created:
            return Response(201, {"id": rid, "success": True, "errors": [], "created": True})
        if float(version) >= 46.0:
            return Response(200, {"id": rid, "success": True, "errors": [], "created": False})
        return Response(204)

    def _replication(self, obj, which, query) -> Response:
        try:
            start = parse_datetime(query["start"])
            end = parse_datetime(query["end"])
        except (KeyError, ValueError):
            raise ApiError(
                400, "INVALID_REPLICATION_DATE", "start and end must be ISO 8601 datetimes"
            ) from None
        if end < start:
            raise ApiError(400, "INVALID_REPLICATION_DATE", "end must be after start")
        # Salesforce covers whole minutes: the end is rounded down to the minute.
        end = end.replace(second=0, microsecond=0)
        s, e = format_datetime(start), format_datetime(end)
        if which == "updated":
            return Response(
                200, {"ids": self.org.updated_ids(obj.name, s, e), "latestDateCovered": e}
            )
        rows = self.org.deleted_records(obj.name, s, e)
        return Response(
            200,
            {
                "deletedRecords": [{"id": r[0], "deletedDate": r[1]} for r in rows],
                "earliestDateAvailable": rows[0][1] if rows else s,
                "latestDateCovered": e,
            },
        )

    # -- collections --------------------------------------------------------------------------


def _batch_size(options: str) -> int:
    m = re.search(r"batchSize\s*=\s*(\d+)", options or "")
    if not m:
        return 2000
    return max(200, min(2000, int(m.group(1))))
