"""The activity feed in the admin: a Rep sees only their own activities (lists, detail pages,
Match details, Edit match, export); Admins and CSMs see all. Fast at millions of rows: no
COUNT(*) of the whole table, related rows joined, participant search through EXISTS."""

from django.contrib import admin
from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from import_export import fields, resources
from import_export.admin import ExportMixin

from accounts.admin import AccountAdmin, OpportunityAdmin
from accounts.models import Account, Opportunity
from crmbridge import attention
from crmbridge.roles import ADMIN, REP, has_role

from .admin_base import FeedRecordAdmin
from .admin_edit_match import edit_match_view, opportunities_for_edit_match
from .engagement import ExecutiveEngagedMixin, executive_engagement_view
from .models import Activity, MatchEdit, Participant
from .selectors import activities_visible_to

COUNT_CAP = 10_000
# A search's page counts matches up to this many, or up to its own last row when deeper, and
# says "more than N" past that: the search stops there instead of collecting every match.
SEARCH_COUNT_CAP = 200


class CappedCountPaginator(Paginator):
    """Counts at most cap + 1 rows (a LIMITed subquery), never the whole table; past the cap,
    `more_than` is the cap, which the pages show as "more than N"."""

    def __init__(self, *args, cap=COUNT_CAP, **kwargs):
        super().__init__(*args, **kwargs)
        self.cap = cap

    @cached_property
    def count(self):
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def more_than(self):
        return self.cap if self.count > self.cap else None


