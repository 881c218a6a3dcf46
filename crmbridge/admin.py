from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from . import attention
from .models import ConfigurationProfile, GlobalSettings, ProfileMembership
from .roles import ADMIN, has_role
from .services import global_settings_update


class SingletonAdminMixin:
    """For a SingletonModel: no add, no delete, and the list opens the one row."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)
        opts = self.model._meta
        url_name = f"admin:{opts.app_label}_{opts.model_name}_change"
        return redirect(reverse(url_name, args=[self.model.load().pk]))


class HistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's admin, with its revert page saving only for roles that may change
    the row: the library checks view permission alone before saving a POSTed old version."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            obj = self.get_object(request, object_id)  # None for a deleted row: model-wide check
            if not self.has_change_history_permission(request, obj):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(GlobalSettings)
class GlobalSettingsAdmin(SingletonAdminMixin, HistoryAdmin):
    """One row: the changelist goes straight to it; no add, no delete."""

    fieldsets = [
        (
            "Contact creation",
            {
                "fields": [
                    "contact_creation_enabled",
                    "create_as",
                    "required_contact_fields",
                    "auto_attribute_updates",
                ]
            },
        ),
        ("Domains", {"fields": ["internal_domains", "extra_personal_domains"]}),
        ("Salesforce sync", {"fields": ["sync_interval_minutes", "api_budget_percent"]}),
        (
            "Mail and calendar capture",
            {"fields": ["capture_body", "capture_body_chars", "capture_exclusions"]},
        ),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        saved = global_settings_update(changes=changes, user=request.user)
        obj.pk = saved.pk

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)
        obj = GlobalSettings.load()
        return redirect(reverse("admin:crmbridge_globalsettings_change", args=[obj.pk]))


class ProfileMembershipInline(admin.TabularInline):
    model = ProfileMembership
    extra = 1
    autocomplete_fields = ["user"]
    verbose_name = "member"
    verbose_name_plural = "members (a user belongs to at most one profile)"


@admin.register(ConfigurationProfile)
class ConfigurationProfileAdmin(HistoryAdmin):
    list_display = ["name", "contact_creation_enabled", "is_default", "member_count"]
    list_filter = ["contact_creation_enabled", "is_default"]
    search_fields = ["name"]
    inlines = [ProfileMembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description="members", ordering="_members")
    def member_count(self, obj):
        return obj._members


@attention.register
def settings_attention(request):
    if not has_role(request.user, ADMIN):
        return []
    items = []
    settings_url = reverse("admin:crmbridge_globalsettings_changelist")
    if not GlobalSettings.load().contact_creation_enabled:
        items.append(
            attention.Attention(
                "Contact creation is off for the whole organisation",
                "No Contacts are created from activity until it is turned on.",
                settings_url,
                "warning",
            )
        )
    if not ConfigurationProfile.objects.filter(is_default=True).exists():
        items.append(
            attention.Attention(
                "No default Configuration Profile",
                "Users without a profile cannot have Contacts created for their activity.",
                reverse("admin:crmbridge_configurationprofile_changelist"),
                "warning",
            )
        )
    return items
