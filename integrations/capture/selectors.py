"""Reads of capture: what each person may see (Admins all, a Rep their own, others nothing)."""

from django.db.models import OuterRef, Subquery

from crmbridge.roles import ADMIN, REP, has_role

from .models import CaptureRun, CaptureSource


def sources_visible_to(*, user):
    sources = CaptureSource.objects.select_related("owner")
    if has_role(user, ADMIN):
        return sources
    if has_role(user, REP):
        return sources.filter(owner=user)
    return sources.none()


def sources_with_last_run(*, user):
    last = CaptureRun.objects.filter(source=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    return sources_visible_to(user=user).annotate(last_run_id=Subquery(last))


def runs_visible_to(*, user):
    return CaptureRun.objects.filter(source__in=sources_visible_to(user=user)).select_related(
        "source"
    )
