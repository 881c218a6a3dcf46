from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AddressBooksConfig(AppConfig):
    name = "integrations.addressbooks"
    label = "addressbooks"
    verbose_name = "Address books (CardDAV)"

    def ready(self):
        from crmbridge.signals import global_settings_changed

        from .schedule import address_books_schedule_follow_settings, ensure_on_migrate

        # The schedule is a row: made after migrate (idempotently), never at import.
        post_migrate.connect(ensure_on_migrate, sender=self, dispatch_uid="addressbooks.schedule")
        # A new sync interval takes effect at once.
        global_settings_changed.connect(
            address_books_schedule_follow_settings,
            dispatch_uid="addressbooks.follow_interval",
        )
