"""The Salesforce connection page (Admins only): the flow, the login URL, the connected app's
key and secrets (write-only), "Save and connect Salesforce" (the web server flow with PKCE),
"Test connection" and "Disconnect"."""

import re
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from simple_history.admin import SimpleHistoryAdmin

from integrations.salesforce import PRODUCTION_LOGIN_URL, SANDBOX_LOGIN_URL, AuthFlow
from integrations.salesforce import SalesforceError as _SalesforceError

from . import attention
from .admin import SingletonAdminMixin
from .models import SalesforceConnection
from .roles import ADMIN, has_role
from .salesforce_connection import (
    connection_config,
    salesforce_connect_finish,
    salesforce_connect_start,
    salesforce_connection_describe,
    salesforce_connection_test,
    salesforce_connection_update,
    salesforce_disconnect,
    set_by_environment,
)

SESSION_KEY = "salesforce_oauth"
WRITE_ONLY = {
    "consumer_secret": "Consumer secret (web server flow: optional with PKCE; client credentials)",
    "private_key": "Private key, PEM (JWT bearer)",
    "password": "Password followed by the security token (legacy flow)",
}
_MY_DOMAIN = re.compile(r"^[a-z0-9-]+(\.sandbox|\.develop|\.scratch)?\.my\.salesforce\.com$")
_VERSION = re.compile(r"^\d{2,3}\.0$")


def validate_login_url(value: str) -> str:
    value = (value or "").strip().rstrip("/")
    parts = urlsplit(value)
    if value in (PRODUCTION_LOGIN_URL, SANDBOX_LOGIN_URL):
        return value
    if parts.scheme == "https" and _MY_DOMAIN.match(parts.hostname or "") and not parts.path:
        return value
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost") and parts.port:
        return value  # an emulated org served on this machine (python -m sfemulator serve)
    raise forms.ValidationError(
        "Use https://login.salesforce.com (production), https://test.salesforce.com (sandbox) "
        "or your My Domain, https://<name>.my.salesforce.com."
    )


class WriteOnlyTextarea(forms.Textarea):
    """Never renders a value, not even the one just typed into a form that was refused."""

    def format_value(self, value):
        return None


