"""``/composite/``: sObject Collections (create, retrieve, update, upsert, delete up to 200
records) and composite requests (up to 25 subrequests with ``@{ref.field}`` references)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote

from . import ids
from .errors import ApiError, not_found
from .org import MultipleMatches, _sobject, attributes
from .schema import object_for_id
from .versions import DATA_PATH_RE
from .web import Response

_REF_RE = re.compile(r"@\{([^}]+)\}")
ROLLED_BACK = (
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header",
)


def collections(app, method, rest, query, body_fn, version) -> Response:
    org = app.org
    if len(rest) == 1 and method in ("GET", "POST"):
        return _retrieve(org, rest[0], method, query, body_fn, version)
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

        return Response(200, run_records(org, id_list, op, all_or_none))
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
                raise ApiError(400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
            return {"id": org._insert(obj, rec), "success": True, "errors": []}

        return Response(200, run_records(org, records, op, all_or_none))
    if method == "PATCH" and not rest:

        def op(rec):
            obj = _record_type(rec)
            rid = rec.get("Id") or rec.get("id")
            if not rid:
                raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", [])
            rid = org.parse_id(obj, rid)
            org._update(obj, rid, {k: v for k, v in rec.items() if k.lower() != "id"})
            return {"id": rid, "success": True, "errors": []}

        return Response(200, run_records(org, records, op, all_or_none))
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

        return Response(200, run_records(org, records, op, all_or_none))
    raise not_found()


def _retrieve(org, sobject, method, query, body_fn, version) -> Response:
    """Retrieve up to 2000 records of one type by id, with the fields asked for; an id that
    finds no record gives null in its place."""
    obj = _sobject(sobject)
    if method == "GET":
        id_list = [i for i in query.get("ids", "").split(",") if i]
        fields = [f for f in query.get("fields", "").split(",") if f]
    else:
        body = body_fn() or {}
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be an object")
        id_list, fields = body.get("ids"), body.get("fields")
        if not all(
            isinstance(v, list) and all(isinstance(i, str) for i in v) for v in (id_list, fields)
        ):
            raise ApiError(400, "JSON_PARSER_ERROR", "ids and fields must be lists of strings")
    if not id_list or not fields:
        raise ApiError(400, "MISSING_ARGUMENT", "ids and fields are required")
    if len(id_list) > 2000:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", "a retrieve call accepts at most 2000 ids")
    unknown = [f for f in fields if obj.field(f.strip()) is None]
    if unknown:
        raise ApiError(
            400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {obj.name}"
        )
    out = []
    with org.lock:
        for rid in id_list:
            try:
                out.append(org.get(obj.name, rid, version, fields))
            except ApiError as exc:
                if exc.code not in ("NOT_FOUND", "MALFORMED_ID"):
                    raise
                out.append(None)
    return Response(200, out)


def run_records(org, items, op, all_or_none) -> list[dict]:
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
def composite(app, body: dict, version: str, headers) -> Response:
    subs = body.get("compositeRequest")
    if not isinstance(subs, list) or not subs:
        raise ApiError(400, "JSON_PARSER_ERROR", "compositeRequest must be a non-empty list")
    if len(subs) > 25:
        raise ApiError(400, "LIMIT_EXCEEDED", "A composite request can have at most 25 subrequests")
    all_or_none = bool(body.get("allOrNone", False))
    refs: dict[str, object] = {}
    out: list[dict] = []
    org = app.org
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
                    resp = _sub_request(
                        app, sub.get("method", "GET").upper(), url, sub_body, version, headers
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


def _sub_request(app, method, url, body, version, headers) -> Response:
    path, _, qs = url.partition("?")
    m = DATA_PATH_RE.match(unquote(path))
    if not m:
        return Response(400, [{"errorCode": "INVALID_URL", "message": f"Bad url {url}"}])
    parts = [p for p in (m.group(2) or "").split("/") if p]
    query = {k: v[-1] for k, v in parse_qs(qs).items()}
    org = app.org
    try:
        with org.transaction():
            resp = app.dispatch(method, parts, query, lambda: body, m.group(1), headers)
            if resp.status >= 400:
                raise _Rollback
    except _Rollback:
        pass
    return resp


# -- control endpoints --------------------------------------------------------------------


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
    obj = object_for_id(rid)
    if obj is None:
        raise ApiError(400, "MALFORMED_ID", f"invalid id {rid}", [])
    return obj


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
