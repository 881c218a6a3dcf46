from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from . import api
from .health import healthz


def favicon(request):
    # Resolved per request: the hashed static name exists only after collectstatic.
    return redirect(static("crmbridge/favicon.svg"), permanent=True)


router = DefaultRouter()
router.register("profiles", api.ConfigurationProfileViewSet, basename="profile")

api_v1 = [
    path("settings/", api.GlobalSettingsView.as_view(), name="global-settings"),
    path("", include(router.urls)),
    # Each app keeps its own API routes in <app>/urls.py.
    path("", include("accounts.urls")),
    path("", include("activities.urls")),
    path("", include("classification.urls")),
    path("", include("integrations.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
