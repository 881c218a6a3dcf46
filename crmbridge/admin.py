from django import forms
from django.contrib import admin
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
from .services import normalise_domain_list


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


class DomainListField(forms.Field):
    """A list of domains typed one per line (commas work too), each checked on its own."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 40, "spellcheck": "false"})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        if isinstance(value, list | tuple):
            return list(value)
        lines = (value or "").replace(",", "\n").splitlines()
        return [line.strip() for line in lines]

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
        ]

    def clean_required_contact_fields(self):
        chosen = set(self.cleaned_data["required_contact_fields"])
        return [key for key, _ in REQUIRED_FIELD_CHOICES if key in chosen]


@admin.register(GlobalSettings)
class GlobalSettingsAdmin(SingletonAdminMixin, SimpleHistoryAdmin):
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
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "sync_interval_minutes" in form.changed_data:
            from integrations.sync.schedule import sync_schedules_follow_settings

            sync_schedules_follow_settings()  # the sync schedule follows the new interval

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
class ConfigurationProfileAdmin(SimpleHistoryAdmin):
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
