"""Admin of capture: sources with Test connection and Capture now, last run, counts, errors.

A Rep sees, connects and runs only their own sources; an Admin any rep's. The secret is typed
into a password box and never shown again."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from crmbridge.roles import ADMIN, has_role

from . import services
from .models import CaptureRun, CaptureSource
from .selectors import runs_visible_to, sources_with_last_run


class SourceForm(forms.ModelForm):
    url = forms.URLField(
        required=False, assume_scheme="https", max_length=1000, label="URL (CalDAV, ICS feed)"
    )
    oauth_token_url = forms.URLField(
        required=False,
        assume_scheme="https",
        max_length=500,
        label="OAuth2 token endpoint",
        help_text=CaptureSource._meta.get_field("oauth_token_url").help_text,
    )
    secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Password, or the OAuth2 refresh token for XOAUTH2. Leave empty to keep the"
        " stored one; it is never shown again.",
    )
    oauth_client_secret = forms.CharField(
        required=False,
        strip=False,
        label="OAuth2 client secret",
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored one; it is never shown again.",
    )

    class Meta:
        model = CaptureSource
        fields = [
            "kind",
            "owner",
            "name",
            "host",
            "port",
            "security",
            "username",
            "auth",
            "secret",
            "oauth_client_id",
            "oauth_client_secret",
            "oauth_token_url",
            "folders",
            "url",
            "path",
            "enabled",
            "backfill_days",
        ]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        for name in services.NEEDS.get(kind, ()):
            if not data.get(name):
                self.add_error(name, "This kind of source needs it.")
        return data


def _counts(run):
    if run is None:
        return "never run"
    skipped = sum((run.skipped or {}).values())
    return (
        f"{run.get_state_display()}: {run.seen} seen, {run.captured} captured, {run.updated} "
        f"updated, {run.already_present} already present, {skipped} skipped, "
        f"{len(run.errors or [])} errors"
    )


@admin.register(CaptureSource)
class CaptureSourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = ["__str__", "kind", "owner", "enabled", "last_run", "last_error"]
    list_filter = ["kind", "enabled"]
    list_select_related = ["owner"]
    show_full_result_count = False
    readonly_fields = ["last_error", "last_run", "actions_column"]
    actions = ["test_connection", "capture_now"]

    def get_queryset(self, request):
        return sources_with_last_run(user=request.user)

    def get_fields(self, request, obj=None):
        fields = list(SourceForm.Meta.fields)
        if not has_role(request.user, ADMIN):
            fields.remove("owner")
        return fields + (self.readonly_fields if obj else [])

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not has_role(request.user, ADMIN) and "kind" in form.base_fields:
            form.base_fields["kind"].choices = [
                c for c in form.base_fields["kind"].choices if c[0] != CaptureSource.Kind.FOLDER
            ]
        return form

    @admin.display(description="last run")
    def last_run(self, obj):
        run = CaptureRun.objects.filter(pk=getattr(obj, "last_run_id", None)).first()
        if run is None:
            return "never run"
        url = reverse("admin:capture_capturerun_change", args=[run.pk])
        return format_html('<a href="{}">{}</a>', url, _counts(run))

    @admin.display(description="")
    def actions_column(self, obj):
        return format_html(
            '<a class="button" href="{}">Test connection</a> '
            '<a class="button" href="{}">Capture now</a>',
            reverse("admin:capture_capturesource_test", args=[obj.pk]),
            reverse("admin:capture_capturesource_run", args=[obj.pk]),
        )

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name != "owner"}
        # Secrets are typed, never shown: an empty field keeps the stored value.
        secrets = {n: form.cleaned_data.get(n) or None for n in ("secret", "oauth_client_secret")}
        owner = form.cleaned_data.get("owner") if has_role(request.user, ADMIN) else request.user
        for name in secrets:
            data.pop(name, None)
        try:
            if change:
                fresh = CaptureSource.objects.get(pk=obj.pk)
                saved = services.capture_source_update(
                    source=fresh, actor=request.user, owner=owner, **secrets, **data
                )
            else:
                data = {n: form.cleaned_data[n] for n in form.cleaned_data if n != "owner"}
                for name in secrets:
                    data.pop(name, None)
                saved = services.capture_source_create(
                    actor=request.user, owner=owner, **secrets, **data
                )
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from None
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.capture_source_delete(source=obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/test/", view(self.test_view), name="capture_capturesource_test"),
            path("<int:pk>/run/", view(self.run_view), name="capture_capturesource_run"),
            *super().get_urls(),
        ]

    def _own(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _tell_test(self, request, source):
        ok, message = services.capture_source_test(source=source)
        self.message_user(
            request, f"{source}: {message}", messages.SUCCESS if ok else messages.ERROR
        )

    def test_view(self, request, pk):
        self._tell_test(request, self._own(request, pk))
        return redirect("admin:capture_capturesource_change", pk)

    def run_view(self, request, pk):
        source = self._own(request, pk)
        with transaction.atomic():
            run = services.capture_run_request(source=source)
        self.message_user(request, f"Capture of {source} queued (run {run.pk}).")
        return redirect("admin:capture_capturerun_change", run.pk)

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for source in queryset:
            self._tell_test(request, source)

    @admin.action(description="Capture now")
    def capture_now(self, request, queryset):
        with transaction.atomic():
            runs = [services.capture_run_request(source=s) for s in queryset]
        self.message_user(request, f"{len(runs)} capture runs queued.")


@admin.register(CaptureRun)
class CaptureRunAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "state", "created_at", "seen", "captured", "updated"]
    list_display += ["already_present", "skipped_counts", "error_count"]
    list_filter = ["state"]
    list_select_related = ["source__owner"]
    show_full_result_count = False
    fields = ["source", "state", "created_at", "started_at", "finished_at", "seen", "captured"]
    fields += ["updated", "already_present", "skipped_counts", "errors_list", "more_to_do"]
    readonly_fields = fields

    def get_queryset(self, request):
        return runs_visible_to(user=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="skipped")
    def skipped_counts(self, obj):
        return ", ".join(f"{reason}: {n}" for reason, n in sorted((obj.skipped or {}).items()))

    @admin.display(description="errors")
    def error_count(self, obj):
        return len(obj.errors or [])

    @admin.display(description="errors")
    def errors_list(self, obj):
        items = format_html_join("", "<li>{}</li>", ((error,) for error in obj.errors or []))
        return format_html("<ul>{}</ul>", items)
