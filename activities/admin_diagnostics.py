"""Admin: contact-creation decisions and the "Why no Contact?" page (same answer as the API)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join

from .admin_base import FeedRecordAdmin
from .diagnostics import contact_creation_diagnosis
from .diagnostics_words import check_in_words, failed_in_words, parse_time
from .models import ContactDecision


@admin.register(ContactDecision)
class ContactDecisionAdmin(FeedRecordAdmin):
    """What crmbridge decided for each participant; read-only. A Rep sees their own activities."""

    list_display = ["email", "outcome", "why_not", "activity", "profile_name", "decided_at"]
    list_filter = ["outcome"]
    search_fields = ["email"]
    list_select_related = ["activity", "participant"]
    show_full_result_count = False
    ordering = ["-decided_at"]
    readonly_fields = [
        "email", "outcome", "activity", "participant", "profile_name", "contact", "lead",
        "checks_in_words", "decided_at",
    ]  # fmt: skip
    change_list_template = "admin/activities/contactdecision_change_list.html"

    @admin.display(description="why not")
    def why_not(self, obj):
        said = failed_in_words(obj.checks, match_rule=obj.participant.match_rule)
        return said[:1].upper() + said[1:] if said else "—"

    @admin.display(description="checks")
    def checks_in_words(self, obj):
        questions = [
            check_in_words(check, match_rule=obj.participant.match_rule) for check in obj.checks
        ]
        return format_html(
            '<ul class="why-checks">{}</ul>',
            format_html_join(
                "",
                "<li><strong>{}</strong> {} — {} {}</li>",
                ((q.question, q.answer, q.said, q.todo) for q in questions),
            ),
        )

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
        for row in answer["activities"] if answer else []:
            row["when"] = parse_time(row["activity"]["occurred_at"])
            row["questions"] = [
                check_in_words(
                    check,
                    user=request.user,
                    activity_id=row["activity"]["id"],
                    match_rule=row["participant"]["match_rule"],
                )
                for check in row["checks"]
            ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Why did no Contact get created?",
            "opts": self.model._meta,
            "email": email,
            "answer": answer,
        }
        return TemplateResponse(request, "admin/activities/why_no_contact.html", context)
