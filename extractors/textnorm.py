"""Same-length folding of text for matching.

WHY: spans must index the original ``title + "\\n" + text``, yet matching wants one spelling for
full-width digits, dashes and traditional characters. ``fold`` maps character to character (never
changes the length), so every offset found in the folded text is an offset into the original.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from ._resources import table

DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\u30fc\u2e3a\u2e3b\ufe58\ufe63\u2500\u2501"
OPEN_QUOTES = "“「『《〈\"'‘"
CLOSE_QUOTES = "”」』》〉\"'’"


@cache
def _table() -> dict[int, str]:
    t: dict[int, str] = {}
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII (sentence punctuation kept: ，：；！？)
        if chr(cp) not in "，：；！？":
            t[cp] = chr(cp - 0xFEE0)
    t[0x3000] = " "
    t[0xA0] = " "
    for d in DASHES:
        t[ord(d)] = "-"
    for row in table("t2s.txt"):
        if len(row) == 2 and len(row[0]) == 1 and len(row[1]) == 1:
            t[ord(row[0])] = row[1]
    t[ord("（")] = "("
    t[ord("）")] = ")"
    t[ord("｜")] = "|"
    t[ord("┃")] = "|"
    t[ord("│")] = "|"
    return t


@cache
def _fold_re() -> re.Pattern:
    return re.compile("[" + "".join(re.escape(chr(k)) for k in sorted(_table())) + "]+")


def _fold_run(m: re.Match) -> str:
    return m.group().translate(_table())


def fold(s: str) -> str:
    """Full-width -> ASCII, dashes -> '-', traditional -> simplified; same length as ``s``.

    Only runs of characters that change are translated (most text has few), which is faster
    than translating every character through the table.
    """
    return _fold_re().sub(_fold_run, s)


#: The full-width forms Chinese text is full of, each with its NFKC form (one ASCII character).
_COMMON_WIDE = tuple((c, unicodedata.normalize("NFKC", c)) for c in "，：；（）！？％＋－／\u3000")


def nfkc(text: str, keep: str = "") -> str:
    """``unicodedata.normalize("NFKC", text)``, exactly, ~20x faster on typical Chinese text; the
    characters of ``keep`` stay as written (the text between them is normalised on its own).

    WHY: one full-width comma sends CPython's NFKC down its slow path (decompose and recompose every
    character), ~0.2 ms per 1,000 characters, on every document of a crawl. Replacing a full-width
    form by its NFKC form first cannot change the result (both decompose to the same characters),
    and what remains is then usually NFKC already, which ``is_normalized`` confirms on its fast
    quick-check path. Anything else (full-width digits, compatibility ideographs ...) still goes
    through ``normalize``. ``str.replace`` per form beats ``str.translate``, which looks every
    character of a non-ASCII string up in a dict.
    """
    for wide, narrow in _COMMON_WIDE:
        if wide in text and wide not in keep:
            text = text.replace(wide, narrow)
    probe = text
    for kept in keep:  # a line break composes and reorders with nothing: it cuts the text like keep does
        probe = probe.replace(kept, "\n")
    if unicodedata.is_normalized("NFKC", probe):
        return text
    if not keep:
        return unicodedata.normalize("NFKC", text)
    parts = _splitter(keep).split(text)
    return "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))


@lru_cache(maxsize=16)
def _splitter(keep: str) -> re.Pattern:
    return re.compile("([" + re.escape(keep) + "])")


_WS = re.compile(r"\s+")
_BREAK_RE = re.compile(r"[ \t\u3000]*\n[\s]*")
_NAME_STRIP = re.compile(r"[\"'“”‘’「」『』《》〈〉]")


def clean_name(s: str) -> str:
    """Name as written, with line breaks (and the indentation around them) removed."""
    if "\n" in s:
        s = _BREAK_RE.sub("", s)
    return _NAME_STRIP.sub("", s).strip()


@lru_cache(maxsize=8192)
def norm_key(s: str) -> str:
    """Comparison key for names: NFKC, one dash, no whitespace or quote marks, simplified."""
    s = unicodedata.normalize("NFKC", s or "")
    s = fold(s)
    s = _WS.sub("", s)
    return _NAME_STRIP.sub("", s)
