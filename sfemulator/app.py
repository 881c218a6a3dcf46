"""The org's HTTP face: a WSGI app serving the REST and SOAP endpoints simple-salesforce uses."""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import parse_qs, unquote

from . import ids, soap
from .errors import ApiError, not_found
from .faults import InjectedFault
from .org import MultipleMatches, Org, _sobject, attributes
from .schema import OBJECTS
from .values import format_datetime, parse_datetime

log = logging.getLogger(__name__)

VERSIONS = ["55.0", "56.0", "57.0", "58.0", "59.0", "60.0", "61.0", "62.0"]
_VERSION_RE = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
_SOAP_RE = re.compile(r"^/services/Soap/u/(\d+\.\d)(/.*)?$")
_REF_RE = re.compile(r"@\{([^}]+)\}")
ROLLED_BACK = (
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header",
)
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    300: "Multiple Choices",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Server Error",
    503: "Service Unavailable",
}


class Request:
    def __init__(self, environ):
        self.method = environ["REQUEST_METHOD"].upper()
        self.path = unquote(environ.get("PATH_INFO", "") or "/")
        self.raw_path = environ.get("PATH_INFO", "") or "/"
        self.query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        self.headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            self.headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        self.body = environ["wsgi.input"].read(length) if length else b""
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
        self.base = f"{scheme}://{host}"

    def json(self):
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(
                400, "JSON_PARSER_ERROR", "Unexpected character in request body"
            ) from None


class Response:
    def __init__(self, status: int, body=None, content_type="application/json;charset=UTF-8"):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers: list[tuple[str, str]] = []

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


