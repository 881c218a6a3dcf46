from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SyncConfig(AppConfig):
    name = "integrations.sync"
    label = "sync"
    verbose_name = "Salesforce sync"

    def ready(self):
        from django_q.tasks import async_task

        from accounts.signals import mirror_records_stale
        from crmbridge.signals import global_settings_changed
        from integrations.outbox.signals import outbox_enqueued

        from . import attention, selectors  # noqa: F401  (register home page items and charts)
        from .schedule import (
            ensure_on_migrate,
            push_soon_on_commit,
            sync_schedules_follow_settings_change,
        )

        # Schedules are rows: made after migrate (idempotently), never at import.
        post_migrate.connect(ensure_on_migrate, sender=self, dispatch_uid="sync.schedules")
        # New outbox rows: a push runs soon after the commit (debounced).
        outbox_enqueued.connect(
            lambda sender, **kw: push_soon_on_commit(), weak=False, dispatch_uid="sync.push_soon"
        )
        # Records written in Salesforce outside the outbox come back into the mirror at once.
        mirror_records_stale.connect(
            lambda sender, records, **kw: async_task(
                "integrations.sync.tasks.mirror_records_refresh", records
            ),
            weak=False,
            dispatch_uid="sync.mirror_refresh",
        )
        # A new sync interval takes effect at once.
        global_settings_changed.connect(
            sync_schedules_follow_settings_change, weak=False, dispatch_uid="sync.follow_interval"
        )
