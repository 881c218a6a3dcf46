"""Admin of the sync: runs (with "Sync now" and the dashboard), conflicts, deletion settings."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from crmbridge.admin import HistoryAdmin, SingletonAdminMixin
from crmbridge.roles import ADMIN, has_role

from . import selectors, services
from .models import Conflict, SyncRun, SyncRunError, SyncSettings, Watermark


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SyncRunErrorInline(ReadOnlyMixin, admin.TabularInline):
    model = SyncRunError
    fields = ["direction", "sobject", "record", "error_code", "message", "outbox_item"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "errors per record (Salesforce's message)"


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "trigger",
        "state",
        "started_at",
        "finished_at",
        "pulled",
        "pushed",
        "failed",
        "api_calls",
        "progress",
    ]
    list_filter = ["state", "kind", "trigger"]
    list_select_related = ["started_by"]
    show_full_result_count = False
    search_fields = ["message", "progress"]
    date_hierarchy = "started_at"
    readonly_fields = [
        "kind",
        "trigger",
        "state",
        "started_by",
        "started_at",
        "finished_at",
        "api_calls",
        "progress",
        "message",
        "counts_table",
    ]
    fields = readonly_fields
    inlines = [SyncRunErrorInline]
    change_list_template = "admin/sync/syncrun/change_list.html"

    @admin.display(description="pulled")
    def pulled(self, obj):
        return obj.total("pulled")

    @admin.display(description="pushed")
    def pushed(self, obj):
        return obj.total("pushed")

    @admin.display(description="failed")
    def failed(self, obj):
        return obj.total("failed")

    @admin.display(description="per object")
    def counts_table(self, obj):
        keys = ["pulled", "deleted", "pushed", "failed", "retrying", "conflicts", "reclassified"]
        rows = format_html_join(
            "",
            "<tr><th>{}</th>" + "<td>{}</td>" * len(keys) + "</tr>",
            (
                (sobject, *[per.get(k, 0) for k in keys])
                for sobject, per in sorted((obj.counts or {}).items())
            ),
        )
        head = format_html_join("", "<th>{}</th>", ((k,) for k in keys))
        # Scrolls inside its own box on a phone instead of being cut off at the edge.
        return format_html(
            '<div style="overflow-x:auto;max-width:100%">'
            "<table><tr><th></th>{}</tr>{}</table></div>",
            head,
            rows,
        )

    def get_urls(self):
        return [
            path(
                "dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="sync_syncrun_dashboard",
            ),
            path(
                "sync-now/",
                self.admin_site.admin_view(self.sync_now_view),
                name="sync_syncrun_sync_now",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_sync_now": has_role(request.user, ADMIN),
            # Offered only to those the dashboard opens for.
            "dashboard_url": reverse("admin:sync_syncrun_dashboard")
            if has_role(request.user, ADMIN)
            else None,
        }
        return super().changelist_view(request, extra_context)

    def sync_now_view(self, request):
        if not has_role(request.user, ADMIN):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:sync_syncrun_dashboard")
        kind = SyncRun.Kind.FULL if request.POST.get("full") else SyncRun.Kind.SYNC
        run = services.sync_run_request(kind=kind, trigger=SyncRun.Trigger.ADMIN, user=request.user)
        self.log_addition(request, run, "Sync now")
        self.message_user(request, f"Sync #{run.pk} queued.", messages.SUCCESS)
        return redirect("admin:sync_syncrun_dashboard")

    def dashboard_view(self, request):
        if not has_role(request.user, ADMIN):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Salesforce sync",
            "opts": self.model._meta,
            "data": selectors.dashboard(),
            "can_sync_now": True,
        }
        return TemplateResponse(request, "admin/sync/dashboard.html", context)


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "sobject",
        "sf_id",
        "field",
        "local_value",
        "salesforce_value",
        "winner",
    ]
    list_filter = ["winner", "sobject", "field"]
    search_fields = ["sf_id"]
    list_select_related = ["run"]
    show_full_result_count = False


@admin.register(Watermark)
class WatermarkAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["sobject", "modstamp", "updated_at"]
    show_full_result_count = False


@admin.register(SyncSettings)
class SyncSettingsAdmin(SingletonAdminMixin, HistoryAdmin):
    """One row: the changelist goes straight to it; only Admins change it."""

    fields = ["on_salesforce_delete", "on_local_contact_delete"]

    def has_change_permission(self, request, obj=None):
        return has_role(request.user, ADMIN)

    def save_model(self, request, obj, form, change):
        services.sync_settings_update(changes={name: getattr(obj, name) for name in self.fields})
