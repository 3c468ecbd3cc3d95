"""Turning news pages into clean text: charset repair, element-to-text, and printed dates.

Why a shared helper: every news spider needs the same three things and the same traps apply.

* Scrapy's ``response.text`` decodes GBK/gb2312 pages correctly (it widens gb2312 to GB18030), so we
  hand BeautifulSoup ``response.text`` and never the raw bytes (on bytes BeautifulSoup trusts a
  gb2312 meta tag and loses characters outside gb2312 such as 镕, 喆, 堃).
* Some pages *declare* UTF-8 but are GBK. Scrapy then decodes with replacement characters. We
  detect that (the raw bytes are not valid UTF-8) and re-decode as GB18030, a superset of GBK.
* Article bodies must keep their paragraph structure: one line per block element (``p``, ``div``,
  ``br``, headings, list items ...), with HTML indentation and full-width spaces removed.
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import re
from typing import Any
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup
from bs4.element import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Elements that start and end a line of text.
BLOCK_TAGS = frozenset(
    "p div section article header footer aside main nav h1 h2 h3 h4 h5 h6 li ul ol dl dt dd "
    "table thead tbody tfoot tr caption blockquote pre figure figcaption address hr form fieldset "
    "center".split()
)
#: Elements whose content is never text a reader sees.
SKIP_TAGS = frozenset("script style noscript template iframe object embed svg canvas head title".split())
_SKIP_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)
_SPACE = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")


# --- charset -----------------------------------------------------------------------------------
def _is_utf8_name(encoding: str | None) -> bool:
    if not encoding:
        return False
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def repair_mislabelled(body: bytes, declared_encoding: str | None, text: str) -> tuple[str, bool]:
    """Return ``(text, repaired)``: ``text`` as given, or ``body`` re-decoded as GB18030 when a page
    declared UTF-8 but its bytes are not UTF-8 and GB18030 reads them with fewer errors.

    Only UTF-8 declarations are second-guessed: a page that says GBK and is GBK is what Scrapy
    already handles, and guessing on every page would risk mangling good UTF-8 text.
    """
    if not _is_utf8_name(declared_encoding):
        return text, False
    try:
        body.decode("utf-8")
        return text, False
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("gb18030"), True
    except UnicodeDecodeError:
        fixed = body.decode("gb18030", errors="replace")
        if fixed.count("\ufffd") < text.count("\ufffd"):
            return fixed, True
        return text, False


def response_text(response: Any) -> str:
    """The decoded text of a Scrapy ``TextResponse``, repaired if it was mislabelled UTF-8."""
    text, repaired = repair_mislabelled(response.body, response.encoding, response.text)
    if repaired:
        log.warning("%s declares UTF-8 but is GBK; re-decoded as GB18030", response.url)
    return text


def soup(response: Any) -> BeautifulSoup:
    """A BeautifulSoup (lxml) tree of the correctly decoded page."""
    return BeautifulSoup(response_text(response), "lxml")


# --- element to text ---------------------------------------------------------------------------
def element_text(element: Tag | None) -> str:
    """Plain text of ``element``: one line per paragraph/block, whitespace collapsed, no empty lines.

    ``None`` (a selector that found nothing) gives ``""`` so callers test one thing: emptiness.
    """
    if element is None:
        return ""
    lines: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        line = _SPACE.sub(" ", "".join(buffer)).strip()
        buffer.clear()
        if line:
            lines.append(line)

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, _SKIP_STRINGS):
                continue
            if isinstance(child, NavigableString):
                buffer.append(str(child))
                continue
            if not isinstance(child, Tag) or child.name in SKIP_TAGS:
                continue
            if child.name == "br":
                flush()
                continue
            block = child.name in BLOCK_TAGS
            if block:
                flush()
            walk(child)
            if block:
                flush()

    walk(element)
    flush()
    return "\n".join(lines)


def clean_line(text: str | None) -> str:
    """One line of text (titles, bylines): whitespace collapsed and trimmed."""
    return _SPACE.sub(" ", text or "").strip()


# --- dates as news pages print them ------------------------------------------------------------
_DATETIME = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2}))?)?"
)


def parse_local_datetime(text: str | None) -> dt.datetime | None:
    """Parse ``2025-08-06 10:15``, ``2025/8/6 10:15:30``, ``2025年08月06日 10:15`` or ISO with an offset.

    Times without an offset are Beijing time (every source here prints local time). Returns
    ``None`` when nothing date-like is found or the numbers are impossible, so the caller records it.
    """
    if not text:
        return None
    text = text.strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
        if parsed.tzinfo is not None:
            return parsed.astimezone(SHANGHAI)
    except ValueError:
        pass
    m = _DATETIME.search(text)
    if not m:
        return None
    try:
        return dt.datetime(
            int(m["y"]), int(m["m"]), int(m["d"]),
            int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0), tzinfo=SHANGHAI,
        )
    except ValueError:
        return None
