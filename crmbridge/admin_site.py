from django.apps import apps
from django.contrib import admin
from django.urls import path

from .attention import items_for


class CrmbridgeAdminSite(admin.AdminSite):
    site_header = "crmbridge control panel"
    site_title = "crmbridge"
    index_title = "Control panel"
    index_template = "admin/crmbridge_index.html"

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "attention_items": items_for(request)}
        return super().index(request, extra_context)

    def get_urls(self):
        # The OAuth callback registered in the Salesforce connected app: a short, stable URL.
        def callback(request):
            model = apps.get_model("crmbridge", "SalesforceConnection")
            return self._registry[model].callback_view(request)

        return [
            path(
                "salesforce/connection/callback/",
                self.admin_view(callback),
                name="salesforce_connection_callback",
            ),
            *super().get_urls(),
        ]
