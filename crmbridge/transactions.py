"""Transactions that PostgreSQL may abort under concurrency (a deadlock it broke, a
serialization failure), run again from the start a few times before the error is let through."""

import logging
import random
import time

from django.db import OperationalError, transaction

logger = logging.getLogger(__name__)

# SQLSTATE of the errors after which the whole transaction may simply be run again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


def is_retryable(exc: BaseException) -> bool:
    cause = exc.__cause__
    return isinstance(exc, OperationalError) and getattr(cause, "sqlstate", None) in (
        RETRYABLE_SQLSTATES
    )


def atomic_with_retry(work, *, attempts=4):
    """work() inside transaction.atomic(), again on a deadlock or serialization failure.

    Only a transaction of its own can be run again: inside an outer atomic block the error
    is raised at once, for the outer block to handle."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return work()
        except OperationalError as exc:
            nested = transaction.get_connection().in_atomic_block
            if nested or attempt == attempts or not is_retryable(exc):
                raise
            logger.info("transaction aborted (%s), attempt %d again", exc.__cause__, attempt)
            time.sleep(random.uniform(0, 0.05 * attempt))  # let the other transaction finish
