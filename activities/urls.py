"""API routes of the activities app, mounted under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("activities", api.ActivityViewSet, basename="activity")

urlpatterns = [path("", include(router.urls))]
urlpatterns.append(path("", include("activities.diagnostics_urls")))
