from django.contrib import admin

from .attention import items_for


class CrmbridgeAdminSite(admin.AdminSite):
    site_header = "crmbridge control panel"
    site_title = "crmbridge"
    index_title = "Control panel"
    index_template = "admin/crmbridge_index.html"

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "attention_items": items_for(request)}
        return super().index(request, extra_context)
