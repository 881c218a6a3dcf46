import pytest
from django.db import transaction

from integrations.outbox.services import outbox_enqueue


@pytest.fixture
def enqueue(db):
    """enqueue(sobject=..., payload=..., crmbridge_id=..., ...) in its own transaction."""

    def make(**kwargs):
        with transaction.atomic():
            return outbox_enqueue(**kwargs)

    return make
