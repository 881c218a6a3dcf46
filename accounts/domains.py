"""E-mail and web domains: the registered domain of a URL, host or address; personal domains.

Parsing uses tldextract on the public suffix list bundled with the package: no network, no cache
directory (`suffix_list_urls=()`, `cache_dir=None`). The registered domain is the one label under
the public suffix: `https://www.Acme.co.uk/x` and `eu.acme.com` give `acme.co.uk` and `acme.com`,
and `googleventures.com` stays itself. Domains are kept lower-case, internationalised ones in
Unicode (`xn--mnchen-3ya.de` and `MÜNCHEN.de` are both `münchen.de`).
"""

import re
from functools import lru_cache
from pathlib import Path

import idna
import tldextract

_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
_PERSONAL_FILE = Path(__file__).resolve().parent / "data" / "personal_domains.txt"
_SPLIT = re.compile(r"[\s,;]+")
_LABEL = re.compile(r"^[^\s@/:?#\\]+$")


def _to_unicode(host: str) -> str:
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label = idna.decode(label)
            except idna.IDNAError:
                return ""
        labels.append(label)
    return ".".join(labels)


def host_of(value) -> str:
    """The lower-case host of a URL, host name or e-mail address ('' when there is none)."""
    if not value or not isinstance(value, str):
        return ""
    return _host_of_text(value)


@lru_cache(maxsize=65536)  # matching asks for the same addresses several times per batch
def _host_of_text(value: str) -> str:
    text = value.strip()
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    text = text.strip().rstrip(">").strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1]  # user:pass@host
    text = text.split(":", 1)[0].strip().rstrip(".").lower()
    if not text or not _LABEL.match(text):
        return ""
    return _to_unicode(text)


_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)


def registered_domain(value) -> str | None:
    """The registered domain of a URL, host or e-mail address; None when there is none.

    None for hosts under no public suffix (`localhost`, `intranet`, `acme.example`), for bare
    suffixes (`co.uk`) and for IP addresses.
    """
    if not value or not isinstance(value, str):
        return None
    return _registered_domain_of_host(host_of(value))


@lru_cache(maxsize=65536)
def _registered_domain_of_host(host) -> str | None:
    if not host:
        return None
    parts = _extract(host)
    if not parts.suffix or not parts.domain or not _is_hostname_label(parts.domain):
        return None  # a bare public suffix, or a wildcard over one (`*.com`)
    return f"{parts.domain}.{parts.suffix}".lower()


def _is_hostname_label(label: str) -> bool:
    """Letters, digits and inner hyphens (RFC 1123), after IDNA for non-ASCII labels."""
    try:
        ascii_label = label.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return bool(_LABEL.fullmatch(ascii_label))


def split_domains(text) -> list[str]:
    """The tokens of a comma-, semicolon- or space-separated list (Alternate_Domains__c)."""
    if not text:
        return []
    return [token for token in _SPLIT.split(text) if token]


def registered_domains(text) -> tuple[list[str], list[str]]:
    """(valid registered domains in order without repeats, tokens that are not domains)."""
    good, bad = [], []
    for token in split_domains(text):
        domain = registered_domain(token)
        if domain is None:
            bad.append(token)
        elif domain not in good:
            good.append(domain)
    return good, bad


@lru_cache(maxsize=1)
def personal_domains() -> frozenset[str]:
    """The personal mail domains shipped with crmbridge (accounts/data/personal_domains.txt)."""
    lines = _PERSONAL_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def is_personal_domain(domain, *, extra=()) -> bool:
    """True for a personal mail domain: the shipped list or `extra` (Global Settings)."""
    if not domain:
        return False
    domain = domain.lower()
    base = registered_domain(domain) or domain
    extras = {d.lower() for d in extra}
    return any(d in personal_domains() or d in extras for d in (domain, base))


def is_internal_host(host, *, internal=()) -> bool:
    """True when `host` is one of the company's own domains or a subdomain of one."""
    if not host:
        return False
    host = host.lower()
    for domain in internal:
        domain = domain.lower().lstrip("@").rstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False
