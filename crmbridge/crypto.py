"""Secrets at rest: Fernet with key rotation (MultiFernet), keys from the environment.

`FIELD_ENCRYPTION_KEYS` holds one or more Fernet keys separated by commas, the newest first:
values are encrypted with the first and decrypted with any, so a new key is rolled in by
putting it first and running `manage.py secrets_rotate`. With DEBUG on and no keys set, a
development key is derived from SECRET_KEY so that the demo runs without setup.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class SecretUnreadable(Exception):  # noqa: N818 - a state, not a bug: the key that wrote it is gone
    """A stored secret that none of the configured keys can decrypt."""


def _keys() -> list[bytes]:
    keys = [k.strip().encode() for k in settings.FIELD_ENCRYPTION_KEYS if k.strip()]
    if keys:
        return keys
    if settings.DEBUG:
        digest = hashlib.sha256(("crmbridge-fields:" + settings.SECRET_KEY).encode()).digest()
        return [base64.urlsafe_b64encode(digest)]
    raise ImproperlyConfigured("Set FIELD_ENCRYPTION_KEYS to store secrets (see README).")


def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in _keys()])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (Fernet.generate_key())."
        ) from exc


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("No configured key decrypts this secret.") from exc


def rotate(token: str) -> str:
    """The same secret re-encrypted with the newest key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("No configured key decrypts this secret.") from exc


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python code sees the plain value.

    Empty values are stored as "" (not encrypted) so that "no secret" stays visible as such.
    Never put one in `list_display`, `search_fields` or an export: the plain value is a secret.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return decrypt(value)
        except SecretUnreadable:
            return None

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value or ""
        return encrypt(value)


def encrypted_fields():
    """(model, field name) of every EncryptedTextField of every installed model."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field.attname
