"""API routes of integrations.sync, mounted under /api/v1/sync/."""

urlpatterns = []
