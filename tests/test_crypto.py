"""Secrets at rest: encrypted in the column, readable in Python, rotated to a new key."""

import pytest
from cryptography.fernet import Fernet

from crmbridge import crypto


@pytest.fixture
def two_keys(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    return old, new


def test_it_round_trips_and_never_stores_the_plain_value(two_keys):
    token = crypto.encrypt("s3cret-refresh-token")

    assert "s3cret" not in token
    assert crypto.decrypt(token) == "s3cret-refresh-token"


def test_a_value_written_with_the_old_key_still_reads_after_a_new_key_is_put_first(
    two_keys, settings
):
    old, new = two_keys
    token = crypto.encrypt("value")
    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    assert crypto.decrypt(token) == "value"
    rotated = crypto.rotate(token)
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert crypto.decrypt(rotated) == "value"
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(token)


def test_production_without_keys_refuses_to_store_a_secret(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.DEBUG = False

    with pytest.raises(Exception, match="FIELD_ENCRYPTION_KEYS"):
        crypto.encrypt("x")
