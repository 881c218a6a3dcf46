"""Salesforce record Ids: key prefixes, 15/18-character forms and the checksum suffix."""

from __future__ import annotations

import re

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")

_SCATTER = 1_000_000_007  # prime, coprime with 62

#: The pod/instance characters every generated Id carries after its key prefix.
POD = "5g0"


class MalformedId(ValueError):
    """Raised for a value that is not a well-formed 15- or 18-character Id."""


def checksum(id15: str) -> str:
    """The 3-character suffix that turns a 15-character Id into its 18-character form."""
    out = []
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        flags = 0
        for i, ch in enumerate(chunk):
            if "A" <= ch <= "Z":
                flags |= 1 << i
        out.append(_SUFFIX_ALPHABET[flags])
    return "".join(out)


def to18(value: str) -> str:
    """Normalise a 15- or 18-character Id to its canonical 18-character form.

    An 18-character Id is accepted in any letter case: its suffix restores the case of the first
    15 characters (this is what the suffix is for). Raises MalformedId otherwise.
    """
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise MalformedId(value)
    if len(value) == 15:
        return value + checksum(value)
    suffix = value[15:].upper()
    chars = list(value[:15])
    for block, sch in enumerate(suffix):
        pos = _SUFFIX_ALPHABET.find(sch)
        if pos < 0:
            raise MalformedId(value)
        for i in range(5):
            idx = block * 5 + i
            c = chars[idx]
            if c.isalpha():
                chars[idx] = c.upper() if pos & (1 << i) else c.lower()
    id15 = "".join(chars)
    if checksum(id15) != suffix:
        raise MalformedId(value)
    return id15 + suffix


def is_valid(value: str) -> bool:
    try:
        to18(value)
    except MalformedId:
        return False
    return True


def base62(n: int, width: int) -> str:
    chars = []
    while n:
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    s = "".join(reversed(chars))
    if len(s) > width:
        raise ValueError("Id counter overflow")
    return s.rjust(width, "0")


def make_id(prefix: str, counter: int) -> str:
    """The 18-character Id for the counter-th record of the object with this key prefix."""
    width = 15 - len(prefix) - len(POD)
    # Scatter the counter over the id space (a bijection modulo 62**width) so that Ids carry
    # the mixed-case letters real ones do, while staying unique per counter.
    scattered = (counter * _SCATTER) % (62**width)
    id15 = prefix + POD + base62(scattered, width)
    return id15 + checksum(id15)
