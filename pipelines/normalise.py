"""First pipeline stage: one canonical form of every document, so that hashes, spans and dedupe agree.

NFKC folds full-width digits and letters (３．１５亿元 -> 3.15亿元) and compatibility forms, so the
extractor sees one spelling and a republished page with different widths hashes the same. Line
breaks are kept: they carry table rows and paragraph ends the extractor relies on.

One exception to NFKC: the full-width clause marks ，：；！？ stay as written. NFKC would make them
ASCII, and then "计划管理人为A,B担任差额支付承诺人" (a clause break) reads like the list "A,B" (one
comma, two managers): Chinese texts use both, and only the original width tells them apart.

News documents also get ``extra.story_id`` here (:mod:`xinpi.extractors.story`), shared by the
syndicated copies of one story: spiders only parse, and this stage runs in the pipeline worker
process, so the hashing costs the crawl process nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from xinpi.extractors import textnorm
from xinpi.extractors.story import story_id
from xinpi.items import DocumentItem, ProjectItem
from xinpi.pipelines.failures import record_failure
from xinpi.pipelines.schema import SHANGHAI

logger = logging.getLogger(__name__)

_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]")
_HSPACE = re.compile(r"[^\S\n]+")  # whitespace other than a line break
_BLANK_LINES = re.compile(r"\n{3,}")


CLAUSE_MARKS = "，：；！？"


def nfkc(text: str) -> str:
    """NFKC everywhere but on the full-width clause marks (see the module docstring)."""
    return textnorm.nfkc(text, keep=CLAUSE_MARKS)


def clean_text(value: Any) -> str:
    """NFKC, no control or format characters, line breaks kept (at most one blank line), spaces at
    line ends trimmed. Tabs and runs of spaces inside a line stay: they are the column gaps of
    tables flattened to text, which the extractor reads cells by."""
    if value is None:
        return ""
    text = nfkc(str(value))
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROLS.sub(_keep_tabs, text)
    text = "\n".join(line.strip(" ") for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip("\n")


def _keep_tabs(m: re.Match[str]) -> str:
    return "".join(c for c in m.group() if c == "\t")


def hash_form(text: str) -> str:
    """What the content hash is taken over: runs of spaces and tabs as one space, so a page re-served
    with other spacing is not a new version (the stored text keeps its spacing for the extractor)."""
    return _HSPACE.sub(" ", text)


def clean_line(value: Any) -> str:
    """A one-line field (title, names): NFKC, controls removed, all whitespace runs to one space."""
    if value is None:
        return ""
    text = nfkc(str(value))
    text = _CONTROLS.sub("", _ANY_BREAK.sub(" ", text))
    return " ".join(text.split())


def _control_class() -> re.Pattern[str]:
    """Every Cc (C0/C1 controls) and Cf (zero-width spaces, BOM, soft hyphen, direction marks)
    code point except the line break, as one character class: a regex pass is ~100x faster than
    asking unicodedata about each character of a long announcement."""
    ranges: list[list[int]] = []
    # Cc and Cf exist only in planes 0-1 and 14 (tags); scanning just those keeps import fast.
    for cp in itertools.chain(range(0x20000), range(0xE0000, 0xE1000)):
        if cp != 0x0A and unicodedata.category(chr(cp)) in ("Cc", "Cf"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    body = "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)
    return re.compile(f"[{body}]+")


_CONTROLS = _control_class()
_ANY_BREAK = re.compile(r"[\n\r\t\x0b\x0c\x85\u2028\u2029]")


def content_sha256(title: str, text: str) -> str:
    """The document's content identity: what dedupe compares across runs."""
    return hashlib.sha256(f"{title}\n{hash_form(text)}".encode()).hexdigest()


class NormalisePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, DocumentItem):
            return self._document(item)
        if isinstance(item, ProjectItem):
            return self._project(item)
        return item  # FailureItem and anything else pass through untouched

    def _document(self, item: DocumentItem) -> DocumentItem:
        spider = self.crawler.spider
        item["source"] = item.get("source") or (spider.name if spider is not None else None)
        _add_story_id(item)  # first: on the title and text as the spider yielded them
        item["title"] = clean_line(item.get("title"))
        item["text"] = clean_text(item.get("text"))
        url = item.get("url")
        if not item.get("doc_id"):
            record_failure(self.crawler, "normalise", url, "document without doc_id", item["source"])
            raise DropItem(f"document without doc_id: {url}")
        if not item["title"] and not item["text"]:
            record_failure(
                self.crawler, "normalise", url, f"{item['doc_id']}: empty title and text", item["source"]
            )
            raise DropItem(f"{item['doc_id']}: empty title and text")
        item["published_at"] = self._published_at(item)
        item["fetched_at"] = _aware(item.get("fetched_at"), dt.UTC) or dt.datetime.now(dt.UTC)
        for key in ("sec_code", "sec_name", "author", "media_name"):
            if item.get(key) is not None:
                item[key] = clean_line(item[key]) or None
        item["content_sha256"] = content_sha256(item["title"], item["text"])
        return item

    def _published_at(self, item: DocumentItem) -> dt.datetime | None:
        value = item.get("published_at")
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                logger.warning("%s: unparseable published_at %r, stored as null", item["doc_id"], value)
                return None
        if not isinstance(value, dt.datetime):
            logger.warning("%s: published_at %r is not a datetime, stored as null", item["doc_id"], value)
            return None
        if value.tzinfo is None:
            logger.warning("%s: naive published_at %s taken as Asia/Shanghai", item["doc_id"], value)
            return value.replace(tzinfo=SHANGHAI)
        return value.astimezone(SHANGHAI)

    def _project(self, item: ProjectItem) -> ProjectItem:
        for key in ("name", "issuer", "manager", "status", "type", "project_id", "register"):
            if item.get(key) is not None:
                item[key] = clean_line(item[key]) or None
        scale = item.get("planned_scale_yuan")
        if scale is not None and not isinstance(scale, Decimal):
            try:  # str() so a float 1.45e9 does not bring binary noise into an exact amount
                item["planned_scale_yuan"] = Decimal(str(scale).replace(",", "").strip())
            except InvalidOperation:
                logger.warning("project %s: planned scale %r is not a number", item.get("project_id"), scale)
                item["planned_scale_yuan"] = None
        return item


def _add_story_id(item: DocumentItem) -> None:
    """``extra.story_id`` for a news document with a body, unless the spider gave one.

    Hashed from the text *as yielded*, before :func:`clean_text`: the spiders used to compute the id
    on that text, and documents they stored must keep matching new copies of the same story. The
    ``extra`` dict is copied, not changed in place: a spider may share one dict between items.
    """
    text = item.get("text")
    if item.get("kind") != "news" or not text:
        return
    extra = item.get("extra") or {}
    if not extra.get("story_id"):
        item["extra"] = {**extra, "story_id": story_id(item.get("title"), text)}


def _aware(value: Any, assume: dt.tzinfo) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=assume)
