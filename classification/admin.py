"""Admin for CSMs: rules (try a title, CSV import/export, history, starter pack), values,
settings, re-classification runs, the unclassified-titles queue and executive engagement."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from import_export.admin import ImportExportModelAdmin

from crmbridge import attention
from crmbridge.admin import HistoryAdmin, SingletonAdminMixin
from crmbridge.roles import ADMIN, CSM, has_role
from integrations.salesforce import SalesforceError

from . import selectors, services
from .models import (
    VALUE_MAX_LENGTH,
    ClassificationRule,
    ClassificationSettings,
    ClassificationValue,
    Dimension,
    ReclassificationRun,
)
from .resources import ClassificationRuleResource
from .words import suggested_keyword

NEW_VALUE = "__new__"


class ClassificationRuleForm(forms.ModelForm):
    """The value is chosen from the organisation's values of the rule's dimension; a new one
    is added only on purpose ("Add a new value…" and its box), so a typo never makes a new
    department by itself."""

    value = forms.ChoiceField(
        help_text="One of the organisation's values of the rule's dimension, or “Add a new "
        "value…” to add one.",
    )
    new_value = forms.CharField(
        required=False,
        max_length=VALUE_MAX_LENGTH,
        label="New value",
        help_text="Only with “Add a new value…”: it joins the organisation's values.",
    )

    class Meta:
        model = ClassificationRule
        fields = ["keyword", "dimension", "value", "priority", "active", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        known = {dim: [] for dim in Dimension.values}
        for dim, value in ClassificationValue.objects.order_by("value").values_list(
            "dimension", "value"
        ):
            known.setdefault(dim, []).append(value)
        if self.instance.pk and self.instance.value not in known.get(self.instance.dimension, []):
            known.setdefault(self.instance.dimension, []).append(self.instance.value)
        labels = dict(Dimension.choices)
        self.fields["value"].choices = [
            ("", "— choose —"),
            *[(labels.get(dim, dim), [(v, v) for v in values]) for dim, values in known.items()],
            (NEW_VALUE, "Add a new value…"),
        ]

    def clean(self):
        data = super().clean()
        value, dimension = data.get("value"), data.get("dimension")
        typed = (data.get("new_value") or "").strip()
        if not value or not dimension:
            return data
        if value == NEW_VALUE:
            if not typed:
                self.add_error("new_value", "Type the new value.")
                return data
            existing = ClassificationValue.case_twin(dimension=dimension, value=typed)
            if existing is not None:
                self.add_error(
                    "new_value", f"“{existing}” is already a {dimension} value: choose it above."
                )
            data["value"] = typed
            return data
        if typed:
            self.add_error(
                "new_value", "To add it, choose “Add a new value…” above (or clear this box)."
            )
        known = ClassificationValue.objects.filter(dimension=dimension, value=value).exists()
        kept = self.instance.pk and (self.instance.dimension, self.instance.value) == (
            dimension,
            value,
        )
        if not known and not kept:
            self.add_error(
                "value",
                f"“{value}” is not a {dimension} value: choose one of the {dimension} values, "
                "or “Add a new value…”.",
            )
        return data


def _explanation_rows(explanation):
    """The engine's explanation as plain rows for the template (it escapes them)."""
    rows = []
    for dim in explanation:
        rows.append(
            {
                "dimension": dim.dimension,
                "value": dim.value,
                "reason": dim.reason,
                "matches": [
                    {
                        "rule_id": match.rule.id,
                        "keyword": match.rule.keyword,
                        "value": match.rule.value,
                        "priority": match.rule.priority,
                        "start": match.start,
                        "words": match.words,
                        "lost_because": match.lost_because,
                    }
                    for match in dim.matches
                ],
            }
        )
    return rows


