"""The activity feed in the admin: a Rep sees only their own activities (lists, detail pages,
Match details, Edit match, export); Admins and CSMs see all. Fast at millions of rows: no
COUNT(*) of the whole table, related rows joined, participant search through EXISTS."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Min
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from import_export import fields, resources
from import_export.admin import ExportMixin

from accounts.admin import AccountAdmin, OpportunityAdmin
from accounts.domains import is_personal_domain
from accounts.models import Account, Opportunity
from crmbridge import attention
from crmbridge.models import GlobalSettings
from crmbridge.roles import ADMIN, REP, has_role

from . import rematch
from .admin_base import FeedRecordAdmin
from .engagement import ExecutiveEngagedMixin, executive_engagement_view
from .models import Activity, MatchEdit, Participant
from .selectors import activities_visible_to

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows (a LIMITed subquery), never the whole table."""

    @cached_property
    def count(self):
        return self.object_list.order_by()[: COUNT_CAP + 1].count()


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
# Edit match offers at most this many of an activity's domains.
DOMAIN_CHOICES_MAX = 100


def participants_page(request, activity):
    """One page (?page=N) of the activity's participants, external first, as pages show them."""
    query = activity.participants.select_related("contact", "lead", "account").order_by(
        "is_internal", "pk"
    )
    page = Paginator(query, PARTICIPANTS_PER_PAGE).get_page(request.GET.get("page"))
    page.elided_range = page.paginator.get_elided_page_range(page.number)
    return page


class EditMatchForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=Account.objects.filter(is_deleted=False),
        required=False,
        help_text="Search by name, Salesforce Id or domain. Empty: no Account.",
    )
    opportunity = forms.ModelChoiceField(
        queryset=Opportunity.objects.filter(is_deleted=False),
        required=False,
        help_text="Optional; must belong to the chosen Account.",
    )
    add_domain = forms.ChoiceField(
        required=False,
        label="Also add this domain to the Account",
        help_text="Future activity from this domain then matches the Account (Admins only).",
    )

    def __init__(self, *args, admin_site, domain_choices, may_add_domain, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("account", "opportunity"):
            field = self.fields[name]
            field.widget = AutocompleteSelect(Activity._meta.get_field(name), admin_site)
            field.widget.choices = field.choices
        if may_add_domain and domain_choices:
            self.fields["add_domain"].choices = [("", "— no —")] + [(d, d) for d in domain_choices]
        else:
            del self.fields["add_domain"]

    def clean(self):
        data = super().clean()
        account, opportunity = data.get("account"), data.get("opportunity")
        if opportunity is not None and (account is None or opportunity.account_id != account.pk):
            self.add_error("opportunity", "Choose an Opportunity of the chosen Account.")
        if data.get("add_domain") and account is None:
            self.add_error("add_domain", "Choose an Account to add the domain to.")
        return data


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
        subject (a trigram index on PostgreSQL) or part of a participant's address (a scan)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" in term and " " not in term and "." in term.rsplit("@", 1)[1]:
            with_address = Participant.objects.annotate(email_lower=Lower("email")).filter(
                email_lower=term.lower()
            )
            return queryset.filter(pk__in=with_address.values("activity_id")), False
        if any(ch.isspace() for ch in term):
            # No stored address holds whitespace: the subject alone (trigram-indexed).
            return queryset.filter(subject__icontains=term), False
        # A union, not an OR: each side uses its own index or scan, then one hashed id list.
        by_subject = Activity.objects.filter(subject__icontains=term).values("pk")
        by_participant = Participant.objects.filter(email__icontains=term).values("activity_id")
        return queryset.filter(pk__in=by_subject.union(by_participant)), False

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

    def _domain_choices(self, activity):
        """The activity's external domains, each once, in order of first appearance."""
        extra = GlobalSettings.load().extra_personal_domains
        domains = (
            activity.participants.filter(is_internal=False)
            .exclude(domain="")
            .values("domain")
            .annotate(first=Min("pk"))
            .order_by("first")
            .values_list("domain", flat=True)
        )
        found = [d for d in domains if not is_personal_domain(d, extra=extra)]
        return found[:DOMAIN_CHOICES_MAX]

    def edit_match_view(self, request, object_id):
        activity = self._visible_activity(request, object_id)
        if not self.has_change_permission(request, activity):
            raise PermissionDenied
        may_add_domain = has_role(request.user, ADMIN)
        form_kwargs = {
            "admin_site": self.admin_site,
            "domain_choices": self._domain_choices(activity),
            "may_add_domain": may_add_domain,
        }
        if request.method == "POST":
            form = EditMatchForm(request.POST, **form_kwargs)
            if form.is_valid():
                try:
                    edit = rematch.activity_match_edit(
                        activity=activity,
                        account=form.cleaned_data["account"],
                        opportunity=form.cleaned_data["opportunity"],
                        user=request.user,
                        add_domain=form.cleaned_data.get("add_domain") or "",
                    )
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    self.log_change(request, activity, f"Edit match: {edit.after}")
                    note = "Match saved."
                    if edit.added_domain:
                        note += f" Added {edit.added_domain} to the Account."
                    self.message_user(request, note, messages.SUCCESS)
                    return redirect("admin:activities_activity_match", activity.pk)
        else:
            form = EditMatchForm(
                initial={"account": activity.account, "opportunity": activity.opportunity},
                **form_kwargs,
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Edit match: {activity}",
            "opts": self.opts,
            "activity": activity,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/activities/activity/edit_match.html", context)


@attention.register
def unmatched_attention(request):
    user = request.user
    if not has_role(user, ADMIN, REP):
        return []
    query = activities_visible_to(user=user)
    base = reverse("admin:activities_activity_changelist")
    mine = "your" if not has_role(user, ADMIN) else "all"
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