def endpoint_name(method: str, path: str) -> str:
    """A stable name for stats and fault rules, e.g. ``PATCH sobjects/{type}/{id}``."""
    m = _SOAP_RE.match(path)
    if m:
        return "POST soap"
    m = _VERSION_RE.match(path)
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
            return self._control(req)
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
        m = _SOAP_RE.match(req.path)
        if m:
            return soap.handle(self, req, m.group(1))
        if req.path.rstrip("/") == "/services/data":
            resp = Response(
                200,
                [{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v} for v in VERSIONS],
            )
            self._limit_header(resp)
            return resp
        m = _VERSION_RE.match(req.path)
        if not m:
            raise not_found()
        version = m.group(1)
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
        if head == "composite":
            if not rest and method == "POST":
                return self._composite(body_fn() or {}, version, headers)
            if rest and rest[0] == "sobjects":
                return self._collections(method, rest[1:], query, body_fn, version)
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
    def _collections(self, method, rest, query, body_fn, version) -> Response:
        org = self.org
        if method == "DELETE" and not rest:
            id_list = [i for i in query.get("ids", "").split(",") if i]
            all_or_none = query.get("allOrNone", "false").lower() == "true"
            _check_size(id_list)

            def op(rid):
                try:
                    rid18 = ids.to18(rid)
                except ids.MalformedId:
                    raise ApiError(400, "MALFORMED_ID", f"malformed id {rid}", []) from None
                obj = _object_for(rid18)
                org._delete(obj, rid18)
                return {"id": rid18, "success": True, "errors": []}

            return Response(200, self._run_records(id_list, op, all_or_none))
        body = body_fn() or {}
        records = body.get("records")
        if not isinstance(records, list):
            raise ApiError(400, "JSON_PARSER_ERROR", "records must be a list")
        _check_size(records)
        all_or_none = bool(body.get("allOrNone", False))
        if method == "POST" and not rest:

            def op(rec):
                obj = _record_type(rec)
                if rec.get("Id") or rec.get("id"):
                    raise ApiError(
                        400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]
                    )
                return {"id": org._insert(obj, rec), "success": True, "errors": []}

            return Response(200, self._run_records(records, op, all_or_none))
        if method == "PATCH" and not rest:

            def op(rec):
                obj = _record_type(rec)
                rid = rec.get("Id") or rec.get("id")
                if not rid:
                    raise ApiError(
                        400, "MISSING_ARGUMENT", "Id not specified in an update call", []
                    )
                rid = org.parse_id(obj, rid)
                org._update(obj, rid, {k: v for k, v in rec.items() if k.lower() != "id"})
                return {"id": rid, "success": True, "errors": []}

            return Response(200, self._run_records(records, op, all_or_none))
        if method == "PATCH" and len(rest) == 2:
            obj = _sobject(rest[0])
            f = obj.field(rest[1])
            if f is None or not (f.external_id or f.name == "Id"):
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"Field name provided, {rest[1]} is not an External ID or indexed field for "
                    f"{obj.name}",
                )
            values = [rec.get(f.name) if isinstance(rec, dict) else None for rec in records]
            dupes = {v for v in values if v is not None and values.count(v) > 1}

            def op(rec):
                if _record_type(rec, obj.name).name != obj.name:
                    raise ApiError(400, "INVALID_TYPE", "records must all be of the URL's type", [])
                value = rec.get(f.name)
                if value is None:
                    raise ApiError(
                        400,
                        "MISSING_ARGUMENT",
                        f"{f.name} not specified",
                        [f.name],
                    )
                if value in dupes:
                    raise ApiError(
                        400,
                        "DUPLICATE_EXTERNAL_ID",
                        f"Duplicate external id specified: {value}",
                        [f.name],
                    )
                try:
                    rid, created = org._upsert(obj, f.name, str(value), rec)
                except MultipleMatches as exc:
                    raise ApiError(
                        300,
                        "DUPLICATE_EXTERNAL_ID",
                        f"{f.name}: more than one record found for external id field: {exc.ids}",
                        [f.name],
                    ) from None
                return {"id": rid, "success": True, "errors": [], "created": created}

            return Response(200, self._run_records(records, op, all_or_none))
        raise not_found()

    def _run_records(self, items, op, all_or_none) -> list[dict]:
        org = self.org
        results = []
        failed = False
        try:
            with org.transaction():
                for item in items:
                    try:
                        with org.transaction():
                            results.append(op(item))
                    except ApiError as exc:
                        failed = True
                        results.append({"success": False, "errors": [exc.record_error()]})
                if failed and all_or_none:
                    raise _Rollback
        except _Rollback:
            out = []
            for r in results:
                if r["success"]:
                    r = {
                        "success": False,
                        "errors": [
                            {"statusCode": ROLLED_BACK[0], "message": ROLLED_BACK[1], "fields": []}
                        ],
                    }
                out.append(r)
            return out
        return results

    # -- composite ----------------------------------------------------------------------------
    def _composite(self, body: dict, version: str, headers) -> Response:
        subs = body.get("compositeRequest")
        if not isinstance(subs, list) or not subs:
            raise ApiError(400, "JSON_PARSER_ERROR", "compositeRequest must be a non-empty list")
        if len(subs) > 25:
            raise ApiError(
                400, "LIMIT_EXCEEDED", "A composite request can have at most 25 subrequests"
            )
        all_or_none = bool(body.get("allOrNone", False))
        refs: dict[str, object] = {}
        out: list[dict] = []
        org = self.org
        failed_at = None
        try:
            with org.transaction():
                for i, sub in enumerate(subs):
                    ref_id = sub.get("referenceId")
                    try:
                        url = _substitute(sub.get("url", ""), refs)
                        sub_body = _substitute(sub.get("body"), refs)
                    except KeyError as exc:
                        resp = Response(
                            400,
                            [
                                {
                                    "errorCode": "PROCESSING_HALTED",
                                    "message": "Invalid reference specified. No value for "
                                    f"{exc.args[0]} "
                                    "found in the referenced request.",
                                }
                            ],
                        )
                    else:
                        resp = self._sub_request(
                            sub.get("method", "GET").upper(), url, sub_body, version, headers
                        )
                    entry = {
                        "body": resp.body,
                        "httpHeaders": {},
                        "httpStatusCode": resp.status,
                        "referenceId": ref_id,
                    }
                    if resp.status == 201 and isinstance(resp.body, dict) and resp.body.get("id"):
                        entry["httpHeaders"]["Location"] = attributes(
                            _object_for(resp.body["id"]).name, resp.body["id"], version
                        )["url"]
                    out.append(entry)
                    if resp.status < 400:
                        refs[ref_id] = resp.body
                    elif all_or_none:
                        failed_at = i
                        raise _Rollback
        except _Rollback:
            halted = [
                {
                    "errorCode": "PROCESSING_HALTED",
                    "message": "The transaction was rolled back since another operation in the "
                    "same "
                    "transaction failed.",
                }
            ]
            result = []
            for i, sub in enumerate(subs):
                if i == failed_at:
                    result.append(out[i])
                else:
                    result.append(
                        {
                            "body": halted,
                            "httpHeaders": {},
                            "httpStatusCode": 400,
                            "referenceId": sub.get("referenceId"),
                        }
                    )
            return Response(200, {"compositeResponse": result})
        return Response(200, {"compositeResponse": out})

    def _sub_request(self, method, url, body, version, headers) -> Response:
        path, _, qs = url.partition("?")
        m = _VERSION_RE.match(unquote(path))
        if not m:
            return Response(400, [{"errorCode": "INVALID_URL", "message": f"Bad url {url}"}])
        parts = [p for p in (m.group(2) or "").split("/") if p]
        query = {k: v[-1] for k, v in parse_qs(qs).items()}
        org = self.org
        try:
            with org.transaction():
                resp = self.dispatch(method, parts, query, lambda: body, m.group(1), headers)
                if resp.status >= 400:
                    raise _Rollback
        except _Rollback:
            pass
        return resp

    # -- control endpoints --------------------------------------------------------------------
    def _control(self, req: Request) -> Response:
        org = self.org
        what = req.path[len("/_emulator/") :].strip("/")
        data = req.json() if req.method in ("POST", "PUT") else None
        data = data or {}
        if what == "stats":
            if req.method == "DELETE":
                org.stats.reset()
            return Response(
                200,
                {
                    **org.stats.as_dict(),
                    "api_used": org.api_used,
                    "api_limit": org.api_limit,
                    "faults_injected": dict(org.faults.injected),
                },
            )
        if what == "stats/reset" and req.method == "POST":
            org.stats.reset()
            return Response(200, org.stats.as_dict())
        if what == "faults":
            if req.method == "DELETE":
                org.faults.clear()
            elif req.method == "POST":
                try:
                    kind = str(data.get("kind", "503"))
                    kw = {"endpoint": data.get("endpoint"), "after": bool(data.get("after"))}
                    if "rate" in data:
                        org.faults.fail_rate(
                            float(data["rate"]), kind, seed=int(data.get("seed", 0)), **kw
                        )
                    else:
                        org.faults.fail_next(int(data.get("n", 1)), kind, **kw)
                except ValueError as exc:
                    return Response(400, {"error": str(exc)})
            return Response(200, {"faults": org.faults.describe()})
        if what == "limits" and req.method in ("POST", "PUT"):
            if "api_limit" in data:
                org.api_limit = int(data["api_limit"])
            if "api_used" in data:
                org.reset_api_usage(int(data["api_used"]))
            return Response(200, {"api_used": org.api_used, "api_limit": org.api_limit})
        if what == "sessions/expire" and req.method == "POST":
            org.expire_sessions()
            return Response(200, {"expired": True})
        return Response(404, {"error": "unknown emulator control endpoint"})


