"""sObject Collections (composite/sobjects): up to 200 records a request."""

import logging
from collections.abc import Iterable

from .errors import normalise_result

log = logging.getLogger(__name__)

COLLECTION_SIZE = 200


class CollectionCalls:
    """The collection calls of SalesforceClient (needs its ``_rest`` and ``max_attempts``)."""

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
                r = normalise_result(r)
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
                r = normalise_result(r)
                if not r["success"] and {e.get("statusCode") for e in r["errors"]} == {
                    "ENTITY_IS_DELETED"
                }:
                    r = {**r, "id": r["id"] or rid, "success": True, "errors": []}
                results.append(r)
        return results
