"""Route of the contact-creation diagnostics API (included from activities/urls.py)."""

from django.urls import path

from .diagnostics_api import ContactCreationDiagnosisView

urlpatterns = [
    path(
        "diagnostics/contact-creation/",
        ContactCreationDiagnosisView.as_view(),
        name="diagnostics-contact-creation",
    ),
]
