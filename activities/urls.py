"""API routes of the activities app, mounted under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api, engagement_api

router = SimpleRouter()
router.register("activities", api.ActivityViewSet, basename="activity")

urlpatterns = [
    path(
        "classification/executive-engaged/",
        engagement_api.ExecutiveEngagedView.as_view(),
        name="classification-executive-engaged",
    ),
    path("", include(router.urls)),
]
urlpatterns.append(path("", include("activities.diagnostics_urls")))
