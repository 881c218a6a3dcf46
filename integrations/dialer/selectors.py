"""Reads of dialer configuration and runs (each a bounded number of queries)."""

from datetime import timedelta

from django.db.models import Prefetch, Q
from django.utils import timezone

from .models import (
    CallRun,
    DialerProject,
    FieldMapping,
    Integration,
    ResultCode,
    result_code_normal,
    secret_hash,
)


def project_for_secret(*, secret: str) -> DialerProject | None:
    """The project whose webhook secret this is (one indexed query), else None."""
    if not secret:
        return None
    return DialerProject.objects.filter(secret_hash=secret_hash(secret)).first()


def integration_for_code(*, project_id: int, code: str) -> Integration | None:
    """The integration a result code triggers in a project, with its keys and mappings loaded
    (three queries), or None."""
    rc = (
        ResultCode.objects.filter(project_id=project_id, code=result_code_normal(code))
        .select_related("integration")
        .first()
    )
    if rc is None:
        return None
    return (
        Integration.objects.filter(pk=rc.integration_id)
        .prefetch_related(
            "secondary_keys",
            Prefetch("field_mappings", queryset=FieldMapping.objects.order_by("id")),
        )
        .first()
    )


def result_code_conflicts(*, project_id: int, codes, exclude_integration_id=None) -> dict:
    """{code: integration name} for the codes that another integration of the project has."""
    codes = [result_code_normal(c) for c in codes if result_code_normal(c)]
    if not codes:
        return {}
    taken = ResultCode.objects.filter(project_id=project_id, code__in=codes).select_related(
        "integration"
    )
    if exclude_integration_id is not None:
        taken = taken.exclude(integration_id=exclude_integration_id)
    return {rc.code: rc.integration.name for rc in taken}


# Longer than django-q2's task timeout: a run queued or running this long lost its task.
STUCK_AFTER = timedelta(minutes=15)


def retryable_q() -> Q:
    """Runs that may be retried: failed, or stuck (queued/running for longer than STUCK_AFTER)."""
    cutoff = timezone.now() - STUCK_AFTER
    return (
        Q(status=CallRun.Status.FAILED)
        | Q(status=CallRun.Status.QUEUED, received_at__lt=cutoff)
        | Q(status=CallRun.Status.RUNNING, started_at__lt=cutoff)
    )


def failed_run_count() -> int:
    """Failed and stuck runs (what the admin home page asks an admin to look at)."""
    return CallRun.objects.filter(retryable_q()).count()
