"""Write `.env` for the demo once, so that every `manage.py` command in any shell (not only the
`make demo` one) runs on the demo's settings. django-environ reads it; variables set in the
shell win over it. Delete it (or set CRMBRIDGE_ENV_FILE) for a production setup."""

import sys
from pathlib import Path

DEMO_ENV = """\
# Written by `make demo`: the demo's settings for every manage.py command run here.
# Variables set in the shell win over these. Not for production (see README).
DEBUG=1
SALESFORCE_EMULATOR=var/sforg.sqlite3
"""


def main(path: str) -> None:
    target = Path(path)
    if not target.exists():
        target.write_text(DEMO_ENV)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".env")