class _Rollback(Exception):  # noqa: N818
    pass


def _check_size(items) -> None:
    if len(items) > 200:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )


def _record_type(rec, default: str | None = None):
    if not isinstance(rec, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "each record must be an object", [])
    type_name = (rec.get("attributes") or {}).get("type") or default
    if not type_name:
        raise ApiError(
            400, "INVALID_FIELD", "No SObject Type defined in JSON (attributes.type)", []
        )
    try:
        return _sobject(type_name)
    except ApiError:
        raise ApiError(
            400, "INVALID_TYPE", f"sObject type '{type_name}' is not supported.", []
        ) from None


def _object_for(rid: str):
    from .schema import object_for_id

    obj = object_for_id(rid)
    if obj is None:
        raise ApiError(400, "MALFORMED_ID", f"invalid id {rid}", [])
    return obj


def _batch_size(options: str) -> int:
    m = re.search(r"batchSize\s*=\s*(\d+)", options or "")
    if not m:
        return 2000
    return max(200, min(2000, int(m.group(1))))


def _lookup(refs: dict, expr: str):
    ref, _, path = expr.partition(".")
    m = re.fullmatch(r"([A-Za-z0-9_]+)((?:\[\d+\])*)", ref)
    if not m or m.group(1) not in refs:
        raise KeyError(expr)
    value = refs[m.group(1)]
    steps = []
    for idx in re.findall(r"\[(\d+)\]", m.group(2)):
        steps.append(int(idx))
    for part in path.split(".") if path else []:
        pm = re.fullmatch(r"([A-Za-z0-9_]+)((?:\[\d+\])*)", part)
        if not pm:
            raise KeyError(expr)
        steps.append(pm.group(1))
        steps.extend(int(i) for i in re.findall(r"\[(\d+)\]", pm.group(2)))
    try:
        for step in steps:
            value = value[step]
    except (KeyError, IndexError, TypeError):
        raise KeyError(expr) from None
    return value


def _substitute(value, refs):
    if isinstance(value, str):
        whole = _REF_RE.fullmatch(value)
        if whole:
            return _lookup(refs, whole.group(1))
        return _REF_RE.sub(lambda m: str(_lookup(refs, m.group(1))), value)
    if isinstance(value, list):
        return [_substitute(v, refs) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, refs) for k, v in value.items()}
    return value
