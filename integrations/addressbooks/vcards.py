"""vCards <-> the Contact fields crmbridge maps, and the three-way merge of the two. Pure.

A card is parsed and written with vobject (vCard 3.0 and 4.0). Writing a Contact into an existing
card changes only the mapped properties and keeps the rest (extra e-mails and phones, notes,
photos, the rep's own fields), so a card survives any number of syncs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import vobject
from nameparser import HumanName

# The mapped values, by mirror name. `company` is the Account's name.
FIELDS = ("first_name", "last_name", "email", "phone", "title", "department", "company", "country")
# Mapped to the card, but never written back from it: the Account is chosen once, when the
# card becomes a Contact; the department is classified by crmbridge from the title.
SALESFORCE_ONLY = frozenset({"company", "department"})
SF_ID = "X-SALESFORCE-ID"
MAX_CARD = 256 * 1024


class InvalidCard(ValueError):
    pass


def card_parse(text: str):
    if not text or len(text) > MAX_CARD:
        raise InvalidCard("empty or over 256 KB")
    try:
        card = vobject.readOne(text)
    except Exception as exc:  # vobject raises many kinds for malformed input
        raise InvalidCard(f"not a vCard: {exc}") from None
    if card.name != "VCARD":
        raise InvalidCard("not a vCard")
    return card


def _lines(card, name):
    return card.contents.get(name.lower(), [])


def _first(card, name):
    lines = _lines(card, name)
    return lines[0] if lines else None


def _is_preferred(line) -> bool:
    types = [t.lower() for t in line.params.get("TYPE", [])]
    return "pref" in types or bool(line.params.get("PREF"))


def _primary(card, name, prefer_type=None):
    lines = _lines(card, name)
    for line in lines:
        if _is_preferred(line):
            return line
    if prefer_type:
        for line in lines:
            if prefer_type in [t.lower() for t in line.params.get("TYPE", [])]:
                return line
    return lines[0] if lines else None


def _text(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def _phone(line) -> str:
    return _text(line.value).removeprefix("tel:") if line is not None else ""


def card_uid(card) -> str:
    line = _first(card, "UID")
    return _text(line.value) if line is not None else ""


def card_salesforce_id(card) -> str:
    line = _first(card, SF_ID)
    return _text(line.value)[:18] if line is not None else ""


def card_revision(card) -> dt.datetime | None:
    """When the card was last changed, from its REV, when it says."""
    line = _first(card, "REV")
    if line is None:
        return None
    raw = _text(line.value).replace("-", "").replace(":", "")
    for fmt in ("%Y%m%dT%H%M%SZ", "%Y%m%dT%H%M%S", "%Y%m%d"):
        try:
            return dt.datetime.strptime(raw, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def card_values(card) -> dict:
    """The mapped values a card holds ("" for what it does not say)."""
    values = dict.fromkeys(FIELDS, "")
    name = _first(card, "N")
    if name is not None and (name.value.family or name.value.given):
        values["last_name"] = _text(name.value.family)
        values["first_name"] = _text(name.value.given)
    else:
        full = _first(card, "FN")
        parsed = HumanName(_text(full.value) if full is not None else "")
        values["first_name"], values["last_name"] = parsed.first, parsed.last
    email = _primary(card, "EMAIL", "work")
    values["email"] = _text(email.value).lower() if email is not None else ""
    values["phone"] = _phone(_primary(card, "TEL", "work"))
    title = _first(card, "TITLE")
    values["title"] = _text(title.value) if title is not None else ""
    org = _first(card, "ORG")
    if org is not None:
        parts = org.value if isinstance(org.value, list) else [org.value]
        values["company"] = _text(parts[:1])
        values["department"] = _text(parts[1:2])
    adr = _primary(card, "ADR", "work")
    values["country"] = _text(adr.value.country) if adr is not None else ""
    return values


def _replace(card, name, value, *, primary=None):
    """Give the card's (primary) `name` property `value`; remove it when value is blank."""
    line = primary if primary is not None else _first(card, name)
    if not value:
        if line is not None:
            card.remove(line)
        return
    if line is None:
        line = card.add(name.lower())
    line.value = value


def _set_phone(card, phone, version):
    line = _primary(card, "TEL", "work")
    if not phone:
        if line is not None:
            card.remove(line)
        return
    if line is None:
        line = card.add("tel")
        line.params["TYPE"] = ["work"]
    uri = "uri" in [v.lower() for v in line.params.get("VALUE", [])] or version == "4.0"
    line.value = f"tel:{phone}" if uri and not phone.startswith("tel:") else phone
    if uri:
        line.params["VALUE"] = ["uri"]


def card_render(*, values: dict, uid: str, sf_id: str = "", existing=None, now=None) -> str:
    """The card for `values`: `existing` (a parsed card) with its mapped properties replaced, or
    a new vCard 3.0. It carries the Contact's Salesforce Id (X-SALESFORCE-ID) once known."""
    card = existing
    if card is None:
        card = vobject.vCard()
        card.add("version").value = "3.0"
        card.add("uid").value = uid
    version = _text(_first(card, "VERSION").value) if _first(card, "VERSION") else "3.0"
    name = _first(card, "N") or card.add("n")
    name.value = vobject.vcard.Name(family=values["last_name"], given=values["first_name"])
    full = " ".join(p for p in (values["first_name"], values["last_name"]) if p)
    _replace(card, "FN", full or values["email"] or uid)
    _replace(card, "EMAIL", values["email"], primary=_primary(card, "EMAIL", "work"))
    email = _primary(card, "EMAIL", "work")
    if email is not None and "TYPE" not in email.params:
        email.params["TYPE"] = ["work"] if version == "4.0" else ["INTERNET", "WORK"]
    _set_phone(card, values["phone"], version)
    _replace(card, "TITLE", values["title"])
    org = [values["company"]] + ([values["department"]] if values["department"] else [])
    _replace(card, "ORG", org if values["company"] or values["department"] else "")
    adr = _primary(card, "ADR", "work")
    if values["country"] or (adr is not None and adr.value.country):
        if adr is None:
            adr = card.add("adr")
            adr.params["TYPE"] = ["work"]
            adr.value = vobject.vcard.Address()
        adr.value.country = values["country"]
    _replace(card, SF_ID, sf_id)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    _replace(card, "REV", stamp)
    return card.serialize()


@dataclass(frozen=True)
class FieldConflict:
    field: str
    card_value: str
    contact_value: str
    card_won: bool


def merge(*, base: dict, contact: dict, card: dict, card_is_newer: bool):
    """Three-way merge of one Contact and its card against what both had at the last sync.

    A side that changed a field wins it; when both changed it differently, the newer change
    wins (a FieldConflict). A blank from the card never blanks the Contact, and the card never
    changes the SALESFORCE_ONLY fields. Returns (merged values, conflicts)."""
    merged, conflicts = {}, []
    for name in FIELDS:
        ours, theirs, was = contact.get(name, ""), card.get(name, ""), base.get(name)
        if ours == theirs or name in SALESFORCE_ONLY:
            merged[name] = ours or theirs if name in SALESFORCE_ONLY else ours
            continue
        if theirs == was or not theirs:
            merged[name] = ours  # only Salesforce changed it, or the card blanked it
        elif ours == was or not ours:
            merged[name] = theirs  # only the card changed it
        else:
            merged[name] = theirs if card_is_newer else ours
            conflicts.append(FieldConflict(name, theirs, ours, card_is_newer))
    return merged, conflicts
