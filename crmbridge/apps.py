import gc

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_migrate

from integrations.salesforce import set_config_provider

from .people import display_name


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
        from .roles import forget_role_names, sync_role_permissions
        from .salesforce_connection import connection_config

        # auth's User is not ours to subclass any more (migrations): its str() is the one
        # display name, so that every list, link and choice shows the same name.
        get_user_model().__str__ = display_name

        # The client reads the connection the admin stored (the environment winning over it).
        set_config_provider(connection_config)

        connect_secret_notes()
        post_migrate.connect(sync_role_permissions, dispatch_uid="crmbridge.sync_role_permissions")
        m2m_changed.connect(
            forget_role_names,
            sender=get_user_model().groups.through,
            dispatch_uid="crmbridge.forget_role_names",
        )

        # What Django loaded lives as long as the process: keep it out of the cyclic garbage
        # collector's full passes, which a batch of ingestion (thousands of rows) otherwise
        # triggers many times over all of it.
        gc.freeze()
