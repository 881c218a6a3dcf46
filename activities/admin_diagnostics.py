"""Admin: contact-creation decisions and the "Why no Contact?" page (same answer as the API)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .admin_base import FeedRecordAdmin
from .diagnostics import contact_creation_diagnosis
from .models import ContactDecision


@admin.register(ContactDecision)
class ContactDecisionAdmin(FeedRecordAdmin):
    """What crmbridge decided for each participant; read-only. A Rep sees their own activities."""

    list_display = ["email", "outcome", "failed_checks", "activity", "profile_name", "decided_at"]
    list_filter = ["outcome"]
    search_fields = ["email"]
    list_select_related = ["activity"]
    show_full_result_count = False
    ordering = ["-decided_at"]
    readonly_fields = [
        "email", "outcome", "activity", "participant", "profile_name", "contact", "lead",
        "checks", "decided_at",
    ]  # fmt: skip
    change_list_template = "admin/activities/contactdecision_change_list.html"

    @admin.display(description="failed checks")
    def failed_checks(self, obj):
        return ", ".join(obj.failed_codes) or "—"

    def get_urls(self):
        view = self.admin_site.admin_view(self.why_no_contact_view)
        return [
            path("why-no-contact/", view, name="activities_why_no_contact"),
            *super().get_urls(),
        ]

    def why_no_contact_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        email = (request.GET.get("email") or "").strip()
        answer = contact_creation_diagnosis(email=email, user=request.user) if email else None
        context = {
            **self.admin_site.each_context(request),
            "title": "Why did no Contact get created?",
            "opts": self.model._meta,
            "email": email,
            "answer": answer,
            "api_url": reverse("api:diagnostics-contact-creation"),
        }
        return TemplateResponse(request, "admin/activities/why_no_contact.html", context)
