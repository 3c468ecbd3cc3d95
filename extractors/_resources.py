"""Loading of the analyst-editable data files in ``extractors/data``.

WHY: linguistic knowledge (suffixes, cue words, aliases) must be editable without touching code,
so every list lives in a text file; this module reads each file once per process.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@cache
def lines(name: str) -> tuple[str, ...]:
    """Non-empty, non-comment lines of a data file (order kept)."""
    out = []
    with (DATA_DIR / name).open(encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n\r")
            if line.strip() and not line.lstrip().startswith("#"):
                out.append(line.strip())
    return tuple(out)


@cache
def table(name: str) -> tuple[tuple[str, ...], ...]:
    """Tab-separated rows of a data file."""
    return tuple(tuple(c.strip() for c in line.split("\t")) for line in lines(name))


def alternation(words, escape: bool = True) -> str:
    """A regex alternation, longest first so the longest cue wins at a position."""
    ws = sorted(set(words), key=len, reverse=True)
    return "|".join(re.escape(w) if escape else w for w in ws)


def cache_dir() -> Path:
    """Writable cache dir: $XINPI_CACHE_DIR or ./.tmp/cache (no xinpi.config import: stay pure)."""
    d = Path(os.environ.get("XINPI_CACHE_DIR") or Path.cwd() / ".tmp" / "cache")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    return d


def char_offsets(text: str, chars: str, start: int = 0, end: int | None = None) -> list[int]:
    """Sorted offsets of every character of ``chars`` in ``text[start:end]``.

    WHY: a regex character class costs tens of machine instructions per character of CJK text,
    ``str.find`` one or two; a document holds few of these characters, so one ``find`` loop per
    character finds them all for a fraction of a regex pass.
    """
    end = len(text) if end is None else end
    out: list[int] = []
    for c in chars:
        p = text.find(c, start, end)
        while p >= 0:
            out.append(p)
            p = text.find(c, p + 1, end)
    out.sort()
    return out


def anchored_finditer(
    rx: re.Pattern,
    anchor: re.Pattern | str,
    text: str,
    reach: int,
    tail: int = 0,
    start: int = 0,
    end: int | None = None,
):
    """``rx.finditer(text)`` where every match ends at an ``anchor`` hit (+ at most ``tail`` chars
    of lookahead) and starts at most ``reach`` chars before it. ``anchor`` is a pattern of one
    character, or a string: the set of anchor characters (found with ``str.find``, much cheaper).

    WHY: a pattern with optional prefixes is tried at every position of a long text; running it only
    on the short segments around its anchor characters gives the same matches for far less work.
    """
    end = len(text) if end is None else end
    if isinstance(anchor, str):
        points = char_offsets(text, anchor, start, end)
    else:
        points = [a.start() for a in anchor.finditer(text, start, end)]
    lo = hi = -1
    for p in points:
        if hi >= 0 and p - reach <= hi:
            hi = min(end, p + 1 + tail)
            continue
        if hi >= 0:
            yield from rx.finditer(text, lo, hi)
        lo, hi = max(start, p - reach), min(end, p + 1 + tail)
    if hi >= 0:
        yield from rx.finditer(text, lo, hi)
