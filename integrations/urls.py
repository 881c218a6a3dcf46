"""API routes of the integrations app, mounted under /api/v1/."""

urlpatterns = []
