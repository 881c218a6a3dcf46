from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from . import attention
from .models import (
    REQUIRED_FIELD_CHOICES,
    ConfigurationProfile,
    GlobalSettings,
    ProfileMembership,
    is_domain_name,
)
from .roles import ADMIN, has_role
from .services import global_settings_update, normalise_domain_list


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


class LineListField(forms.Field):
    """A list typed one item per line (commas work too); blank lines are dropped."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 40, "spellcheck": "false"})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        if isinstance(value, list | tuple):
            return list(value)
        lines = (value or "").replace(",", "\n").splitlines()
        return [line.strip() for line in lines]

    def clean(self, value):
        items = self.to_python(value)
        self.validate(items)
        return [item for item in items if item]


class DomainListField(LineListField):
    """Domains one per line, each checked on its own and named with its line when wrong."""

    def validate(self, value):
        errors = [
            forms.ValidationError(
                "Line %(line)s: “%(item)s” is not a domain (write it like example.com).",
                params={"line": number, "item": item},
            )
            for number, item in enumerate(value, start=1)
            if item and not is_domain_name(normalise_domain_list([item])[0])
        ]
        if errors:
            raise forms.ValidationError(errors)

    def clean(self, value):
        items = self.to_python(value)
        self.validate(items)
        return normalise_domain_list(items)


class GlobalSettingsForm(forms.ModelForm):
    required_contact_fields = forms.MultipleChoiceField(
        choices=REQUIRED_FIELD_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Also required for a new Contact",
        help_text="First name, last name and e-mail are always required.",
    )
    internal_domains = DomainListField(
        required=False,
        help_text="The company's own e-mail domains, one per line; their people are set aside.",
    )
    extra_personal_domains = DomainListField(
        required=False,
        help_text="One per line, besides the built-in list (gmail.com, outlook.com, ...); "
        "never matched to an Account.",
    )

    capture_exclusions = LineListField(
        required=False,
        help_text="One per line: addresses (jane@example.com) and domains (example.com) "
        "capture skips.",
    )

    class Meta:
        model = GlobalSettings
        fields = [
            "contact_creation_enabled",
            "create_as",
            "required_contact_fields",
            "auto_attribute_updates",
            "internal_domains",
            "extra_personal_domains",
            "sync_interval_minutes",
            "api_budget_percent",
            "capture_body",
            "capture_body_chars",
            "capture_exclusions",
            "two_factor_required_for_admins",
        ]

    def clean_required_contact_fields(self):
        chosen = set(self.cleaned_data["required_contact_fields"])
        return [key for key, _ in REQUIRED_FIELD_CHOICES if key in chosen]


@admin.register(GlobalSettings)
class GlobalSettingsAdmin(SingletonAdminMixin, HistoryAdmin):
    """One row: the changelist goes straight to it; no add, no delete."""

    form = GlobalSettingsForm
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
        ("Sign-in", {"fields": ["two_factor_required_for_admins"]}),
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


# Register the Salesforce connection page and the Two-factor devices page.
from . import salesforce_admin, two_factor_admin  # noqa: E402, F401
