"""Where a person's name (and title, phone, country) comes from, in order:

1. the participant's display name ("Doe, Jane", "Jane Q. Doe", "Dr. Jane Doe", "'Jane Doe' (Acme)"),
   parsed with nameparser;
2. the signature block of an e-mail body that person sent (name line, title, phone, company,
   country from an address line);
3. the address itself: ``jane.doe@`` and ``jane.roe42@`` give Jane Doe and Jane Roe; ``jdoe@``
   gives nothing (the rule is written out above `name_from_address`).

The first source that gives both a first and a last name wins; if none does, each name comes from
the first source that gives it ("Jane" as display name and ``j.roe@`` give Jane Roe).
Nothing is ever invented: what no source knows stays empty.
Pure functions, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from nameparser import HumanName
from nameparser.config import CONSTANTS

# -- display name ------------------------------------------------------------------------------

_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]|<[^>]*>")
_QUOTES = "\"'`“”‘’"
_NAME_CHARS = re.compile(r"^[^\W\d_][\w .,'’\-]*$", re.UNICODE)


def _clean_case(value: str) -> str:
    if value and (value.islower() or value.isupper()):
        return "-".join(part.capitalize() for part in value.split("-"))
    return value


def _parse(text: str) -> tuple[str, str]:
    name = HumanName(text)
    first = _clean_case(name.first.strip(".,"))
    last = _clean_case(name.last.strip(".,"))
    return first, last


@lru_cache(maxsize=65536)  # the same people write again and again; nameparser is slow
def name_from_display(display: str | None) -> tuple[str, str]:
    """(first, last) from a display name; empty strings for what it does not say."""
    text = _PARENS.sub(" ", display or "").strip().strip(_QUOTES).strip()
    text = " ".join(text.split())
    if not text or "@" in text or not _NAME_CHARS.match(text):
        return "", ""
    if len(text.replace(",", " ").split()) > 5:
        return "", ""
    return _parse(text)


# -- e-mail address ----------------------------------------------------------------------------
#
# The rule for an address alone (tests/contacts/test_names_from_addresses.py is its table):
# * the local part (before "@", without a "+tag") is split into parts on "." and "_"; on "-" only
#   when it has neither, so that "jean-luc.picard" keeps its hyphenated first name;
# * digits at either end of a part are dropped ("roe42", "1987"); a part that mixes digits into
#   its letters ("j4ne") is no name;
# * a role or system mailbox (info, sales, support, no-reply, ...) is nobody's name;
# * one part alone ("jroe", "jane") says nothing of which name it is: nothing;
# * otherwise the parts are read first-to-last (the common convention "first.last"), and
#   nameparser reads them as a name: a title is dropped ("dr."), a middle name is not the last
#   name, prefixes stay with it ("van Dijk"), "McDonald" is capitalised as such;
# * an initial is not a name: "j.roe" gives only the last name, "jane.r" only the first;
# * "roe.jane" cannot be told from "jane.roe" by the address: when another source (display name,
#   signature) gives a first name and it is the address's last part, the order is swapped.

_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['’][^\W\d_]+)*$", re.UNICODE)
_HYPHENATED_WORD = re.compile(r"^[^\W\d_]+(?:['’\-][^\W\d_]+)*$", re.UNICODE)
_ROLE_MAILBOXES = frozenset(
    {
        "accounts",
        "admin",
        "billing",
        "careers",
        "contact",
        "enquiries",
        "finance",
        "hello",
        "help",
        "hr",
        "info",
        "inquiries",
        "invoice",
        "invoices",
        "jobs",
        "mail",
        "marketing",
        "news",
        "newsletter",
        "no",
        "noreply",
        "notifications",
        "office",
        "orders",
        "postmaster",
        "press",
        "reply",
        "sales",
        "service",
        "support",
        "team",
        "webmaster",
    }  # fmt: skip
)
_UNUSABLE = ""  # a part that is not a name (kept so that the others keep their positions)


def _address_parts(local: str) -> list[str]:
    separators = r"[._]" if re.search(r"[._]", local) else r"[._\-]"
    word_pattern = _HYPHENATED_WORD if separators == r"[._]" else _NAME_WORD
    parts = []
    for raw in re.split(separators, local):
        word = raw.strip("0123456789")
        if not word:
            continue  # empty, or only digits: not a part at all
        parts.append(word if word_pattern.match(word) else _UNUSABLE)
    return parts


def _capitalised(word: str) -> str:
    name = HumanName(word)
    name.capitalize(force=True)
    return str(name)


@lru_cache(maxsize=65536)  # as name_from_display: the same addresses come again and again
def name_from_address(email: str | None, *, first_hint: str = "") -> tuple[str, str]:
    """(first, last) as the address ``first.last@`` says them (the rule above); empty strings
    for what it does not say. `first_hint` is a first name another source gave."""
    local = (email or "").partition("@")[0].split("+", 1)[0]
    parts = _address_parts(local)
    if any(part.casefold() in _ROLE_MAILBOXES for part in parts):
        return "", ""
    if len(parts) > 2 and parts[0].casefold() in CONSTANTS.titles:
        parts = parts[1:]
    if len(parts) < 2:
        return "", ""
    hint = first_hint.casefold()
    if len(parts) == 2 and hint and parts[1].casefold() == hint != parts[0].casefold():
        parts.reverse()
    if all(len(part) >= 2 for part in parts):
        name = HumanName(" ".join(parts))
        name.capitalize(force=True)
        return name.first, name.last
    first, last = parts[0], parts[-1]
    return (
        _capitalised(first) if len(first) >= 2 else "",
        _capitalised(last) if len(last) >= 2 else "",
    )


# -- signature block ---------------------------------------------------------------------------

# Sign-offs in the languages reps write in; the signature block follows the last one.
_SIGNOFF = re.compile(
    r"^\s*(--\s*|—\s*|best|best regards|best wishes|kind regards|warm regards|warmest regards|"
    r"regards|many thanks|thanks|thanks again|thank you|cheers|sincerely|sincerely yours|"
    r"yours sincerely|yours truly|all the best|br|talk soon|speak soon|"
    r"mit freundlichen grüßen|mit freundlichen grüssen|viele grüße|beste grüße|liebe grüße|"
    r"freundliche grüße|gruß|cordialement|bien cordialement|bien à vous|salutations|"
    r"saludos|un saludo|saludos cordiales|atentamente|un abrazo|cordiali saluti|"
    r"distinti saluti|saluti|atenciosamente|abraços|met vriendelijke groet|"
    r"vriendelijke groeten|groeten|med vänliga hälsningar|vänliga hälsningar|hälsningar|"
    r"med venlig hilsen|mvh|よろしくお願いします|よろしくお願いいたします|以上)\s*[,.!、。]?\s*$",
    re.IGNORECASE,
)
# Where the quoted message a reply or forward carries begins.
_REPLY_MARKER = re.compile(
    r"^\s*(>|-{2,}\s*original message|-{2,}\s*forwarded message|"
    r"-{2,}\s*ursprüngliche nachricht|-{2,}\s*message d'origine|-{2,}\s*mensaje original|"
    r"begin forwarded message:|on .+ wrote:\s*$|am .+ schrieb .+:\s*$|le .+ a écrit\s?:\s*$|"
    r"el .+ escribió:\s*$|op .+ schreef .+:\s*$|il giorno .+ ha scritto:\s*$|"
    r"from:\s|von:\s|de\s?:\s|sent from my|enviado desde mi)",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?:(?:tel|phone|mobile|mob|cell|direct|office|[tmpo])\.?\s*[:.]?\s*)?"
    r"(\+?\(?\d[\d\s().\-/]{5,}\d)",
    re.IGNORECASE,
)
_COMPANY_SUFFIX = re.compile(
    r"\b(inc|inc\.|ltd|ltd\.|llc|gmbh|corp|corp\.|corporation|plc|ag|s\.a\.|sa|bv|b\.v\.|"
    r"pty|limited|company|co\.)\s*$",
    re.IGNORECASE,
)
_URLISH = re.compile(r"https?://|www\.|@|\.com\b|\.io\b", re.IGNORECASE)

# Country names as people write them in an address line -> the name Salesforce gets.
COUNTRIES = {
    name.casefold(): canonical
    for canonical, names in {
        "United States": ["United States", "USA", "U.S.A.", "US", "United States of America"],
        "United Kingdom": ["United Kingdom", "UK", "U.K.", "England", "Scotland", "Wales"],
        "Germany": ["Germany", "Deutschland"],
        "France": ["France"],
        "Spain": ["Spain", "España"],
        "Italy": ["Italy", "Italia"],
        "Netherlands": ["Netherlands", "The Netherlands", "Nederland", "Holland"],
        "Belgium": ["Belgium"],
        "Switzerland": ["Switzerland", "Schweiz", "Suisse"],
        "Austria": ["Austria", "Österreich"],
        "Ireland": ["Ireland"],
        "Portugal": ["Portugal"],
        "Sweden": ["Sweden", "Sverige"],
        "Norway": ["Norway", "Norge"],
        "Denmark": ["Denmark", "Danmark"],
        "Finland": ["Finland", "Suomi"],
        "Poland": ["Poland", "Polska"],
        "Czech Republic": ["Czech Republic", "Czechia"],
        "Canada": ["Canada"],
        "Mexico": ["Mexico", "México"],
        "Brazil": ["Brazil", "Brasil"],
        "Argentina": ["Argentina"],
        "Chile": ["Chile"],
        "Colombia": ["Colombia"],
        "Australia": ["Australia"],
        "New Zealand": ["New Zealand"],
        "Japan": ["Japan"],
        "China": ["China"],
        "India": ["India"],
        "Singapore": ["Singapore"],
        "South Korea": ["South Korea", "Korea"],
        "Israel": ["Israel"],
        "United Arab Emirates": ["United Arab Emirates", "UAE"],
        "South Africa": ["South Africa"],
        "Thailand": ["Thailand"],
    }.items()
    for name in names
}


def country_from_line(line: str) -> str:
    """The country an address line ends with ("1 Main St, Berlin, Germany" -> Germany)."""
    parts = [p.strip(" .") for p in re.split(r"[,·|•]", line) if p.strip(" .")]
    if not parts:
        return ""
    last = re.sub(r"\d+", "", parts[-1]).strip(" -")
    return COUNTRIES.get(last.casefold(), "")


def _signature_lines(body: str) -> list[str]:
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i, line in enumerate(lines):
        if _REPLY_MARKER.match(line):
            lines = lines[:i]
            break
    start = None
    for i, line in enumerate(lines):
        if _SIGNOFF.match(line):
            start = i + 1
    if start is None:
        return []
    return [line.strip() for line in lines[start:] if line.strip()][:10]


@dataclass
class BodyParts:
    text: str  # what the sender wrote, sign-off included
    signature: str  # the block after the sign-off (name, title, phone, ...)
    quoted: str  # the message a reply or forward carries


def split_body(body: str | None) -> BodyParts:
    """Separate what the sender wrote from their signature and from the quoted thread."""
    lines = (body or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    quoted_from = next((i for i, ln in enumerate(lines) if _REPLY_MARKER.match(ln)), len(lines))
    own, quoted = lines[:quoted_from], lines[quoted_from:]
    signoff = max((i for i, line in enumerate(own) if _SIGNOFF.match(line)), default=None)
    if signoff is None:
        text, signature = own, []
    elif own[signoff].strip() in {"--", "—"}:
        text, signature = own[:signoff], own[signoff + 1 :]
    else:
        text, signature = own[: signoff + 1], own[signoff + 1 :]
    return BodyParts(
        text="\n".join(text).strip(),
        signature="\n".join(line.rstrip() for line in signature).strip(),
        quoted="\n".join(quoted).strip(),
    )


def _is_name_line(line: str) -> bool:
    words = line.split()
    return (
        1 <= len(words) <= 4
        and _NAME_CHARS.match(line) is not None
        and not _COMPANY_SUFFIX.search(line)
        and not _URLISH.search(line)
    )


@dataclass
class Signature:
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    phone: str = ""
    company: str = ""
    country: str = ""


def parse_signature(body: str | None) -> Signature:
    """What the signature block of an e-mail body says about its sender."""
    sig = Signature()
    lines = _signature_lines(body or "")
    if not lines:
        return sig
    rest_from = 0
    for i, line in enumerate(lines[:3]):
        if not _is_name_line(line):
            break
        first, last = _parse(line)
        if first and last:
            sig.first_name, sig.last_name = first, last
            rest_from = i + 1
            break
        if first and not sig.first_name and len(line.split()) == 1:
            sig.first_name = first  # "Thanks,\nJane" — keep looking for a full name line
            rest_from = i + 1
    for line in lines[rest_from:]:
        if not sig.phone:
            m = _PHONE.search(line)
            if m and sum(c.isdigit() for c in m.group(1)) >= 7:
                sig.phone = " ".join(m.group(1).split()).strip()
                continue
        if not sig.country:
            country = country_from_line(line)
            if country:
                sig.country = country
                continue
        if _URLISH.search(line) or any(c.isdigit() for c in line):
            continue
        title_part, company_part = line, ""
        for sep in (" | ", " at ", " @ ", " · "):
            if sep in line:
                title_part, company_part = (p.strip() for p in line.split(sep, 1))
                break
        if _COMPANY_SUFFIX.search(line) and not company_part:
            if not sig.company:
                sig.company = line
            continue
        if not sig.title and len(title_part) <= 128:
            sig.title = title_part
            if company_part and not sig.company:
                sig.company = company_part
        elif not sig.company:
            sig.company = line
    return sig


# -- putting the sources together ----------------------------------------------------------------


@dataclass
class PersonDetails:
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    phone: str = ""
    country: str = ""
    company: str = ""
    # field -> where it came from: "participant", "display_name", "signature", "address"
    sources: dict = field(default_factory=dict)


def person_details(
    *,
    email: str,
    display_name: str = "",
    body: str = "",
    title: str = "",
    phone: str = "",
    country: str = "",
) -> PersonDetails:
    """Everything known of one person. `body` is the body of an e-mail this person sent (or "");
    `title`, `phone`, `country` are what the activity's source said of them (they win)."""
    details = PersonDetails()
    sig = parse_signature(body) if body else Signature()
    from_display = name_from_display(display_name)
    from_signature = (sig.first_name, sig.last_name)
    candidates = [("display_name", from_display), ("signature", from_signature)]
    full = next(((src, n) for src, n in candidates if n[0] and n[1]), None)
    if full is None:  # only then can the address say anything (nameparser is slow)
        first_hint = next((n[0] for n in (from_display, from_signature) if n[0] and not n[1]), "")
        candidates.append(("address", name_from_address(email, first_hint=first_hint)))
        full = next(((src, n) for src, n in candidates if n[0] and n[1]), None)
    for index, name in enumerate(("first_name", "last_name")):
        if full is not None:
            source, value = full[0], full[1][index]
        else:
            source, value = next(((s, n[index]) for s, n in candidates if n[index]), (None, ""))
        if value:
            setattr(details, name, value)
            details.sources[name] = source
    for name, given, from_sig in (
        ("title", title, sig.title),
        ("phone", phone, sig.phone),
        ("country", country, sig.country),
        ("company", "", sig.company),
    ):
        if given and given.strip():
            setattr(details, name, given.strip())
            details.sources[name] = "participant"
        elif from_sig:
            setattr(details, name, from_sig)
            details.sources[name] = "signature"
    return details
