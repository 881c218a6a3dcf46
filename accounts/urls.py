"""API routes of the accounts app, mounted under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("account-domains", api.AccountDomainViewSet, basename="account-domain")

urlpatterns = [path("", include(router.urls))]