class AccountFilter(admin.SimpleListFilter):
    """Filter by Account (?account=<pk>); the choice is made from an Account's "feed" link."""

    title = "account"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        value = self.value()
        if value and value.isdigit():
            account = Account.objects.filter(pk=value).only("name").first()
            if account is not None:
                return [(value, account.name)]
        return [("none", "No Account")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(account__isnull=True)
        if value and value.isdigit():
            return queryset.filter(account_id=value)
        return queryset


class ActivityResource(resources.ModelResource):
    owner = fields.Field(attribute="owner__email", column_name="owner")
    account = fields.Field(attribute="account__name", column_name="account")
    account_sf_id = fields.Field(attribute="account__sf_id", column_name="account_sf_id")
    opportunity = fields.Field(attribute="opportunity__name", column_name="opportunity")

    class Meta:
        model = Activity
        fields = (
            "id",
            "source",
            "external_id",
            "kind",
            "occurred_at",
            "owner",
            "subject",
            "match_status",
            "account",
            "account_sf_id",
            "opportunity",
            "match_reason",
        )
        export_order = fields


# An activity may have up to MAX_PARTICIPANTS; its pages show them this many at a time.
PARTICIPANTS_PER_PAGE = 50


def participants_page(request, activity):
    """One page (?page=N) of the activity's participants, external first, as pages show them."""
    query = activity.participants.select_related("contact", "lead", "account").order_by(
        "is_internal", "pk"
    )
    page = Paginator(query, PARTICIPANTS_PER_PAGE).get_page(request.GET.get("page"))
    page.elided_range = page.paginator.get_elided_page_range(page.number)
    return page


@admin.register(Activity)
class ActivityAdmin(ExportMixin, admin.ModelAdmin):
    resource_classes = [ActivityResource]
    list_display = [
        "occurred_at",
        "kind",
        "subject_link",
        "owner",
        "status",
        "account",
        "opportunity",
        "reason_short",
    ]
    list_display_links = None
    list_select_related = ["owner", "account", "opportunity"]
    list_filter = [
        "match_status",
        "kind",
        ("occurred_at", admin.DateFieldListFilter),
        AccountFilter,
    ]
    search_fields = ["subject"]
    search_help_text = "Subject, or a participant's e-mail address."
    ordering = ["-occurred_at", "-id"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    search_count_cap = SEARCH_COUNT_CAP
    list_per_page = 50
    change_form_template = "admin/activities/activity/change_form.html"

    # --- who sees what
    def get_queryset(self, request):
        return activities_visible_to(user=request.user, query=super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Activity._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return has_role(request.user, ADMIN) and super().has_delete_permission(request, obj)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_search_results(self, request, queryset, search_term):
        """A whole e-mail address: activities with that participant (indexed). Other text:
        subject or part of a participant's address (trigram indexes on PostgreSQL).

        The page itself (not an export or an action) needs only the first matches (see
        _search_reach): their ids are found once, in the page's order, and the count and the
        page then read only them (else each would run the search again)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        page = getattr(request.resolver_match, "url_name", None) == "activities_activity_changelist"
        if not (page and request.method == "GET"):
            return self._search(queryset, term, reach=None), False
        reach = self._search_reach(request)
        ids = self._search(queryset, term, reach=reach).values_list("pk", flat=True)[:reach]
        return queryset.filter(pk__in=self._walked(ids)), False

    @staticmethod
    def _walked(query):
        """The rows of a query that walks an index until its LIMIT; on PostgreSQL without
        parallel workers, which run ahead of the LIMIT (measured: 5x the rows read)."""
        connection = connections[query.db]
        if connection.vendor != "postgresql":
            return list(query)
        with transaction.atomic(using=query.db), connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            return list(query)

    def _search_reach(self, request):
        """The matches a search's page needs: at least search_count_cap, else up to its own
        last row (each page deeper reaches further), and one more to tell there are more."""
        page = request.GET.get(PAGE_VAR, "1")
        page = int(page) if page.isdigit() else 1
        return min(max(self.search_count_cap, page * self.list_per_page), COUNT_CAP) + 1

    def _search(self, queryset, term, *, reach):
        """`queryset` narrowed to the matches of `term`; with `reach`, only the first `reach`
        in its order need be right."""
        if "@" in term and " " not in term and "." in term.rsplit("@", 1)[1]:
            with_address = Participant.objects.annotate(email_lower=Lower("email")).filter(
                email_lower=term.lower()
            )
            return queryset.filter(pk__in=with_address.values("activity_id"))
        if any(ch.isspace() for ch in term):
            # No stored address holds whitespace: the subject alone (trigram-indexed).
            return queryset.filter(subject__icontains=term)
        # A union, not an OR: each side is planned on its own (trigram indexes on PostgreSQL).
        by_subject = queryset.filter(subject__icontains=term).values("pk")
        by_participant = queryset.filter(
            Exists(Participant.objects.filter(activity=OuterRef("pk"), email__icontains=term))
        ).values("pk")
        if reach and connections[queryset.db].features.supports_slicing_ordering_in_compound:
            # Each side in the page's order and only as far as it reaches: a common word walks
            # the time index and stops early instead of collecting every match.
            by_subject, by_participant = by_subject[:reach], by_participant[:reach]
        else:  # SQLite cannot order the sides of a UNION (its feeds are small)
            by_subject, by_participant = by_subject.order_by(), by_participant.order_by()
        return queryset.filter(pk__in=by_subject.union(by_participant))

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        searched = bool(request.GET.get(SEARCH_VAR, "").strip())
        cap = self._search_reach(request) - 1 if searched else COUNT_CAP
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page, cap=cap)

    # --- columns
    @admin.display(description="subject", ordering="subject")
    def subject_link(self, obj):
        url = reverse("admin:activities_activity_match", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.subject or "(no subject)")

    @admin.display(description="match", ordering="match_status")
    def status(self, obj):
        edited = " (edited)" if obj.match_edited else ""
        return f"{obj.get_match_status_display()}{edited}"

    @admin.display(description="why")
    def reason_short(self, obj):
        text = obj.match_reason
        return text if len(text) <= 90 else text[:87] + "..."

    # --- Match details and Edit match
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/match/",
                wrap(self.match_details_view),
                name="activities_activity_match",
            ),
            path(
                "<path:object_id>/edit-match/",
                wrap(self.edit_match_view),
                name="activities_activity_edit_match",
            ),
            path(
                "executive-engagement/",
                wrap(lambda request: executive_engagement_view(self, request)),
                name="activities_executive_engagement",
            ),
            *super().get_urls(),
        ]

    def _visible_activity(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        activity = (
            self.get_queryset(request)
            .select_related("owner", "account", "opportunity", "owner_sf_user")
            .filter(pk=object_id if str(object_id).isdigit() else None)
            .first()
        )
        if activity is None:
            raise Http404("No such activity in your feed.")
        return activity

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Participants as a paginated table (an inline would render all of them at once).
        activity = (
            self.get_queryset(request)
            .filter(pk=object_id if str(object_id).isdigit() else None)
            .first()
        )
        if activity is not None:
            extra_context = {
                **(extra_context or {}),
                "participants": participants_page(request, activity),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def match_details_view(self, request, object_id):
        activity = self._visible_activity(request, object_id)
        participants = participants_page(request, activity)
        edits = activity.match_edits.select_related("user")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Match details: {activity}",
            "opts": self.opts,
            "activity": activity,
            "participants": participants,
            "edits": edits,
            "may_edit": self.has_change_permission(request, activity),
        }
        return TemplateResponse(request, "admin/activities/activity/match_details.html", context)

    def edit_match_view(self, request, object_id):
        return edit_match_view(self, request, self._visible_activity(request, object_id))


@attention.register
def unmatched_attention(request):
    user = request.user
    if not has_role(user, ADMIN, REP):
        return []
    query = activities_visible_to(user=user)
    base = reverse("admin:activities_activity_changelist")
    mine = "your" if not has_role(user, ADMIN) else "the"
    items = []
    for status, title, level in [
        (Activity.MatchStatus.AMBIGUOUS, "activities match several Accounts", "warning"),
        (Activity.MatchStatus.UNMATCHED, "activities matched no Account", "info"),
    ]:
        count = query.filter(match_status=status).order_by()[: COUNT_CAP + 1].count()
        if count:
            shown = f"{COUNT_CAP:,}+" if count > COUNT_CAP else f"{count:,}"
            items.append(
                attention.Attention(
                    f"{shown} {title}",
                    f"In {mine} activity feed: open Match details to see why, then Edit match.",
                    f"{base}?match_status__exact={status}",
                    level,
                    count,
                )
            )
    return items


@admin.register(MatchEdit)
class MatchEditAdmin(FeedRecordAdmin):
    """Who changed which activity's match, when, from what to what (read-only)."""

    list_display = ["created_at", "user", "activity", "added_domain"]
    list_select_related = ["user", "activity"]
    show_full_result_count = False
    readonly_fields = ["activity", "user", "created_at", "before", "after", "added_domain"]


from . import admin_diagnostics  # noqa: E402, F401  (contact decisions, "Why no Contact?")

# Accounts and Opportunities show who of their executives took part in recent activity: the
# mirror's admin, extended here where activity is known.
admin.site.unregister(Account)
admin.site.unregister(Opportunity)


@admin.register(Account)
class AccountWithEngagementAdmin(ExecutiveEngagedMixin, AccountAdmin):
    engagement_of = "account"


@admin.register(Opportunity)
class OpportunityWithEngagementAdmin(ExecutiveEngagedMixin, OpportunityAdmin):
    engagement_of = "opportunity"

    def get_search_results(self, request, queryset, search_term):
        queryset = opportunities_for_edit_match(request, queryset)
        return super().get_search_results(request, queryset, search_term)
