"""Fault injection and call statistics."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass

KINDS = ("500", "503", "connection", "timeout", "invalid_session", "unable_to_lock_row", "limit")


class InjectedFault(Exception):  # noqa: N818 - it is a signal, not an error
    """Raised by the WSGI app when the transport should drop the connection or time out."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclass
class _Rule:
    kind: str
    remaining: int | None  # None = rate rule
    rate: float = 0.0
    rng: random.Random | None = None
    endpoint: str | None = None
    after: bool = False  # fail after the request was processed (writes already done)
    skip: int = 0  # matching calls let through before the rule starts failing


class Faults:
    """Make calls fail on purpose.

    ``fail_next(n, kind)`` fails the next n matching calls (``skip=k``: after letting k
    through); ``fail_rate(rate, kind, seed=...)``
    fails a seeded-random fraction. ``endpoint`` restricts a rule to one endpoint name (see
    ``Stats``), e.g. ``"PATCH composite/sobjects/{type}/{field}"``, or a prefix of one such as
    ``"GET query"``.
    ``after=True`` makes a ``connection``/``timeout``/5xx fault happen after the request was
    processed: the write is done but the caller never hears about it.
    Kinds: 500, 503, connection, timeout, invalid_session, unable_to_lock_row, limit.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self.injected = Counter()

    def fail_next(
        self, n: int = 1, kind: str = "503", *, endpoint=None, after=False, skip: int = 0
    ) -> None:
        _check(kind)
        with self._lock:
            self._rules.append(_Rule(kind, int(n), endpoint=endpoint, after=after, skip=skip))

    def fail_rate(
        self, rate: float, kind: str = "503", *, seed: int = 0, endpoint=None, after=False
    ) -> None:
        _check(kind)
        with self._lock:
            rng = random.Random(seed)
            self._rules.append(_Rule(kind, None, float(rate), rng, endpoint, after))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pick(self, endpoint: str) -> _Rule | None:
        """The fault to inject into this call, if any (consumes a fail_next slot)."""
        with self._lock:
            for rule in list(self._rules):
                if rule.endpoint and not endpoint.startswith(rule.endpoint):
                    continue
                if rule.remaining is not None:
                    if rule.skip > 0:
                        rule.skip -= 1
                        continue
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    self.injected[rule.kind] += 1
                    return rule
                if rule.rng.random() < rule.rate:
                    self.injected[rule.kind] += 1
                    return rule
        return None

    def describe(self) -> list[dict]:
        with self._lock:
            return [
                {
                    "kind": r.kind,
                    "remaining": r.remaining,
                    "rate": r.rate,
                    "endpoint": r.endpoint,
                    "after": r.after,
                }
                for r in self._rules
            ]


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")


class Stats:
    """Calls counted per endpoint (``"GET query"``, ``"POST sobjects/{type}"``, ...)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.calls = Counter()

    def count(self, endpoint: str) -> None:
        with self._lock:
            self.calls[endpoint] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def __getitem__(self, endpoint: str) -> int:
        return self.calls[endpoint]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    def as_dict(self) -> dict:
        with self._lock:
            return {"total": sum(self.calls.values()), "calls": dict(self.calls)}
