"""API routes of integrations.dialer, mounted under /api/v1/dialer/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("projects", api.ProjectViewSet, basename="dialer-project")
router.register("integrations", api.IntegrationViewSet, basename="dialer-integration")
router.register("runs", api.RunViewSet, basename="dialer-run")

urlpatterns = [
    path("call-results/", api.CallResultView.as_view(), name="dialer-call-results"),
    path("", include(router.urls)),
]
