"""The words of a title or keyword: NFKC, Unicode case folding, then runs of letters, digits and
marks; in scripts written without spaces (CJK, Thai, ...) each letter is a word. Pure Python."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Blocks of scripts written without spaces between words: each letter is its own word.
_NO_SPACE_BLOCKS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x303C),  # kana repeat marks, 〻 〼
    (0x3040, 0x30FF),  # Hiragana, Katakana (incl. ー)
    (0x3100, 0x312F),  # Bopomofo
    (0x31A0, 0x31BF),  # Bopomofo extended
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # halfwidth Katakana (NFKC widens them anyway)
    (0x16FE0, 0x16FFF),  # ideographic symbols
    (0x1B000, 0x1B16F),  # Kana supplement / extended
)
_NO_SPACE_WHOLE = ((0x20000, 0x3FFFF),)  # CJK extensions B.. in planes 2 and 3: all ideographs
# Default-ignorable marks that must not glue or split words of their own: treated as separators.
_SEPARATOR_MARKS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))


def _ranges(codepoints: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for cp in codepoints:
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def _char_class(ranges: Iterable[tuple[int, int]]) -> str:
    def esc(cp: int) -> str:
        return f"\\U{cp:08x}"

    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


def _build_word_regex() -> re.Pattern[str]:
    def in_blocks(cp: int, blocks: tuple[tuple[int, int], ...]) -> bool:
        return any(a <= cp <= b for a, b in blocks)

    word: list[int] = []
    no_space: list[int] = []
    category = unicodedata.category
    for cp in range(0x20000):  # planes 0 and 1; planes 2-3 are handled wholesale below
        if category(chr(cp))[0] not in "LNM" or in_blocks(cp, _SEPARATOR_MARKS):
            continue
        (no_space if in_blocks(cp, _NO_SPACE_BLOCKS) else word).append(cp)
    word_class = _char_class(_ranges(word))
    no_space_class = _char_class([*_ranges(no_space), *_NO_SPACE_WHOLE])
    return re.compile(f"[{no_space_class}]|[{word_class}]+")


_WORD_RE = _build_word_regex()
_ASCII_WORD_RE = re.compile(r"[a-z0-9]+")
_findall = _WORD_RE.findall
_ascii_findall = _ASCII_WORD_RE.findall
_nfkc = unicodedata.normalize


def normalize_words(text: str | None) -> tuple[str, ...]:
    """NFKC, then Unicode case folding, then the words of ``text`` (see the module docstring)."""
    if not text:
        return ()
    if text.isascii():  # NFKC is the identity and casefold() is lower() on ASCII
        return tuple(_ascii_findall(text.lower()))
    return tuple(_findall(_nfkc("NFKC", text).casefold()))


def words_list(text: str) -> list[str]:
    if text.isascii():
        return _ascii_findall(text.lower())
    return _findall(_nfkc("NFKC", text).casefold())


def phrase_key(keyword: str | None) -> tuple[str, ...]:
    """The normalised words of a keyword phrase; ``()`` means empty or punctuation only."""
    return normalize_words(keyword)


# Words that say how senior someone is, not what they do; and words that join others.
SENIORITY_WORDS = frozenset(
    [
        "chief",
        "senior",
        "sr",
        "junior",
        "jr",
        "lead",
        "head",
        "director",
        "dir",
        "manager",
        "mgr",
        "vp",
        "svp",
        "evp",
        "avp",
        "vice",
        "president",
        "principal",
        "associate",
        "assistant",
        "asst",
        "executive",
        "exec",
        "officer",
        "staff",
        "intern",
        "trainee",
        "deputy",
        "supervisor",
        "partner",
        "founder",
        "cofounder",
        "owner",
        "ceo",
        "cto",
        "cfo",
        "coo",
        "cmo",
        "cio",
        "ciso",
        "cro",
        "cpo",
        "i",
        "ii",
        "iii",
        "iv",
        "v",
        "global",
        "regional",
        "group",
    ]
)
_JOINING_WORDS = frozenset(
    ["of", "and", "the", "for", "to", "in", "at", "on", "with", "de", "du", "la", "le"]
)
_ORIGINAL_WORD_RE = re.compile(r"[A-Za-z0-9]+")


def suggested_keyword(title: str, dimension: str) -> str:
    """The distinctive words of a title, as a rule's keyword phrase: for a department the words
    that say what the person does ("Marketing Operations" of "Senior Director of Marketing
    Operations"), for a seniority the words that say how senior ("Senior Director"). The
    longest run of such consecutive words, as written; the whole title when there is none (or
    when it is not plain ASCII, where words are not told apart by letters alone)."""
    title = (title or "").strip()
    if not title.isascii():
        return title
    tokens = [(m.group(0), m.start(), m.end()) for m in _ORIGINAL_WORD_RE.finditer(title)]
    runs, run = [], []
    for word, start, end in tokens:
        folded = word.lower()
        is_seniority = folded in SENIORITY_WORDS
        keep = folded not in _JOINING_WORDS and (
            is_seniority if dimension == "seniority" else not is_seniority
        )
        if keep:
            run.append((start, end))
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    if not runs:
        return title
    best = max(runs, key=len)  # the first of the longest
    return title[best[0][0] : best[-1][1]]


__all__ = ["normalize_words", "phrase_key", "suggested_keyword", "words_list"]
