"""System checks for the organisation's configuration."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def salesforce_settings_check(app_configs, **kwargs):
    sf = settings.SALESFORCE
    errors = []
    legacy = sf.get("AUTH_FLOW") in (None, "", "password")
    if legacy and sf.get("USERNAME") and not sf.get("PASSWORD"):
        errors.append(
            checks.Error(
                "SALESFORCE_USERNAME is set but SALESFORCE_PASSWORD is not.",
                hint="Set SALESFORCE_PASSWORD (and SALESFORCE_SECURITY_TOKEN for a real org).",
                id="crmbridge.E001",
            )
        )
    if legacy and sf.get("INSTANCE_URL") and not sf.get("USERNAME"):
        errors.append(
            checks.Error(
                "SALESFORCE_INSTANCE_URL is set but SALESFORCE_USERNAME is not.",
                hint="crmbridge logs in with SALESFORCE_USERNAME and SALESFORCE_PASSWORD.",
                id="crmbridge.E002",
            )
        )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def field_encryption_keys_check(app_configs, **kwargs):
    if settings.FIELD_ENCRYPTION_KEYS:
        return []
    return [
        checks.Error(
            "FIELD_ENCRYPTION_KEYS is not set: secrets cannot be stored.",
            hint="Set it to a Fernet key: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'",
            id="crmbridge.E003",
        )
    ]
