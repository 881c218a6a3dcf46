"""Bulk API 2.0 query jobs: one job, then the CSV results a few hundred thousand records a call.

Built on simple-salesforce's bulk2 client (``sf.bulk2.<Object>._client``: create the job, read
its state, read one set of results by locator) rather than its ``query()`` generator, so that
each call is retried on its own: a dropped connection on the fifth set of results reads that
set again instead of starting a new job.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Iterator

from simple_salesforce import format_soql

from .errors import PermanentError, TransientError

log = logging.getLogger(__name__)

# Records per set of results: 1,000,000 records in 5 calls, each set a few tens of MB of CSV.
BULK_MAX_RECORDS = 200_000
BULK_TIMEOUT_SECONDS = 4 * 3600
_MAX_POLL_SECONDS = 30.0


def bulk_calls_needed(records: int, max_records: int = BULK_MAX_RECORDS) -> int:
    """API calls of one query job over `records` records when it is done by the first look:
    create, one look at its state, one call per set of results."""
    return 2 + max(1, -(-records // max_records))


class BulkQueries:
    """The Bulk API 2.0 calls of SalesforceClient (needs its ``_rest`` and ``_sleep``)."""

    bulk_poll_seconds: float = 2.0

    def bulk_query_iter(
        self,
        sobject: str,
        soql_template: str,
        /,
        *,
        include_deleted: bool = False,
        max_records: int = BULK_MAX_RECORDS,
        **params,
    ) -> Iterator[dict]:
        """Every record of a query, through one Bulk API 2.0 query job (``queryAll`` with
        `include_deleted`). Values are the strings Salesforce writes in CSV (booleans ``true``
        and ``false``, datetimes in UTC ending in ``Z``), empty ones None; parent fields keep
        their dotted names (``Account.Name``). Raises PermanentError ``BULK_JOB_FAILED`` when
        the job fails or is aborted."""
        pages = self.bulk_query_pages(
            sobject, soql_template, include_deleted=include_deleted, max_records=max_records,
            **params,
        )  # fmt: skip
        for text in pages:
            yield from bulk_csv_records(text)

    def bulk_query_pages(
        self,
        sobject: str,
        soql_template: str,
        /,
        *,
        include_deleted: bool = False,
        max_records: int = BULK_MAX_RECORDS,
        **params,
    ) -> Iterator[str]:
        """The same job's sets of results as Salesforce sends them: CSV text, a header line
        first (comma-separated, LF line endings, empty values for nulls); for a reader that
        hands CSV to something faster than building a dict per record
        (``bulk_csv_records`` reads one set as ``bulk_query_iter`` does)."""
        soql = format_soql(soql_template, **params)
        operation = "queryAll" if include_deleted else "query"

        def jobs(sf):
            return getattr(sf.bulk2, sobject)._client

        job = self._rest(
            f"bulk query job {sobject}", lambda sf: dict(jobs(sf).create_job(operation, soql))
        )
        job_id = job["id"]
        self._bulk_wait(sobject, job_id, jobs)
        locator = ""
        while True:
            page = self._rest(
                f"bulk query results {sobject}",
                lambda sf, loc=locator: jobs(sf).get_query_results(job_id, loc, max_records),
            )
            yield page["records"]
            locator = page["locator"]
            if not locator:
                return

    def _bulk_wait(self, sobject: str, job_id: str, jobs) -> dict:
        delay = self.bulk_poll_seconds
        deadline = time.monotonic() + BULK_TIMEOUT_SECONDS
        while True:
            info = self._rest(
                f"bulk query job state {sobject}", lambda sf: dict(jobs(sf).get_job(job_id, True))
            )
            state = info.get("state")
            if state == "JobComplete":
                return info
            if state in ("Failed", "Aborted"):
                reason = info.get("errorMessage") or "Salesforce gave no reason"
                what = "failed" if state == "Failed" else "was aborted"
                raise PermanentError(
                    f"the Bulk API query job {job_id} reading {sobject} {what}: {reason}",
                    error_code="BULK_JOB_FAILED",
                )
            if time.monotonic() > deadline:
                raise TransientError(
                    f"the Bulk API query job {job_id} reading {sobject} is still {state}",
                    error_code="BULK_JOB_TIMEOUT",
                )
            if delay > 0:
                self._sleep(delay)
                delay = min(delay * 1.5, _MAX_POLL_SECONDS)


def bulk_csv_records(text: str) -> Iterator[dict]:
    """One set of a query job's CSV results as records (empty values None)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        return
    for row in reader:
        yield {
            name: (value if value != "" else None) for name, value in zip(header, row, strict=True)
        }
