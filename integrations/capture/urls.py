"""API routes of integrations.capture, mounted under /api/v1/capture/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("sources", api.SourceViewSet, basename="capture-source")
router.register("runs", api.RunViewSet, basename="capture-run")

urlpatterns = [path("", include(router.urls))]
