"""Reads of the sync for the admin dashboard, the API and the admin home page (bounded queries)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django_q.models import Schedule

from crmbridge import charts
from crmbridge.models import GlobalSettings
from crmbridge.salesforce_connection import salesforce_last_answer
from integrations.outbox.models import OutboxItem
from integrations.salesforce import get_client

from .models import SyncRun
from .schedule import PUSH_SCHEDULE, SOON_SCHEDULE, SYNC_SCHEDULE

CHART_DAYS = 30


def last_runs(*, limit=10):
    return list(SyncRun.objects.select_related("started_by").order_by("-started_at", "-id")[:limit])


def last_finished_run():
    return (
        SyncRun.objects.exclude(state__in=[SyncRun.State.QUEUED, SyncRun.State.RUNNING,
                                           SyncRun.State.SKIPPED])
        .order_by("-started_at", "-id")
        .first()
    )  # fmt: skip


SCHEDULE_LABELS = {
    SYNC_SCHEDULE: "Sync",
    PUSH_SCHEDULE: "Push",
    SOON_SCHEDULE: "Push of new outbox work",
}


def next_runs(*, now=None) -> list:
    """The sync's schedules, soonest first; `overdue` when the time has passed and the worker
    has not run it yet (a time in the past is no "next" run)."""
    now = now or timezone.now()
    rows = Schedule.objects.filter(name__in=list(SCHEDULE_LABELS))
    return sorted(
        (
            {
                "name": s.name,
                "label": SCHEDULE_LABELS[s.name],
                "next_run": s.next_run,
                "minutes": s.minutes,
                # A minute's grace: the worker's scheduler looks every 30 seconds.
                "overdue": s.next_run is not None and s.next_run < now - dt.timedelta(minutes=1),
            }
            for s in rows
        ),
        key=lambda r: r["next_run"] or now,
    )


def outbox_backlog() -> dict:
    """Outbox rows by state, and per object for the ones not sent."""
    by_state = dict(
        OutboxItem.objects.exclude(state=OutboxItem.State.SENT)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    per_object = list(
        OutboxItem.objects.exclude(state=OutboxItem.State.SENT)
        .values("sobject", "state")
        .annotate(n=Count("id"))
        .order_by("sobject", "state")
    )
    return {
        "pending": by_state.get(OutboxItem.State.PENDING, 0),
        "claimed": by_state.get(OutboxItem.State.CLAIMED, 0),
        "failed": by_state.get(OutboxItem.State.FAILED, 0),
        "per_object": per_object,
    }


def api_usage(*, client=None) -> dict:
    """What the client last heard of the org's API usage, and crmbridge's budget."""
    settings = GlobalSettings.load()
    used = limit = None
    if client is None:
        try:
            client = get_client()
        except Exception:  # noqa: BLE001 - not configured: the page says so
            client = None
    as_of = None
    if client is not None:
        used, limit = client.api_used, client.api_max
    if limit is None:
        # The syncs run in a worker: what the org told it last, until this process asks.
        last = salesforce_last_answer()
        used, limit, as_of = last.get("api_used"), last.get("api_max"), last.get("at")
    budget = int(limit * settings.api_budget_percent / 100) if limit else None
    return {
        "used": used,
        "max": limit,
        "budget_percent": settings.api_budget_percent,
        "budget": budget,
        "as_of": as_of,
        "used_percent_of_budget": round(100 * used / budget, 1) if budget and used is not None
        else None,
    }  # fmt: skip


def sync_problems() -> list[dict]:
    """What an admin must look at: failed outbox rows, a failed last run, the budget reached."""
    items = []
    failed = OutboxItem.objects.filter(state=OutboxItem.State.FAILED).count()
    if failed:
        items.append(
            {
                "title": f"{failed} Salesforce write{'s' if failed != 1 else ''} failed",
                "detail": "Salesforce refused them; fix the record and retry.",
                "url": "admin:integrations_outboxitem_changelist",
                "level": "error",
                "count": failed,
            }
        )
    run = last_finished_run()
    if run is not None and run.state == SyncRun.State.FAILED:
        items.append(
            {
                "title": "The last Salesforce sync failed",
                "detail": run.message[:200],
                "url": "admin:sync_syncrun_dashboard",
                "level": "error",
            }
        )
    if run is not None and run.state == SyncRun.State.BUDGET:
        items.append(
            {
                "title": "The Salesforce API budget was reached",
                "detail": run.message[:200] or "The rest waits for the next window.",
                "url": "admin:sync_syncrun_dashboard",
                "level": "warning",
            }
        )
    return items


# -- charts --------------------------------------------------------------------------------------
def _days(now, days):
    start = (now - dt.timedelta(days=days - 1)).date()
    return [start + dt.timedelta(days=i) for i in range(days)]


def _daily(rows, days) -> list:
    per_day = {r["day"]: r["n"] or 0 for r in rows}
    return [per_day.get(d, 0) for d in days]


@charts.register(position=20)
def contacts_created_chart(*, days, since) -> charts.Chart:
    """Contacts and Leads created per day (their first upsert queued)."""
    rows = (
        OutboxItem.objects.filter(
            created_at__gte=since,
            sobject__in=["Contact", "Lead"],
            operation=OutboxItem.Operation.UPSERT,
        )
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("crmbridge_id", distinct=True))
    )
    return charts.Chart("Contacts and Leads created per day", [("created", _daily(rows, days))])


@charts.register(position=30)
def api_calls_chart(*, days, since) -> charts.Chart:
    rows = (
        SyncRun.objects.filter(started_at__gte=since)
        .annotate(day=TruncDate("started_at"))
        .values("day")
        .annotate(n=Sum("api_calls"))
    )
    return charts.Chart("Salesforce API calls per day (sync)", [("API calls", _daily(rows, days))])


TICK_HALF_WIDTH = 18  # half of "03 Dec" at font-size 10, in chart units
COLORS = ("#417690", "#c0392b", "#b9770e", "#7f8c8d")


def bar_chart(*, days, series, width=600, height=140, colors=COLORS) -> dict:
    """Geometry of a (stacked) bar chart for the SVG template: no JavaScript, no CDN.
    `series` is [(label, values)], stacked bottom-up."""
    n = len(days)
    totals = [sum(values[i] for _, values in series) for i in range(n)]
    top = max(totals) if totals and max(totals) > 0 else 1
    plot_h = height - 20
    slot = width / max(n, 1)
    bar_w = max(slot - 2, 1)
    bars = []
    for i, day in enumerate(days):
        y = plot_h
        for s, (label, values) in enumerate(series):
            h = plot_h * values[i] / top
            y -= h
            if values[i]:
                bars.append(
                    {
                        "x": round(i * slot + 1, 1),
                        "y": round(y, 1),
                        "w": round(bar_w, 1),
                        "h": round(h, 1),
                        "color": colors[s % len(colors)],
                        "title": f"{day:%d %b}: {values[i]} {label}",
                    }
                )
    # A label a week, counted back from today (so two never sit side by side); the last one
    # ends at its bar and none starts left of the chart, so none is clipped.
    ticks = [
        {
            "x": round(i * slot + slot / 2, 1),
            "label": f"{day:%d %b}",
            "anchor": "end" if i == n - 1 else "middle",
        }
        for i, day in enumerate(days)
        if (n - 1 - i) % 7 == 0 and i * slot + slot / 2 >= TICK_HALF_WIDTH
    ]
    return {
        "width": width,
        "height": height,
        "plot_h": plot_h,
        "max": top if totals and max(totals) > 0 else 0,
        "bars": bars,
        "ticks": ticks,
        "legend": [
            {"label": label, "color": colors[s % len(colors)], "total": sum(values)}
            for s, (label, values) in enumerate(series)
        ],
    }


def dashboard(*, client=None, now=None) -> dict:
    now = now or timezone.now()
    days = _days(now, CHART_DAYS)
    since = timezone.make_aware(dt.datetime.combine(days[0], dt.time.min))
    return {
        "runs": last_runs(limit=10),
        "running": SyncRun.objects.filter(state=SyncRun.State.RUNNING).order_by("-id").first(),
        "next_runs": next_runs(),
        "usage": api_usage(client=client),
        "backlog": outbox_backlog(),
        "problems": sync_problems(),
        "interval": GlobalSettings.load().sync_interval_minutes,
        "charts": [
            {"title": chart.title, **bar_chart(days=days, series=chart.series)}
            for chart in charts.charts_for(days=days, since=since)
        ],
    }
