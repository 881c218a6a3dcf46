"""The Two-factor devices page: who has an authenticator app, and the Admin's reset of a lost one.
Replaces django-otp's own admin, whose pages show a device's secret and QR code."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django_otp.plugins.otp_totp.models import TOTPDevice

from .roles import ADMIN, has_role

if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TwoFactorDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    # Never the key, nor anything derived from it.
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields
    actions = ["reset_two_factor"]

    def has_add_permission(self, request):
        return False  # a user enrols themselves (Two-factor authentication page)

    def has_change_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return has_role(request.user, ADMIN)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, ADMIN) and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return has_role(request.user, ADMIN) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # the reset says what deleting means
        return actions

    @admin.action(description="Reset two-factor authentication (the user enrols again)")
    def reset_two_factor(self, request, queryset):
        if not self.has_delete_permission(request):
            raise PermissionDenied
        self.log_deletions(request, queryset)
        users = sorted({device.user.get_username() for device in queryset.select_related("user")})
        queryset.delete()
        self.message_user(
            request,
            f"Two-factor authentication reset for {', '.join(users)}: they sign in with their "
            "password and enrol again.",
            messages.SUCCESS,
        )
