"""API routes of the activities app, mounted under /api/v1/."""

urlpatterns = []
