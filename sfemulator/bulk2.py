"""Bulk API 2.0 query jobs, as Salesforce documents them (API 47.0 and later).

``POST jobs/query`` creates a job (``query`` or ``queryAll``; CSV with the job's column delimiter
and line ending); ``GET jobs/query`` lists jobs (1,000 a page, ``nextRecordsUrl``);
``GET jobs/query/{id}`` tells its state (UploadComplete, InProgress, JobComplete, Failed,
Aborted) and ``numberRecordsProcessed``; ``GET jobs/query/{id}/results?maxRecords=&locator=``
returns one set of CSV results with ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (the
string ``null`` on the last set); ``PATCH`` with ``{"state": "Aborted"}`` aborts it and
``DELETE`` deletes a finished one. Invalid SOQL is refused at creation with the REST API's error.

A job runs when it is first looked at after creation: it reports ``InProgress`` for
``org.query_jobs.in_progress_polls`` looks first (0 by default), then runs its query and keeps
that snapshot of record keys for its results. ``org.query_jobs.fail_next(n, message)`` makes the
next n jobs end ``Failed`` with that ``errorMessage``. Jobs live in this process, like query
cursors.
"""
# ruff: noqa: S608 -- SQL text is built from schema identifiers only; values are always bound.

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import threading
import time
from dataclasses import dataclass, field

from . import ids
from .errors import ApiError, not_found
from .schema import get_object
from .soql import compile_soql
from .web import Response

JOB_PREFIX = "750"
FIRST_VERSION = 47.0
DELIMITERS = {
    "BACKQUOTE": "`",
    "CARET": "^",
    "COMMA": ",",
    "PIPE": "|",
    "SEMICOLON": ";",
    "TAB": "\t",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
OPERATIONS = ("insert", "upsert", "update", "delete", "hardDelete", "query", "queryAll")
# Results sets without maxRecords: the server's own size (Salesforce: "a default value based on
# the service").
DEFAULT_MAX_RECORDS = 100_000
LIST_PAGE = 1000
_FETCH_CHUNK = 20_000
_RUNNING = ("UploadComplete", "InProgress")
_FINISHED = ("JobComplete", "Aborted", "Failed")
_STATUS_WORDS = {
    "UploadComplete": "UPLOAD_COMPLETE",
    "InProgress": "IN_PROGRESS",
    "JobComplete": "JOB_COMPLETE",
    "Aborted": "ABORTED",
    "Failed": "FAILED",
}


@dataclass
class QueryJob:
    id: str
    operation: str
    sobject: str
    compiled: object
    version: str
    delimiter: str
    line_ending: str
    created_by: str
    created: str
    modstamp: str
    state: str = "UploadComplete"
    polls_left: int = 0
    fail_message: str | None = None
    error_message: str | None = None
    pks: list = field(default_factory=list)
    processing_ms: int = 0

    def summary(self) -> dict:
        """The job as create, abort and the job list show it."""
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.modstamp,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
            "jobType": "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.delimiter,
        }

    def info(self) -> dict:
        out = self.summary()
        out.update(
            numberRecordsProcessed=len(self.pks),
            retries=0,
            totalProcessingTime=self.processing_ms,
            isPkChunkingSupported=True,
        )
        if self.error_message:
            out["errorMessage"] = self.error_message
        return out


