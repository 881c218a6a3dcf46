from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SyncConfig(AppConfig):
    name = "integrations.sync"
    label = "sync"
    verbose_name = "Salesforce sync"

    def ready(self):
        from django.db.models.signals import post_delete

        from . import attention  # noqa: F401  (registers the admin home page items)
        from .schedule import ensure_on_migrate
        from .signals import contact_post_delete

        # Schedules are rows: made after migrate (idempotently), never at import.
        post_migrate.connect(ensure_on_migrate, sender=self, dispatch_uid="sync.schedules")
        # A Contact may be deleted from any admin page or bulk action; the deletion setting
        # decides whether Salesforce follows (services.contact_deleted_locally).
        post_delete.connect(
            contact_post_delete, sender="accounts.Contact", dispatch_uid="sync.contact_delete"
        )
