"""Admin of the integrations app: the outbox (failures with Salesforce's message, fix and retry).
The Salesforce connection page is crmbridge's (crmbridge/salesforce_admin.py)."""

from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import redirect

from crmbridge.roles import ADMIN, has_role

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
