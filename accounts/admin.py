"""Admin of the Salesforce mirror: Accounts with their domains, the domain list (CSV import and
export), read-mostly Contacts, Leads, Opportunities and Salesforce users, and the orphans list."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin

from crmbridge.admin import HistoryAdmin
from crmbridge.roles import ADMIN, has_role

from . import domain_services
from .models import (
    Account,
    AccountDomain,
    Contact,
    Lead,
    Opportunity,
    OrphanContact,
    SalesforceUser,
)
from .orphans import orphans_link_to_suggested
from .resources import AccountDomainResource
from .selectors import account_suggestions_for_contacts


class MirrorAdmin(admin.ModelAdmin):
    """Rows come from Salesforce: shown, searched, never added or deleted here."""

    show_full_result_count = False
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + list(self.readonly_fields)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccountDomainInlineForm(forms.ModelForm):
    class Meta:
        model = AccountDomain
        fields = ["domain"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["domain"].disabled = True

    def clean_domain(self):
        domain = self.cleaned_data["domain"]
        if self.instance.pk:
            return self.instance.domain
        try:
            return domain_services.domain_validate_for_account(
                account=self.instance.account, domain=domain
            )
        except ValidationError as exc:
            # The service names the field; a clean_<field> method must raise without it.
            raise ValidationError(exc.message_dict["domain"]) from exc


class AccountDomainFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            row = form.instance
            deleting = self.can_delete and self._should_delete_form(form) and row.pk
            if deleting and row.source != AccountDomain.Source.ADMIN:
                raise ValidationError(
                    f"{row.domain} comes from the Account's {row.get_source_display()}; "
                    "change it in Salesforce."
                )


class AccountDomainInline(admin.TabularInline):
    model = AccountDomain
    form = AccountDomainInlineForm
    formset = AccountDomainFormSet
    fields = ["domain", "source", "created_by", "created_at"]
    readonly_fields = ["source", "created_by", "created_at"]
    extra = 1
    verbose_name_plural = "domains (Website, alternate domains, and any added here)"


def account_details(account) -> str:
    """What tells an Account from others of the same name: its domains, its owner and its
    city (the Account's `domains` prefetched, its owner joined)."""
    domains = ", ".join(d.domain for d in account.domains.all()) or "no domain"
    owner = f"owner {account.owner}" if account.owner_id else "no owner"
    return " · ".join(part for part in (domains, owner, account.city) if part)


@admin.register(Account)
class AccountAdmin(MirrorAdmin):
    list_display = ["name", "sf_id", "website", "city", "owner", "domain_list", "feed_link"]
    list_select_related = ["owner"]
    search_fields = ["name", "=sf_id", "=domains__domain"]
    inlines = [AccountDomainInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner").prefetch_related("domains")

    def autocomplete_label(self, obj):
        """Autocomplete results (Edit match) say which "Pied Logistics" each one is."""
        return f"{obj.name} — {account_details(obj)}"

    @admin.display(description="domains")
    def domain_list(self, obj):
        return ", ".join(d.domain for d in obj.domains.all())

    @admin.display(description="activity")
    def feed_link(self, obj):
        url = reverse("admin:activities_activity_changelist") + f"?account={obj.pk}"
        return format_html('<a href="{}">feed</a>', url)

    def save_formset(self, request, form, formset, change):
        if formset.model is not AccountDomain:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for row in formset.deleted_objects:
            domain_services.account_domain_remove(account_domain=row, user=request.user)
        for row in formset.new_objects:
            domain_services.account_domain_add(
                account=form.instance, domain=row.domain, user=request.user
            )
            self.message_user(
                request,
                f"Added {row.domain}; recent unmatched activity on it is being re-matched.",
                messages.SUCCESS,
            )


class AccountDomainAdminForm(forms.ModelForm):
    class Meta:
        model = AccountDomain
        fields = ["account", "domain"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("account") and data.get("domain"):
            try:
                data["domain"] = domain_services.domain_validate_for_account(
                    account=data["account"], domain=data["domain"]
                )
            except ValidationError as exc:
                self.add_error("domain", exc.message_dict["domain"])
        return data


@admin.register(AccountDomain)
class AccountDomainAdmin(ImportExportModelAdmin, HistoryAdmin):
    resource_classes = [AccountDomainResource]
    form = AccountDomainAdminForm
    list_display = ["domain", "account", "source", "created_by", "created_at"]
    list_filter = ["source"]
    list_select_related = ["account", "created_by"]
    search_fields = ["domain", "account__name", "=account__sf_id"]
    autocomplete_fields = ["account"]
    show_full_result_count = False
    ordering = ["domain", "pk"]

    def get_readonly_fields(self, request, obj=None):
        return ["account", "domain", "source", "created_by", "created_at"] if obj else []

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}

    def has_import_permission(self, request):
        return has_role(request.user, ADMIN)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.source == AccountDomain.Source.ADMIN)

    def save_model(self, request, obj, form, change):
        if not change:
            saved = domain_services.account_domain_add(
                account=obj.account, domain=obj.domain, user=request.user
            )
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        domain_services.account_domain_remove(account_domain=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("account"):
            if obj.source == AccountDomain.Source.ADMIN:
                domain_services.account_domain_remove(account_domain=obj, user=request.user)


@admin.register(SalesforceUser)
class SalesforceUserAdmin(MirrorAdmin):
    list_display = ["name", "email", "sf_id", "is_active", "user"]
    list_select_related = ["user"]
    search_fields = ["name", "email", "=sf_id"]
    list_filter = ["is_active"]


@admin.register(Contact)
class ContactAdmin(MirrorAdmin):
    list_display = ["__str__", "email", "title", "account", "owner", "created_by_crmbridge"]
    list_select_related = ["account", "owner"]
    search_fields = ["email", "last_name", "first_name", "=sf_id"]
    list_filter = ["created_by_crmbridge"]


@admin.register(Lead)
class LeadAdmin(MirrorAdmin):
    list_display = ["__str__", "email", "company", "status", "owner", "is_converted"]
    list_select_related = ["owner"]
    search_fields = ["email", "last_name", "company", "=sf_id"]
    list_filter = ["is_converted"]


@admin.register(Opportunity)
class OpportunityAdmin(MirrorAdmin):
    list_display = ["name", "account", "stage_name", "close_date", "is_closed", "owner"]
    list_select_related = ["account", "owner"]
    search_fields = ["name", "=sf_id", "account__name"]
    list_filter = ["is_closed"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")

    def autocomplete_label(self, obj):
        state = "closed" if obj.is_closed else "open"
        stage = f", {obj.stage_name}" if obj.stage_name else ""
        closes = f", closes {obj.close_date:%Y-%m-%d}" if obj.close_date else ""
        return f"{obj.name} ({state}{stage}{closes})"


class OrphanChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        rows = list(self.result_list)
        suggestions = account_suggestions_for_contacts(contacts=rows)
        for row in rows:
            row.suggestion = suggestions.get(row.pk)


@admin.register(OrphanContact)
class OrphanContactAdmin(MirrorAdmin):
    """Contacts without an Account, each with the Account crmbridge suggests."""

    list_display = ["__str__", "email", "title", "suggested_account", "suggested_because"]
    search_fields = ["email", "last_name", "first_name"]
    actions = ["link_to_suggested"]
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).filter(account__isnull=True, is_deleted=False)

    def get_changelist(self, request, **kwargs):
        return OrphanChangeList

    def has_change_permission(self, request, obj=None):
        return has_role(request.user, ADMIN)

    @admin.display(description="suggested Account")
    def suggested_account(self, obj):
        suggestion = getattr(obj, "suggestion", None)
        if suggestion is None:
            return "—"
        account = suggestion[0]
        url = reverse("admin:accounts_account_change", args=[account.pk])
        return format_html('<a href="{}">{}</a>', url, account.name)

    @admin.display(description="because of")
    def suggested_because(self, obj):
        suggestion = getattr(obj, "suggestion", None)
        return suggestion[1] if suggestion else "no Account has its domain or company name"

    @admin.action(description="Link to the suggested Account", permissions=["change"])
    def link_to_suggested(self, request, queryset):
        linked, skipped = orphans_link_to_suggested(contacts=queryset, user=request.user)
        self.message_user(
            request,
            f"Linked {linked} contact(s); {skipped} had no suggestion and were left alone.",
            messages.SUCCESS if linked else messages.WARNING,
        )