class QueryJobs:
    """The org's Bulk API 2.0 query jobs."""

    def __init__(self, org):
        self.org = org
        self.jobs: dict[str, QueryJob] = {}
        self.in_progress_polls = 0
        self._failures: list[str] = []
        self._seq = itertools.count(1)
        self._lock = threading.RLock()

    def fail_next(self, n: int = 1, message: str = "Internal error while processing the query"):
        with self._lock:
            self._failures.extend([message] * int(n))

    # -- the job's life -------------------------------------------------------------------------
    def create(self, body, version: str) -> QueryJob:
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise _enum_error("OperationEnum", operation)
        if operation not in ("query", "queryAll"):
            raise ApiError(400, "INVALIDJOB", f"InvalidJob : {operation} is not a query operation")
        if body.get("contentType", "CSV") != "CSV":
            raise _enum_error("ContentType", body.get("contentType"))
        delimiter = body.get("columnDelimiter", "COMMA")
        if delimiter not in DELIMITERS:
            raise _enum_error("ColumnDelimiterEnum", delimiter)
        line_ending = body.get("lineEnding", "LF")
        if line_ending not in LINE_ENDINGS:
            raise _enum_error("LineEndingEnum", line_ending)
        soql = body.get("query")
        if not isinstance(soql, str) or not soql.strip():
            raise ApiError(400, "INVALIDJOB", "InvalidJob : a query job needs a query")
        org = self.org
        with org.lock:
            compiled = compile_soql(soql, operation == "queryAll", org.clock().date())
        _check_bulk_soql(compiled)
        wanted = body.get("object")
        if wanted and str(wanted).lower() != compiled.sobject.name.lower():
            raise ApiError(
                400,
                "INVALIDJOB",
                f"InvalidJob : The root entity of the requested query ({compiled.sobject.name}) "
                f"does not match the entity of the requested Bulk API Job ({wanted})",
            )
        now = org.now()
        with self._lock:
            job = QueryJob(
                id=ids.make_id(JOB_PREFIX, next(self._seq)),
                operation=operation,
                sobject=compiled.sobject.name,
                compiled=compiled,
                version=version,
                delimiter=delimiter,
                line_ending=line_ending,
                created_by=org.user_id,
                created=now,
                modstamp=now,
                polls_left=self.in_progress_polls,
                fail_message=self._failures.pop(0) if self._failures else None,
            )
            self.jobs[job.id] = job
        return job

    def get(self, job_id: str) -> QueryJob:
        try:
            key = ids.to18(job_id)
        except ids.MalformedId:
            raise not_found() from None
        job = self.jobs.get(key)
        if job is None:
            raise not_found()
        return job

    def advance(self, job: QueryJob) -> None:
        """A look at a job that is still running: it moves on (see the module's docstring)."""
        with self._lock:
            if job.state not in _RUNNING:
                return
            if job.polls_left > 0:
                job.polls_left -= 1
                job.state = "InProgress"
                job.modstamp = self.org.now()
                return
            started = time.perf_counter()
            if job.fail_message:
                job.state, job.error_message = "Failed", job.fail_message
            else:
                with self.org.lock:
                    job.pks = self.org._select_pks(job.compiled)
                job.state = "JobComplete"
            job.processing_ms = int((time.perf_counter() - started) * 1000)
            job.modstamp = self.org.now()

    def abort(self, job: QueryJob, body) -> QueryJob:
        state = body.get("state") if isinstance(body, dict) else None
        if state != "Aborted":
            raise ApiError(
                400,
                "INVALIDJOBSTATE",
                f"InvalidJobState : a query job can only be Aborted: {state}",
            )
        with self._lock:
            if job.state not in _RUNNING:
                raise ApiError(
                    400,
                    "INVALIDJOBSTATE",
                    f"InvalidJobState : a job in state {job.state} can not be aborted",
                )
            job.state = "Aborted"
            job.modstamp = self.org.now()
        return job

    def delete(self, job: QueryJob) -> None:
        with self._lock:
            if job.state not in _FINISHED:
                raise ApiError(
                    400,
                    "API_ERROR",
                    "Error encountered when deleting the job because the job is not terminated",
                )
            self.jobs.pop(job.id, None)

    # -- results --------------------------------------------------------------------------------
    def results(self, job: QueryJob, version: str, query: dict) -> Response:
        if job.version != version:
            raise ApiError(
                409,
                "API_ERROR",
                f"Get the results of this job with API version {job.version}, the version it "
                "was created with",
            )
        self.advance(job)
        if job.state != "JobComplete":
            raise ApiError(
                412,
                "JOB_NOT_COMPLETE",
                "can only download query results of successfully completed bulk job with "
                f"status: JOB_COMPLETE. Current status: {_STATUS_WORDS[job.state]}",
            )
        size = _positive_int(query.get("maxRecords"), DEFAULT_MAX_RECORDS, "maxRecords")
        start = _decode_locator(query.get("locator"))
        if start > len(job.pks):
            raise ApiError(400, "INVALID_LOCATOR", f"Invalid locator: {query.get('locator')}")
        chunk = job.pks[start : start + size]
        end = start + len(chunk)
        resp = Response(200, self._csv(job, chunk), content_type="text/csv")
        resp.headers += [
            ("Sforce-Locator", _encode_locator(end) if end < len(job.pks) else "null"),
            ("Sforce-NumberOfRecords", str(len(chunk))),
        ]
        return resp

    def _csv(self, job: QueryJob, pks: list) -> str:
        compiled = job.compiled
        names = [_header(col) for col in compiled.columns]
        exprs = [_csv_expr(col) for col in compiled.columns]
        order = list(range(len(names)))
        if float(job.version) < 50.0:  # before 50.0 columns came in alphabetical order
            order.sort(key=lambda i: names[i].lower())
        buf = io.StringIO()
        out = csv.writer(
            buf,
            delimiter=DELIMITERS[job.delimiter],
            lineterminator=LINE_ENDINGS[job.line_ending],
            quoting=csv.QUOTE_ALL,
        )
        out.writerow([names[i] for i in order])
        cols = ", ".join(exprs[i] for i in order)
        sql = (
            f"SELECT t.pk, {cols} FROM {compiled.from_sql} "
            "WHERE t.pk IN (SELECT value FROM json_each(?))"
        )
        with self.org.lock:
            for begin in range(0, len(pks), _FETCH_CHUNK):
                part = pks[begin : begin + _FETCH_CHUNK]
                rows = {r[0]: r[1:] for r in self.org.conn.execute(sql, (json.dumps(part),))}
                out.writerows(rows[pk] for pk in part if pk in rows)
        return buf.getvalue()

    # -- the list of jobs -----------------------------------------------------------------------
    def listing(self, version: str, query: dict) -> dict:
        with self._lock:
            jobs = list(self.jobs.values())
        for job in jobs:
            self.advance(job)
        kind = query.get("jobType")
        mode = query.get("concurrencyMode")
        if (
            (kind and kind != "V2Query")
            or (mode and mode.lower() != "parallel")
            or query.get("isPkChunkingEnabled", "").lower() == "true"  # Bulk API (1.0) jobs only
        ):
            jobs = []
        start = _decode_locator(query.get("queryLocator"))
        page = jobs[start : start + LIST_PAGE]
        out = {"done": start + LIST_PAGE >= len(jobs), "records": [j.summary() for j in page]}
        if not out["done"]:
            loc = _encode_locator(start + LIST_PAGE)
            out["nextRecordsUrl"] = f"/services/data/v{version}/jobs/query?queryLocator={loc}"
        return out


