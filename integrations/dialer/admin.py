"""Control panel of the dialer: projects (secret shown once), integrations with their result
codes, secondary keys and field mappings, and the runs (read-only, failed ones retryable)."""

from django.contrib import admin, messages
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from crmbridge import attention
from crmbridge.admin import HistoryAdmin
from crmbridge.roles import ADMIN, has_role

from . import selectors, services
from .models import (
    Action,
    CallRun,
    DialerProject,
    FieldMapping,
    Integration,
    ResultCode,
    SecondaryKey,
    result_code_normal,
)


def _secret_page(request, admin_obj, secrets, continue_url):
    """Show webhook secrets once: rendered straight into this response (never stored in a
    message cookie or the session) and not cached."""
    response = TemplateResponse(
        request,
        "admin/dialer/secret_once.html",
        {
            **admin_obj.admin_site.each_context(request),
            "title": "Webhook secret",
            "secrets": secrets,
            "continue_url": continue_url,
            "opts": admin_obj.model._meta,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@admin.register(DialerProject)
class DialerProjectAdmin(HistoryAdmin):
    list_display = ["name", "id", "integration_count", "created_at", "secret_rotated_at"]
    search_fields = ["name"]
    fields = ["name", "created_at", "secret_rotated_at"]
    readonly_fields = ["created_at", "secret_rotated_at"]
    actions = ["rotate_secret"]
    show_full_result_count = False
    change_form_template = "admin/dialer/dialerproject/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """What the dialer needs (webhook URL, project id, how to sign) and the project's
        integrations, on the project's page."""
        project = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "webhook_url": request.build_absolute_uri(reverse("api:dialer-call-results")),
            "project_integrations": (
                project.integrations.prefetch_related("result_codes").order_by("name")
                if project is not None
                else []
            ),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_integrations=Count("integrations"))

    @admin.display(description="integrations", ordering="_integrations")
    def integration_count(self, obj):
        return obj._integrations

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        project, secret = services.project_create(name=obj.name)
        obj.pk, obj.secret_hash, obj.created_at = (
            project.pk,
            project.secret_hash,
            project.created_at,
        )
        obj._state.adding = False
        request._dialer_new_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_dialer_new_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        url = reverse("admin:dialer_dialerproject_change", args=[obj.pk])
        return _secret_page(request, self, [(obj, secret)], url)

    @admin.action(description="Rotate the webhook secret (shown once)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        shown = []
        for project in queryset:
            secret = services.project_secret_rotate(project=project)
            self.log_change(request, project, "Rotated the webhook secret.")
            shown.append((project, secret))
        return _secret_page(request, self, shown, reverse("admin:dialer_dialerproject_changelist"))


class ResultCodeFormSet(BaseInlineFormSet):
    """A code belongs to at most one integration of a project: say which one has it."""

    def clean(self):
        super().clean()
        project_id = self.instance.project_id
        forms, seen = [], set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            code = result_code_normal(data.get("code"))
            if not code or data.get("DELETE"):
                continue
            if code in seen:
                form.add_error("code", f"'{code}' is listed twice.")
            seen.add(code)
            form.instance.code = code
            form.instance.project_id = project_id
            forms.append((form, code))
        if project_id is None:
            return
        conflicts = selectors.result_code_conflicts(
            project_id=project_id, codes=seen, exclude_integration_id=self.instance.pk
        )
        for form, code in forms:
            if code in conflicts:
                form.add_error("code", services.result_code_conflict_message(code, conflicts[code]))


class ResultCodeInline(admin.TabularInline):
    model = ResultCode
    formset = ResultCodeFormSet
    fields = ["code"]
    extra = 1
    verbose_name_plural = (
        "result codes (a code triggers at most one integration per project; case does not "
        "matter: kept in capitals)"
    )


class SecondaryKeyInline(admin.TabularInline):
    model = SecondaryKey
    fields = ["position", "dialer_field", "salesforce_field"]
    extra = 1
    verbose_name_plural = "secondary keys (all must match, on Leads and Contacts)"


class FieldMappingInline(admin.TabularInline):
    model = FieldMapping
    fields = ["dialer_field", "sobject", "salesforce_field"]
    extra = 2


@admin.register(Integration)
class IntegrationAdmin(HistoryAdmin):
    list_display = ["name", "project", "action", "codes", "active"]
    list_filter = ["project", "action", "active"]
    list_select_related = ["project"]
    search_fields = ["name", "result_codes__code"]
    show_full_result_count = False
    fields = ["project", "name", "action", "email_on_error", "active"]
    inlines = [ResultCodeInline, SecondaryKeyInline, FieldMappingInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("result_codes")

    def get_readonly_fields(self, request, obj=None):
        # Result codes are unique per project: an integration stays in its project.
        return ["project"] if obj is not None else []

    @admin.display(description="result codes")
    def codes(self, obj):
        return ", ".join(rc.code for rc in obj.result_codes.all())

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for warning in services.integration_warnings(integration=form.instance):
            self.message_user(request, warning, messages.WARNING)


@admin.register(CallRun)
class CallRunAdmin(admin.ModelAdmin):
    list_display = [
        "call_id", "project", "result_code", "integration", "action_label", "status", "attempts",
        "received_at",
    ]  # fmt: skip
    list_filter = ["status", "project"]
    list_select_related = ["project", "integration"]
    search_fields = ["call_id"]
    show_full_result_count = False
    date_hierarchy = "received_at"
    actions = ["retry"]
    fields = [
        "project", "call_id", "result_code", "integration", "action_label", "status", "outcome",
        "records", "error", "emails", "attempts", "received_at", "started_at", "finished_at",
        "payload",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="action")
    def action_label(self, obj):
        # A run keeps the action as it ran (plain text): show it in the integration's words.
        return Action(obj.action).label if obj.action in Action.values else obj.action or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return has_role(request.user, ADMIN)

    @admin.display(description="Salesforce records")
    def records(self, obj):
        rows = obj.salesforce_records or []
        if not rows:
            return "-"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} {} ({})</li>",
                ((r.get("object"), r.get("id"), r.get("operation")) for r in rows),
            ),
        )

    @admin.display(description="error e-mails")
    def emails(self, obj):
        sent = obj.emails_sent or []
        if not sent:
            return "-"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>attempt {}: {} at {}</li>",
                ((e.get("attempt"), ", ".join(e.get("to", [])), e.get("at")) for e in sent),
            ),
        )

    @admin.action(description="Retry (failed or stuck runs, with the integration as it is now)",
                  permissions=["retry"])  # fmt: skip
    def retry(self, request, queryset):
        retried = skipped = 0
        for run in queryset:
            if services.run_retry(run=run):
                retried += 1
                self.log_change(request, run, "Retried the run.")
            else:
                skipped += 1
        if retried:
            self.message_user(request, f"{retried} run(s) retried.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} run(s) skipped: only failed or stuck runs can be retried.",
                messages.WARNING,
            )  # fmt: skip


@attention.register
def dialer_attention(request):
    if not has_role(request.user, ADMIN):
        return []
    failed = selectors.failed_run_count()
    if not failed:
        return []
    url = reverse("admin:dialer_callrun_changelist") + "?status__exact=failed"
    return [
        attention.Attention(
            "Dialer runs failed",
            "Calls that were not written to Salesforce (failed, or stuck in the queue). Fix the "
            "integration, then retry them.",
            url,
            "error",
            failed,
        )
    ]