class SalesforceConnectionForm(forms.ModelForm):
    """Secrets are write-only: the field is always empty, blank keeps the stored value."""

    class Meta:
        model = SalesforceConnection
        fields = ["flow", "login_url", "consumer_key", "username", "api_version", *WRITE_ONLY]
        widgets = {"flow": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance
        for name, label in WRITE_ONLY.items():
            kept = "A value is stored; leave blank to keep it." if getattr(stored, name) else ""
            widget = (
                WriteOnlyTextarea(attrs={"rows": 4, "autocomplete": "off"})
                if name == "private_key"
                else forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            )
            self.fields[name] = forms.CharField(
                label=label, required=False, widget=widget, help_text=kept, strip=True
            )
            self.initial[name] = ""
        for name in set_by_environment() & set(self.fields):
            self.fields[name].disabled = True
            self.fields[name].help_text = "Set by the environment, which wins over this page."

    def clean_login_url(self):
        return validate_login_url(self.cleaned_data.get("login_url"))

    def clean_api_version(self):
        value = (self.cleaned_data.get("api_version") or "").strip()
        if not _VERSION.match(value):
            raise forms.ValidationError("Write the version like 68.0.")
        return value


@admin.register(SalesforceConnection)
class SalesforceConnectionAdmin(SingletonAdminMixin, SimpleHistoryAdmin):
    form = SalesforceConnectionForm
    change_form_template = "admin/crmbridge/salesforceconnection/change_form.html"
    readonly_fields = ["status"]

    def get_fieldsets(self, request, obj=None):
        return [
            ("Status", {"fields": ["status"]}),
            ("How crmbridge signs in", {"fields": ["flow", "login_url", "api_version"]}),
            ("Connected app", {"fields": ["consumer_key", "username", *WRITE_ONLY]}),
        ]

    # -- Admins only, whatever the model permissions say ------------------------------------------
    def _admin(self, request):
        return has_role(request.user, ADMIN)

    def has_view_permission(self, request, obj=None):
        return self._admin(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._admin(request) and super().has_change_permission(request, obj)

    def has_module_permission(self, request):
        return self._admin(request) and super().has_module_permission(request)

    def revert_disabled(self, request, obj=None):
        return True  # a past version carries no secrets to go back to

    # -- read-only facts --------------------------------------------------------------------------
    @admin.display(description="status")
    def status(self, obj):
        if obj.reconnect_required:
            return f"Reconnect Salesforce: {obj.problem}"
        if obj.connected_at:
            return (
                f"Connected {obj.connected_at:%Y-%m-%d %H:%M} as {obj.connected_as or '-'} to "
                f"{obj.instance_url or '-'}"
                + (f". Last problem: {obj.problem}" if obj.problem else "")
            )
        if obj.problem:
            return obj.problem
        if connection_config().get("AUTH_FLOW") != AuthFlow.WEB_SERVER:
            # A server-to-server flow signs in by itself: nothing to connect by hand.
            return "Signs in by itself (no Connect step); see this server's connection below."
        return "Not connected yet: Save and connect Salesforce."

    @method_decorator(sensitive_post_parameters(*WRITE_ONLY))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # An error e-mail about this request shows the secrets typed into the form as stars.
        return super().changeform_view(request, object_id, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "callback_url": self._callback(request),
            "connected": bool(SalesforceConnection.load().refresh_token),
            "live": salesforce_connection_describe(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _callback(self, request):
        return request.build_absolute_uri(reverse("admin:salesforce_connection_callback"))

    # -- saving goes through the service ----------------------------------------------------------
    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data.get(name) for name in form.changed_data}
        changes.update({name: form.cleaned_data.get(name) for name in WRITE_ONLY})
        for name in set_by_environment():
            changes.pop(name, None)
        form.instance = salesforce_connection_update(changes=changes)

    def save_related(self, request, form, formsets, change):
        pass  # no relations; the service saved the row

    def response_change(self, request, obj):
        if "_connect" in request.POST:
            return self._connect(request)
        return super().response_change(request, obj)

    def _report(self, request, result):
        level = messages.SUCCESS if result["ok"] else messages.ERROR
        self.message_user(request, f"Test connection: {result['message']}", level)

    # -- the web server flow ----------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        name = "crmbridge_salesforceconnection_"
        return [
            path("disconnect/", view(self.disconnect_view), name=name + "disconnect"),
            path("test/", view(self.test_view), name=name + "test"),
            *super().get_urls(),
        ]

    def _connect(self, request):
        if connection_config().get("AUTH_FLOW") != AuthFlow.WEB_SERVER:
            self.message_user(request, "Saved. Connect Salesforce is for the web server flow.")
            return redirect(request.path)
        start = salesforce_connect_start(redirect_uri=self._callback(request))
        request.session[SESSION_KEY] = {"state": start["state"], "verifier": start["verifier"]}
        return redirect(start["url"])

    def callback_view(self, request):
        if not self._admin(request):
            raise PermissionDenied
        change_url = reverse("admin:crmbridge_salesforceconnection_changelist")
        pending = request.session.pop(SESSION_KEY, None) or {}
        state = request.GET.get("state", "")
        if not pending.get("state") or state != pending["state"]:
            self.message_user(
                request,
                "Salesforce's answer did not match the connection started here (state); "
                "nothing was changed. Connect again.",
                messages.ERROR,
            )
            return redirect(change_url)
        if request.GET.get("error"):
            why = request.GET.get("error_description") or request.GET["error"]
            self.message_user(request, f"Salesforce did not connect: {why}", messages.ERROR)
            return redirect(change_url)
        try:
            result = salesforce_connect_finish(
                code=request.GET.get("code", ""),
                verifier=pending["verifier"],
                redirect_uri=self._callback(request),
            )
        except _SalesforceError as exc:
            result = {"ok": False, "message": str(exc)}
        obj = SalesforceConnection.load()
        self.log_change(request, obj, "Connected Salesforce" if result["ok"] else "Connect failed")
        self._report(request, result)
        return redirect(change_url)

    def test_view(self, request):
        """Test connection (POST): one cheap call with the connection every process uses."""
        if not self._admin(request):
            raise PermissionDenied
        if request.method == "POST":
            self._report(request, salesforce_connection_test())
        return redirect("admin:crmbridge_salesforceconnection_changelist")

    def disconnect_view(self, request):
        if not self._admin(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:crmbridge_salesforceconnection_changelist")
        revoked = salesforce_disconnect()
        self.log_change(request, SalesforceConnection.load(), "Disconnected Salesforce")
        self.message_user(
            request,
            "Disconnected: the token was revoked at Salesforce and forgotten."
            if revoked
            else "Disconnected: the tokens are forgotten (Salesforce did not know them any more).",
        )
        return redirect("admin:crmbridge_salesforceconnection_changelist")


@attention.register
def salesforce_attention(request):
    if not has_role(request.user, ADMIN):
        return []
    row = SalesforceConnection.load()
    if not row.reconnect_required:
        return []
    return [
        attention.Attention(
            "Reconnect Salesforce",
            "Salesforce no longer accepts crmbridge's sign-in; nothing is sent or pulled, and "
            "the outbox waits until an admin connects again.",
            reverse("admin:crmbridge_salesforceconnection_changelist"),
            "error",
        )
    ]