@admin.register(ClassificationRule)
class ClassificationRuleAdmin(ImportExportModelAdmin, HistoryAdmin):
    resource_classes = [ClassificationRuleResource]
    form = ClassificationRuleForm
    change_list_template = "admin/classification/classificationrule/change_list.html"
    change_form_template = "admin/classification/classificationrule/change_form.html"
    list_display = [
        "keyword",
        "dimension",
        "value",
        "priority",
        "active",
        "updated_at",
        "updated_by",
    ]
    list_filter = ["dimension", "active", "value"]
    search_fields = ["keyword", "value", "note"]
    list_select_related = ["updated_by"]
    show_full_result_count = False
    list_per_page = 100
    fields = ["keyword", "dimension", "value", "new_value", "priority", "active", "note"]
    readonly_fields = []
    actions = ["activate_rules", "deactivate_rules"]

    # django-import-export lets every staff user import and export unless told otherwise.
    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    # -- saving goes through the services (version bump, re-classification) ----------------
    def save_model(self, request, obj, form, change):
        for warning in services.rule_save(rule=obj, user=request.user):
            self.message_user(request, warning, messages.WARNING)

    def delete_model(self, request, obj):
        services.rule_delete(rule=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        services.rules_delete(rules=queryset, user=request.user)

    @admin.action(description="Activate selected rules", permissions=["change"])
    def activate_rules(self, request, queryset):
        n = services.rules_set_active(rules=queryset, active=True, user=request.user)
        self.message_user(request, f"{n} rules activated; contacts are being re-classified.")

    @admin.action(description="Deactivate selected rules", permissions=["change"])
    def deactivate_rules(self, request, queryset):
        n = services.rules_set_active(rules=queryset, active=False, user=request.user)
        self.message_user(request, f"{n} rules deactivated; contacts are being re-classified.")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if "keyword" in initial:
            initial["keyword"] = str(initial["keyword"])[:200]
        return initial

    # -- extra pages ----------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "load-starter-pack/",
                wrap(self.load_starter_pack_view),
                name="classification_load_starter_pack",
            ),
            path(
                "unclassified/",
                wrap(self.unclassified_view),
                name="classification_unclassified",
            ),
            path("impact/", wrap(self.impact_view), name="classification_rule_impact"),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        # "Try a title" is not a list filter: take it out of the query before the changelist
        # reads its filters.
        title = request.GET.get("try_title")
        if title is not None:
            request.GET = request.GET.copy()
            del request.GET["try_title"]
            request.META["QUERY_STRING"] = request.GET.urlencode()
        extra_context = extra_context or {}
        if title is not None and self.has_view_permission(request):
            ruleset = selectors.active_ruleset()
            explanation = ruleset.explain(title[:1000])
            extra_context["try_title"] = title
            extra_context["try_words"] = explanation.words
            extra_context["try_rows"] = _explanation_rows(
                [explanation.department, explanation.seniority]
            )
        extra_context["latest_run"] = ReclassificationRun.objects.first()
        return super().changelist_view(request, extra_context)

    def load_starter_pack_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        result = services.rulepack_load(name="seniority_starter", user=request.user)
        self.message_user(
            request,
            f"Starter seniority pack: {result['created']} rules added, "
            f"{result['skipped']} already present.",
        )
        return redirect("admin:classification_classificationrule_changelist")

    def impact_view(self, request):
        """What a rule as typed in its form (not yet saved) would change on existing Contacts.

        The change form's "Preview impact" button sends its fields here with POST (GET works
        too, for a link); nothing is saved either way.
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        typed_data = request.POST if request.method == "POST" else request.GET
        rule = None
        rule_id = typed_data.get("rule_id", "")
        if rule_id.isdigit():
            rule = ClassificationRule.objects.filter(pk=int(rule_id)).first()
        form = self.get_form(request, rule)(data=typed_data, instance=rule)
        impact = None
        if form.is_valid():
            data = form.cleaned_data
            impact = selectors.impact_of(
                draft={
                    "keyword": data["keyword"],
                    "dimension": data["dimension"],
                    "value": data["value"],
                    "priority": data.get("priority") or 0,
                    "active": data.get("active", True),
                    "id": rule.pk if rule else None,
                }
            )
        typed = {k: typed_data[k] for k in form.fields if k in typed_data}
        if rule:
            back_url = reverse("admin:classification_classificationrule_change", args=[rule.pk])
        else:
            back_url = (
                f"{reverse('admin:classification_classificationrule_add')}?{urlencode(typed)}"
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Impact of this rule",
            "back_url": back_url,
            "form": form,
            "rule": rule,
            "impact": impact,
        }
        return TemplateResponse(request, "admin/classification/impact.html", context)

    def unclassified_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        dimension = request.GET.get("dimension", Dimension.SENIORITY)
        if dimension not in Dimension.values:
            dimension = Dimension.SENIORITY
        search = request.GET.get("q", "")[:128]
        rows = selectors.unclassified_titles(dimension=dimension, limit=200, search=search)
        add_url = reverse("admin:classification_classificationrule_add")
        can_add = self.has_add_permission(request)
        for row in rows:
            suggested = {
                "keyword": suggested_keyword(row["title"], dimension),
                "dimension": dimension,
                "note": f"From the title “{row['title']}”.",
            }
            row["suggested"] = suggested["keyword"]
            row["add_url"] = f"{add_url}?{urlencode(suggested)}" if can_add else ""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Unclassified titles",
            "dimension": dimension,
            "dimensions": Dimension.choices,
            "rows": rows,
            "search": search,
            "total": selectors.unclassified_count(dimension=dimension),
        }
        return TemplateResponse(request, "admin/classification/unclassified.html", context)


@admin.register(ClassificationValue)
class ClassificationValueAdmin(admin.ModelAdmin):
    change_list_template = "admin/classification/classificationvalue/change_list.html"
    list_display = ["value", "dimension", "source", "created_at"]
    list_filter = ["dimension", "source"]
    search_fields = ["value"]
    show_full_result_count = False
    readonly_fields = ["source"]

    def get_urls(self):
        return [
            path(
                "refresh-from-salesforce/",
                self.admin_site.admin_view(self.refresh_view),
                name="classification_values_refresh",
            )
        ] + super().get_urls()

    def refresh_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        try:
            added = services.classification_values_refresh_from_salesforce()
        except SalesforceError as exc:
            self.message_user(
                request, f"Salesforce could not be reached: {exc.message}", messages.ERROR
            )
        else:
            n = sum(len(v) for v in added.values())
            self.message_user(request, f"{n} values added from the Contact picklists.")
        return redirect("admin:classification_classificationvalue_changelist")


@admin.register(ClassificationSettings)
class ClassificationSettingsAdmin(SingletonAdminMixin, HistoryAdmin):
    fields = ["executive_seniorities", "engaged_days", "clear_unmatched"]


@admin.register(ReclassificationRun)
class ReclassificationRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "state",
        "progress",
        "changed",
        "outbox_queued",
        "reason",
        "created_at",
        "started_at",
        "finished_at",
    ]
    list_filter = ["state"]
    show_full_result_count = False
    readonly_fields = [f.name for f in ReclassificationRun._meta.fields]
    actions = ["run_again"]

    @admin.action(
        description="Re-classify all contacts again (after a failed run)", permissions=["rerun"]
    )
    def run_again(self, request, queryset):
        run = services.reclassification_enqueue(reason=f"requested by {request.user}")
        self.message_user(request, f"Re-classification #{run.pk} queued.")

    def has_rerun_permission(self, request):
        return request.user.has_perm("classification.add_reclassificationrun")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress(self, obj):
        return format_html("{} / {} ({}%)", obj.processed, obj.total, obj.percent)


@attention.register
def classification_attention(request):
    if not has_role(request.user, ADMIN, CSM):
        return []
    items = []
    failed = ReclassificationRun.objects.filter(state=ReclassificationRun.State.FAILED).first()
    latest = ReclassificationRun.objects.first()
    if failed is not None and latest is not None and latest.pk == failed.pk:
        items.append(
            attention.Attention(
                "Re-classification of contacts failed",
                failed.error[:200],
                reverse("admin:classification_reclassificationrun_changelist"),
                level="error",
            )
        )
    for dimension, label in Dimension.choices:
        titles, contacts = selectors.unclassified_summary(dimension=dimension)
        if titles:
            items.append(
                attention.Attention(
                    f"Contact titles without a {label.lower()}",
                    f"{contacts:,} contacts wait for them; create rules for the most frequent.",
                    reverse("admin:classification_unclassified") + f"?dimension={dimension}",
                    level="info",
                    count=titles,
                )
            )
    return items
