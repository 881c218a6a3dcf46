"""The emulated org's clock, set by the sync tests (CreatedDate, SystemModstamp)."""

import datetime as dt

import pytest

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at

    def tick(self, **kw):
        self.at += dt.timedelta(**kw)


@pytest.fixture
def clock(sf_org):
    c = Clock(T0)
    sf_org.clock = c
    return c
