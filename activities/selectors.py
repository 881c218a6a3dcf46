"""Reads of activities."""

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from crmbridge import charts
from crmbridge.roles import ADMIN, CSM, REP, has_role

from .models import Activity


def activities_visible_to(*, user, query=None):
    """The activities `user` may see: all for Admins and CSMs, only their own for a Rep,
    none for anyone else. Every list, page, export and API of the feed goes through here."""
    query = Activity.objects.all() if query is None else query
    if has_role(user, ADMIN, CSM):
        return query
    if has_role(user, REP):
        return query.filter(owner=user)
    return query.none()


def activity_rows_visible_to(*, user, query):
    """Rows that hang off an activity (match edits, contact decisions): visible exactly where
    their activity is (see activities_visible_to)."""
    if has_role(user, ADMIN, CSM):
        return query
    if has_role(user, REP):
        return query.filter(activity__owner=user)
    return query.none()


@charts.register(position=10)
def activities_per_day_chart(*, days, since) -> charts.Chart:
    """Per match status, named as the home page names them (so the totals agree)."""
    status = Activity.MatchStatus
    shown = [
        (status.MATCHED, "matched"),
        (status.UNMATCHED, "matched no Account"),
        (status.AMBIGUOUS, "match several Accounts"),
        (status.INTERNAL, "internal only"),
    ]
    rows = (
        Activity.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(**{value.value: Count("id", filter=Q(match_status=value)) for value, _ in shown})
    )
    per_day = {r["day"]: r for r in rows}
    return charts.Chart(
        "Activities per day",
        [(label, [per_day.get(d, {}).get(value.value, 0) for d in days]) for value, label in shown],
    )
