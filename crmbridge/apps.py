from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate

from integrations.salesforce import set_config_provider


class CrmbridgeAdminConfig(admin_apps.AdminConfig):
    """The stock admin, with crmbridge's control-panel site as `admin.site`."""

    default = False
    default_site = "crmbridge.admin_site.CrmbridgeAdminSite"


class CrmbridgeConfig(AppConfig):
    default = True
    name = "crmbridge"
    verbose_name = "Organisation"

    def ready(self):
        from . import checks  # noqa: F401  (registers system checks)
        from .audit import connect_secret_notes
        from .roles import sync_role_permissions
        from .salesforce_connection import connection_config

        # The client reads the connection the admin stored (the environment winning over it).
        set_config_provider(connection_config)

        connect_secret_notes()
        post_migrate.connect(sync_role_permissions, dispatch_uid="crmbridge.sync_role_permissions")
