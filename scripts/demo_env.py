"""Write `.env` for the demo once, so that every `manage.py` command in any shell (not only the
`make demo` one) runs on the demo's settings. django-environ reads it; variables set in the
shell win over it. Delete it (or set CRMBRIDGE_ENV_FILE) for a production setup.

The demo runs with DEBUG off, as production does: Django's error pages (a 404 listing every URL
pattern, tracebacks) are never shown, and whitenoise serves the collected static files. Its own
random SECRET_KEY and Fernet key are generated once; only plain HTTP on 127.0.0.1 is allowed
for, so the HTTPS redirect and secure-only cookies are off.
"""

import base64
import hashlib
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

# What `make demo` wrote before it ran with DEBUG off; such a file is upgraded in place.
LEGACY_DEMO_ENV = """\
# Written by `make demo`: the demo's settings for every manage.py command run here.
# Variables set in the shell win over these. Not for production (see README).
DEBUG=1
SALESFORCE_EMULATOR=var/sforg.sqlite3
"""
# The key DEBUG derived for secrets at rest from the old demo's SECRET_KEY (crmbridge.crypto):
# kept as a second key so that secrets stored by an older demo still decrypt.
LEGACY_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"


def _legacy_field_key() -> str:
    digest = hashlib.sha256(("crmbridge-fields:" + LEGACY_SECRET_KEY).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def demo_env(*, upgrading: bool = False) -> str:
    keys = [Fernet.generate_key().decode()] + ([_legacy_field_key()] if upgrading else [])
    return f"""\
# Written by `make demo`: the demo's settings for every manage.py command run here.
# Variables set in the shell win over these. Not for production (see README).
DEBUG=0
SECRET_KEY={secrets.token_urlsafe(50)}
FIELD_ENCRYPTION_KEYS={",".join(keys)}
ALLOWED_HOSTS=127.0.0.1,localhost
# The demo is served over plain HTTP on this machine only.
SECURE_SSL_REDIRECT=0
SESSION_COOKIE_SECURE=0
CSRF_COOKIE_SECURE=0
SECURE_HSTS_SECONDS=0
SALESFORCE_EMULATOR=var/sforg.sqlite3
"""


def main(path: str) -> None:
    target = Path(path)
    if not target.exists():
        target.write_text(demo_env())
    elif target.read_text() == LEGACY_DEMO_ENV:
        target.write_text(demo_env(upgrading=True))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".env")
