"""API routes of integrations.sync, mounted under /api/v1/sync/."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("runs", api.SyncRunViewSet, basename="sync-run")

urlpatterns = router.urls
