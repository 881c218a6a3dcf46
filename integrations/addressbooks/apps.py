from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AddressBooksConfig(AppConfig):
    name = "integrations.addressbooks"
    label = "addressbooks"
    verbose_name = "Address books (CardDAV)"

    def ready(self):
        from .schedule import ensure_on_migrate

        # The schedule is a row: made after migrate (idempotently), never at import.
        post_migrate.connect(ensure_on_migrate, sender=self, dispatch_uid="addressbooks.schedule")
