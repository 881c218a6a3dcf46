"""Admin of the integrations app: the outbox (failures with Salesforce's message, fix and retry)
and the Salesforce connection page (which org, API usage, last error, test connection)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from crmbridge.roles import ADMIN, has_role
from integrations.salesforce import SalesforceError, get_client

from .models import OutboxItem
from .services import outbox_retry

EDITABLE_WHEN_FAILED = ["payload"]


@admin.register(OutboxItem)
class OutboxItemAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "sobject",
        "operation",
        "state",
        "record",
        "attempts",
        "error_code",
        "short_error",
        "created_at",
        "sent_at",
    ]
    list_filter = ["state", "sobject", "operation", "error_code"]
    search_fields = ["crmbridge_id", "sf_id", "last_error"]
    show_full_result_count = False
    ordering = ["-id"]
    actions = ["retry"]
    readonly_fields = [
        "sobject",
        "operation",
        "crmbridge_id",
        "sf_id",
        "stage",
        "local_ref",
        "state",
        "attempts",
        "next_attempt_at",
        "claimed_by",
        "claimed_at",
        "error_code",
        "last_error",
        "created_at",
        "sent_at",
    ]
    fields = ["payload", *readonly_fields]
    change_form_template = "admin/integrations/outboxitem/change_form.html"

    @admin.display(description="record")
    def record(self, obj):
        return obj.crmbridge_id or obj.sf_id

    @admin.display(description="Salesforce's message")
    def short_error(self, obj):
        text = obj.last_error or ""
        return text if len(text) <= 120 else text[:117] + "..."

    # -- permissions: only Admins fix and retry, and only failed rows ----------------------------
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if not has_role(request.user, ADMIN):
            return False
        return obj is None or obj.state == OutboxItem.State.FAILED

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and self.has_change_permission(request, obj):
            return self.readonly_fields
        return [*EDITABLE_WHEN_FAILED, *self.readonly_fields]

    def has_retry_permission(self, request):
        return has_role(request.user, ADMIN)

    @admin.action(description="Retry the selected failed writes", permissions=["retry"])
    def retry(self, request, queryset):
        failed = list(queryset.filter(state=OutboxItem.State.FAILED))
        with transaction.atomic():
            n = outbox_retry(items=failed)
            for item in failed:
                self.log_change(request, item, "Retry")
        self.message_user(
            request,
            f"{n} write(s) will be sent again with the next push.",
            messages.SUCCESS if n else messages.WARNING,
        )

    def response_change(self, request, obj):
        if "_retry" in request.POST and self.has_change_permission(request, obj):
            outbox_retry(items=[obj])
            self.log_change(request, obj, "Fixed and retried")
            self.message_user(request, "Saved; it will be sent again with the next push.")
            return redirect("admin:integrations_outboxitem_changelist")
        return super().response_change(request, obj)

    # -- the Salesforce connection page ----------------------------------------------------------
    def get_urls(self):
        return [
            path(
                "connection/",
                self.admin_site.admin_view(self.connection_view),
                name="integrations_salesforce_connection",
            ),
            *super().get_urls(),
        ]

    def connection_view(self, request):
        """Which org, API usage, last error; "Test connection" (POST). Never a password or a
        token: describe_connection() carries neither."""
        if not has_role(request.user, ADMIN):
            raise PermissionDenied
        client, problem, test = None, "", None
        try:
            client = get_client()
        except SalesforceError as exc:
            problem = str(exc)
        if request.method == "POST" and client is not None:
            test = client.test_connection()
            level = messages.SUCCESS if test["ok"] else messages.ERROR
            self.message_user(request, f"Test connection: {test['message']}", level)
        info = client.describe_connection() if client is not None else {}
        usage = None
        if info.get("api_max"):
            usage = format_html(
                "{} of {} daily API calls used ({}%)",
                info["api_used"],
                info["api_max"],
                round(100 * info["api_used"] / info["api_max"], 1),
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Salesforce connection",
            "opts": self.model._meta,
            "info": info,
            "usage": usage,
            "problem": problem,
        }
        return TemplateResponse(request, "admin/integrations/connection.html", context)
