"""Executive engagement: executives (by classified seniority) who took part in recent activity,
per Account and per Opportunity: the selector, and what the admin shows of it."""

from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from accounts.models import Account, Opportunity
from classification.models import ClassificationSettings
from crmbridge.roles import ADMIN, CSM, has_role

from .models import Participant


def executive_engaged(*, account_ids=None, opportunity_ids=None, now=None) -> dict:
    """Executives engaged per Account and per Opportunity.

    An executive is a Contact whose seniority is one of the configured executive values
    (ClassificationSettings, default "Vice President" and "Executive"); engaged when the contact
    took part in an activity (activities.Participant.contact) in the last `engaged_days` days.
    Per Account: the contact's own Account. Per Opportunity: the activity's Opportunity.
    `account_ids` / `opportunity_ids` limit the answer (None: all). Two queries at most.

    Returns {"accounts": {account_id: {"count", "contacts"}}, "opportunities": {...},
    "since": datetime, "executive_values": [...]}; each contact is
    {"id", "name", "title", "seniority", "last_activity_at"}, most recent first.
    """
    config = ClassificationSettings.load()
    executive_values = config.executive_values
    since = (now or timezone.now()) - timedelta(days=config.engaged_days)
    base = Participant.objects.filter(
        contact__isnull=False,
        contact__is_deleted=False,
        contact__seniority__in=executive_values,
        activity__occurred_at__gte=since,
    )
    contact_fields = (
        "contact_id",
        "contact__first_name",
        "contact__last_name",
        "contact__title",
        "contact__seniority",
    )

    def group(qs, key):
        out: dict = {}
        rows = qs.values(key, *contact_fields).annotate(last=Max("activity__occurred_at"))
        for row in rows.order_by(key, "-last", "contact_id"):
            entry = out.setdefault(row[key], {"count": 0, "contacts": []})
            entry["count"] += 1
            name = " ".join(p for p in (row["contact__first_name"], row["contact__last_name"]) if p)
            entry["contacts"].append(
                {
                    "id": row["contact_id"],
                    "name": name,
                    "title": row["contact__title"],
                    "seniority": row["contact__seniority"],
                    "last_activity_at": row["last"],
                }
            )
        return out

    accounts: dict = {}
    opportunities: dict = {}
    if account_ids is None or account_ids:
        qs = base.filter(contact__account__isnull=False)
        if account_ids is not None:
            qs = qs.filter(contact__account_id__in=list(account_ids))
        accounts = group(qs, "contact__account_id")
    if opportunity_ids is None or opportunity_ids:
        qs = base.filter(activity__opportunity__isnull=False)
        if opportunity_ids is not None:
            qs = qs.filter(activity__opportunity_id__in=list(opportunity_ids))
        opportunities = group(qs, "activity__opportunity_id")
    return {
        "accounts": accounts,
        "opportunities": opportunities,
        "since": since,
        "executive_values": executive_values,
    }


def executive_engagement_html(entry, since):
    """The "Executive Engaged" answer for one Account or Opportunity, as admin HTML."""
    if not entry:
        return format_html("None since {}", date_format(since, "DATE_FORMAT"))
    people = format_html_join(
        ", ", "{} ({})", ((c["name"], c["title"] or c["seniority"]) for c in entry["contacts"])
    )
    return format_html("{} since {}: {}", entry["count"], date_format(since, "DATE_FORMAT"), people)


class ExecutiveEngagedMixin:
    """Adds Executive Engaged (executive_engaged) to a change page."""

    readonly_fields = ["executive_engaged"]
    engagement_of = ""  # "account" or "opportunity"

    @admin.display(description="Executive Engaged")
    def executive_engaged(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        answer = executive_engaged(**{f"{self.engagement_of}_ids": [obj.pk]})
        per_record = answer["accounts" if self.engagement_of == "account" else "opportunities"]
        return executive_engagement_html(per_record.get(obj.pk), answer["since"])


def executive_engagement_view(model_admin, request):
    if not has_role(request.user, ADMIN, CSM):
        raise PermissionDenied
    found = executive_engaged()
    accounts = Account.objects.in_bulk(list(found["accounts"]))
    opportunities = Opportunity.objects.select_related("account").in_bulk(
        list(found["opportunities"])
    )

    def rows(groups, objects):
        out = [
            {"object": objects.get(key), "count": entry["count"], "contacts": entry["contacts"]}
            for key, entry in groups.items()
            if objects.get(key) is not None
        ]
        return sorted(out, key=lambda r: (-r["count"], str(r["object"])))

    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Executive engagement",
        "since": found["since"],
        "executive_values": found["executive_values"],
        "account_rows": rows(found["accounts"], accounts),
        "opportunity_rows": rows(found["opportunities"], opportunities),
        "settings_url": reverse("admin:classification_classificationsettings_changelist"),
    }
    return TemplateResponse(request, "admin/activities/executive_engagement.html", context)
