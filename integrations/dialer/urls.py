"""API routes of integrations.dialer, mounted under /api/v1/dialer/."""

urlpatterns = []