def route(org, method: str, rest: list, query: dict, body_fn, version: str) -> Response:
    """``/services/data/vXX.X/jobs/...`` (after the session and the API limit were checked)."""
    if float(version) < FIRST_VERSION or not rest or rest[0] != "query" or len(rest) > 3:
        raise not_found()
    jobs = org.query_jobs
    if len(rest) == 1:
        if method == "POST":
            return Response(200, jobs.create(body_fn(), version).summary())
        if method == "GET":
            return Response(200, jobs.listing(version, query))
        raise _method_not_allowed(method, "GET, POST")
    job = jobs.get(rest[1])
    if len(rest) == 3:
        if rest[2] != "results":
            raise not_found()
        if method != "GET":
            raise _method_not_allowed(method, "GET")
        return jobs.results(job, version, query)
    if method == "GET":
        jobs.advance(job)
        return Response(200, job.info())
    if method == "PATCH":
        return Response(200, jobs.abort(job, body_fn()).summary())
    if method == "DELETE":
        jobs.delete(job)
        return Response(204)
    raise _method_not_allowed(method, "GET, PATCH, DELETE")


# -- helpers --------------------------------------------------------------------------------------
def _check_bulk_soql(compiled) -> None:
    """What Bulk API 2.0 refuses that the REST API runs."""
    if compiled.count or compiled.aggregates is not None:
        reason = "Aggregate queries and COUNT() are not supported in Bulk Query"
    elif compiled.children:
        reason = "Aggregate Relationships not supported in Bulk Query"
    elif compiled.offset is not None:
        reason = "OFFSET is not supported in Bulk Query"
    else:
        return
    raise ApiError(400, "FUNCTIONALITY_NOT_ENABLED", reason)


def _header(col) -> str:
    if col.rel is None:
        return col.field.name
    return f"{col.rel.relationship_name}.{col.field.name}"


def _typed(sql: str, f) -> str:
    """A column as Bulk API 2.0 writes it: booleans true/false, datetimes in UTC with Z."""
    if f is None:
        return "NULL"
    if f.type == "boolean":
        return f"CASE WHEN {sql} IS NULL THEN NULL WHEN {sql} THEN 'true' ELSE 'false' END"
    if f.type == "datetime":
        return f"replace({sql}, '+0000', 'Z')"
    return sql


def _csv_expr(col) -> str:
    if col.rel is None:
        return _typed(col.sql[0], col.field)
    parts = []
    for sql, target in zip(col.sql, col.targets, strict=True):
        tobj = get_object(target)
        parts.append(
            (tobj.prefix, _typed(sql, tobj.field(col.field.name)) if sql != "NULL" else sql)
        )
    if len(parts) == 1:
        return parts[0][1]
    ref = f't."{col.rel.name}"'
    whens = " ".join(f"WHEN '{prefix}' THEN {sql}" for prefix, sql in parts)
    return f"CASE substr({ref}, 1, 3) {whens} END"


def _encode_locator(n: int) -> str:
    return base64.b64encode(str(n).encode()).decode().rstrip("=")


def _decode_locator(value) -> int:
    if not value:
        return 0
    try:
        text = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
        n = int(text)
    except ValueError:
        raise ApiError(400, "INVALID_LOCATOR", f"Invalid locator: {value}") from None
    if n < 0:
        raise ApiError(400, "INVALID_LOCATOR", f"Invalid locator: {value}")
    return n


def _positive_int(value, default: int, name: str) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ApiError(400, "INVALIDJOB", f"InvalidJob : {name} must be a positive integer")
    return n


def _enum_error(enum: str, value) -> ApiError:
    return ApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {enum} from VALUE_STRING value {value}",
    )


def _method_not_allowed(method: str, allowed: str) -> ApiError:
    return ApiError(
        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}"
    )
