"""Signals the outbox sends; higher layers connect to them in their AppConfig.ready()."""

from django.dispatch import Signal

# New rows are waiting (sent inside the writer's transaction): the sync pushes soon after commit.
outbox_enqueued = Signal()
