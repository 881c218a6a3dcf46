"""django-q2 entry points of the activities app (thin: they take plain values and call services)."""

import logging

from . import rematch

log = logging.getLogger(__name__)


def activities_rematch_domains(domains):
    """Re-match the recent unmatched activity of `domains` (enqueued when a domain is added)."""
    changed = rematch.activities_rematch_for_domains(domains=domains)
    log.info("re-matched activity on %s: %d changed", ", ".join(domains), changed)
    return changed
