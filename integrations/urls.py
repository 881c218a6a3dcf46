"""API routes of the integrations apps, mounted under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("address-books/", include("integrations.addressbooks.urls")),
    path("capture/", include("integrations.capture.urls")),
    path("dialer/", include("integrations.dialer.urls")),
    path("sync/", include("integrations.sync.urls")),
]
