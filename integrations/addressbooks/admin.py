"""Admin of the address books: "Test connection", "Sync now", the last runs. A rep sees and
edits only their own address books; the secret is write-only."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from crmbridge.roles import ADMIN, has_role

from . import selectors, services
from .models import AddressBook, AddressBookRun


class AddressBookForm(forms.ModelForm):
    url = forms.URLField(
        label="Server URL",
        max_length=500,
        assume_scheme="https",
        help_text=AddressBook._meta.get_field("url").help_text,
    )
    secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The password or app password. Leave empty to keep the stored one.",
    )

    class Meta:
        model = AddressBook
        fields = ["owner", "url", "username", "secret", "name", "view", "accounts", "enabled"]


def _counts(counts):
    shown = [(k, v) for k, v in (counts or {}).items() if v]
    return format_html_join(", ", "{} {}", ((v, k) for k, v in shown)) if shown else "—"


@admin.register(AddressBook)
class AddressBookAdmin(admin.ModelAdmin):
    form = AddressBookForm
    list_display = ["__str__", "owner", "view", "enabled", "last_synced_at", "last_error"]
    list_filter = ["enabled", "view"]
    list_select_related = ["owner"]
    show_full_result_count = False
    autocomplete_fields = []
    filter_horizontal = ["accounts"]
    readonly_fields = ["collection_url", "last_synced_at", "last_error", "buttons", "last_runs"]
    actions = ["sync_now"]

    def get_queryset(self, request):
        return selectors.address_books_for(user=request.user)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not has_role(request.user, ADMIN) and "owner" in form.base_fields:
            owner = form.base_fields["owner"]
            owner.queryset = owner.queryset.filter(pk=request.user.pk)
            owner.initial = request.user.pk
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # Another request saved one for this rep between the form's check and this save
            # (services._save): nothing was saved; say why on the same page.
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return redirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        data = dict(form.cleaned_data)
        accounts = data.pop("accounts", [])
        if change:
            data["accounts"] = accounts
            services.address_book_update(address_book=obj, changes=data)
        else:
            created = services.address_book_create(accounts=accounts, **data)
            obj.pk, obj._state.adding = created.pk, False

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.display(description="")
    def buttons(self, obj):
        if obj is None or obj.pk is None:
            return "Save first."
        # Buttons of the change form itself (so its CSRF token goes along), sent elsewhere.
        return format_html(
            '<button type="submit" class="button" formmethod="post" formaction="{}">'
            "Test connection</button> "
            '<button type="submit" class="button" formmethod="post" formaction="{}">'
            "Sync now</button>",
            reverse("admin:addressbooks_addressbook_test", args=[obj.pk]),
            reverse("admin:addressbooks_addressbook_sync", args=[obj.pk]),
        )

    @admin.display(description="last runs")
    def last_runs(self, obj):
        runs = obj.runs.order_by("-started_at", "-id")[:10] if obj and obj.pk else []
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    r.started_at.strftime("%Y-%m-%d %H:%M"),
                    r.get_state_display(),
                    _counts(r.counts.get("to_address_book")),
                    _counts(r.counts.get("to_salesforce")),
                    r.requests,
                    r.message,
                )
                for r in runs
            ),
        )
        if not rows:
            return "No runs yet."
        return format_html(
            "<table><tr><th>started</th><th>state</th><th>to the address book</th>"
            "<th>to Salesforce</th><th>requests</th><th>message</th></tr>{}</table>",
            rows,
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/test/", wrap(self.test_view), name="addressbooks_addressbook_test"),
            path("<int:pk>/sync/", wrap(self.sync_view), name="addressbooks_addressbook_sync"),
            *super().get_urls(),
        ]

    def _own(self, request, pk):
        book = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, book):
            raise PermissionDenied
        return book

    def test_view(self, request, pk):
        book = self._own(request, pk)
        if request.method != "POST":
            return redirect("admin:addressbooks_addressbook_change", pk)
        ok, message = services.address_book_test_connection(address_book=book)
        self.message_user(request, message, messages.SUCCESS if ok else messages.ERROR)
        return redirect("admin:addressbooks_addressbook_change", pk)

    def sync_view(self, request, pk):
        book = self._own(request, pk)
        if request.method != "POST":
            return redirect("admin:addressbooks_addressbook_change", pk)
        run = services.address_book_run_request(address_book=book, user=request.user)
        self.message_user(request, f"Sync #{run.pk} queued.", messages.SUCCESS)
        return redirect("admin:addressbooks_addressbook_change", pk)

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request, queryset):
        for book in queryset:
            services.address_book_run_request(address_book=book, user=request.user)
        self.message_user(request, f"{queryset.count()} syncs queued.", messages.SUCCESS)


@admin.register(AddressBookRun)
class AddressBookRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "address_book",
        "trigger",
        "state",
        "started_at",
        "finished_at",
        "requests",
    ]
    list_filter = ["state", "trigger"]
    list_select_related = ["address_book", "address_book__owner"]
    show_full_result_count = False
    readonly_fields = [f.name for f in AddressBookRun._meta.fields]

    def get_queryset(self, request):
        return selectors.address_book_runs_for(user=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
