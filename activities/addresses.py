"""E-mail addresses as crmbridge stores them: normalised by email-validator (no DNS).

Most addresses are plain ASCII (``jane.doe@acme.com``). For those, email-validator leaves the
local part as it is and lower-cases the domain, so only the domain needs its checks, once per
domain; anything else (quoted or non-ASCII local parts, the role mailboxes such as postmaster
whose local part it lower-cases, odd lengths, a domain it rewrites, an invalid address) goes
through email-validator whole and gets exactly its answer or error.
"""

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from crmbridge.boundary import text_problem

# email-validator's dot-atom (ATEXT characters, single dots between them), ASCII only.
_PLAIN_LOCAL = re.compile(
    r"[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+(?:\.[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+)*"
)
LOCAL_MAX, ADDRESS_MAX = 64, 254


def normalise_email(value) -> str:
    """The address normalised by email-validator (no DNS): domain lower-case, Unicode."""
    if not isinstance(value, str) or not value.strip():
        raise EmailNotValidError("An e-mail address is required.")
    if problem := text_problem(value):
        raise EmailNotValidError(problem)
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if (
        at
        and len(local) <= LOCAL_MAX
        and len(value) <= ADDRESS_MAX
        and _PLAIN_LOCAL.fullmatch(local)
        and local.lower() not in CASE_INSENSITIVE_MAILBOX_NAMES
        and domain.isascii()
    ):
        plain = _plain_domain(domain)
        if plain is not None:
            return f"{local}@{plain}"
    return _validated(value)


@lru_cache(maxsize=65536)
def _plain_domain(domain: str) -> str | None:
    """The domain as email-validator normalises it, when that is just lower-case ASCII."""
    try:
        normalised = validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None
    return normalised if normalised == domain.lower() else None


@lru_cache(maxsize=65536)
def _validated(value: str) -> str:
    return validate_email(value, check_deliverability=False).normalized
