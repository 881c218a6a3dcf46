"""API routes of the classification app, mounted under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("classification/rules", api.RuleViewSet, basename="classification-rule")

urlpatterns = [
    path("classification/preview/", api.PreviewView.as_view(), name="classification-preview"),
    path("classification/impact/", api.ImpactView.as_view(), name="classification-impact"),
    path("", include(router.urls)),
]
