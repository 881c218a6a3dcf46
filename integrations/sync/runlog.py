"""Recording a run as it goes: counts per object, progress, errors per record, API calls."""

from __future__ import annotations

from django.utils import timezone

from .models import SyncRun, SyncRunError


class RunLog:
    """Wraps a SyncRun (or nothing, for callers that do not keep a run row). Counts are kept in
    memory and written with `flush()` (after each batch) so an admin can watch progress."""

    def __init__(self, run: SyncRun | None = None, client=None, on_flush=None):
        self.run = run
        self.client = client
        self.on_flush = on_flush  # called at every flush: extend the lock, print progress
        self._api_start = None
        self.counts: dict[str, dict[str, int]] = {}
        if run is not None and run.counts:
            self.counts = {k: dict(v) for k, v in run.counts.items()}
        self.base_api_calls = run.api_calls if run is not None else 0

    # -- counting -------------------------------------------------------------------------------
    def add(self, sobject: str, key: str, n: int = 1) -> None:
        if n:
            per = self.counts.setdefault(sobject, {})
            per[key] = per.get(key, 0) + n

    def get(self, sobject: str, key: str) -> int:
        return self.counts.get(sobject, {}).get(key, 0)

    def total(self, key: str) -> int:
        return sum(per.get(key, 0) for per in self.counts.values())

    def error(self, *, direction, sobject, record="", code="", message="", item=None) -> None:
        if self.run is not None:
            SyncRunError.objects.create(
                run=self.run,
                direction=direction,
                sobject=sobject,
                record=(record or "")[:64],
                outbox_item=item,
                error_code=(code or "")[:60],
                message=message or "",
            )

    # -- API calls ------------------------------------------------------------------------------
    def mark_api(self, already_spent: int = 0) -> None:
        """Remember the org's API usage now (the client learns it from every response), less
        `already_spent` calls this run made to learn it."""
        if self.client is not None and self._api_start is None and self.client.api_used is not None:
            self._api_start = self.client.api_used - already_spent

    @property
    def api_calls(self) -> int:
        if self.client is None or self._api_start is None or self.client.api_used is None:
            return self.base_api_calls
        return self.base_api_calls + max(0, self.client.api_used - self._api_start)

    # -- writing --------------------------------------------------------------------------------
    def flush(self, progress: str | None = None) -> None:
        if self.on_flush is not None:
            self.on_flush(self, progress)
        if self.run is None:
            return
        fields = {"counts": self.counts, "api_calls": self.api_calls}
        if progress is not None:
            fields["progress"] = progress[:255]
        SyncRun.objects.filter(pk=self.run.pk).update(**fields)
        for key, value in fields.items():
            setattr(self.run, key, value)

    def finish(self, state: str, message: str = "") -> None:
        if self.run is None:
            return
        self.flush()
        self.run.state = state
        self.run.message = message
        self.run.finished_at = timezone.now()
        SyncRun.objects.filter(pk=self.run.pk).update(
            state=state, message=message, finished_at=self.run.finished_at
        )
