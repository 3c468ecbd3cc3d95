"""What every xinpi spider shares: host URLs from settings, the date window, recorded failures.

Spiders only parse. They yield :class:`~xinpi.items.DocumentItem` for what they read and
:class:`~xinpi.items.FailureItem` (through :meth:`XinpiSpider.failure`) for what they could not, so a
broken page is logged with its URL, counted in the crawl stats and landed in ``failures/``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from xinpi.config import data_dir, host_url
from xinpi.items import DocumentItem, FailureItem
from xinpi.spiders.pdf import PdfError, extract_pdf_text
from xinpi.state import clear_running, known_doc_ids, mark_running, read_watermark, unfinished_runs

#: Words that make a document worth fetching when the topic filter is on (``XINPI_TOPIC_WORDS``).
DEFAULT_TOPIC_WORDS = (
    "资产支持", "专项计划", "证券化", "ABS", "ABN", "REIT", "债券", "公司债", "中期票据", "短期融资券",
    "票据", "信托计划", "发债", "债", "基础设施证券投资基金",
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_PDF_MAX_BYTES = 20 * 1024 * 1024


class XinpiSpider(scrapy.Spider):
    """Base class. Arguments (``-a name=value``):

    * ``since`` / ``until`` (YYYY-MM-DD, Beijing dates, inclusive). Without ``since`` the window
      starts at the source's watermark (the newest document a finished run stored) minus
      ``XINPI_OVERLAP_DAYS``; with no watermark either, ``XINPI_DEFAULT_DAYS`` before ``until``.
    * ``refresh=1``: fetch documents again even if stored (a full re-scan that catches edits at the
      source); by default a stored document is not fetched again and a listing page holding only
      stored documents ends the paging (``XINPI_INCREMENTAL``).
    * ``all=1``: no topic filter (by default list entries are kept only if their title or summary
      holds one of ``XINPI_TOPIC_WORDS``; per source ``XINPI_TOPIC_WORDS_<NAME>``).
    """

    kind: str = "news"  # or "announcement"
    since: str | None = None
    until: str | None = None
    refresh: str | None = None
    all: str | None = None
    #: Sources whose listing is already topical (a register, a keyword query) set this to False.
    topic_filtered: bool = True

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> XinpiSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._mark_running, signal=signals.spider_opened)
        crawler.signals.connect(spider._clear_running, signal=signals.spider_closed)
        return spider

    def _mark_running(self) -> None:
        self._marker = mark_running(self.data_dir, self.name, self.crawl_started)
        self._unfinished = unfinished_runs(self.data_dir, self.name, exclude=self._marker)
        if self._unfinished and self.incremental:
            self.logger.warning(
                "%s: %d earlier crawl(s) did not finish (%s); walking the whole window this time",
                self.name, len(self._unfinished), ", ".join(str(u.get("started")) for u in self._unfinished),
            )
            self.crawler.stats.set_value("xinpi/incremental/unfinished_before", len(self._unfinished))

    def _clear_running(self, reason: str) -> None:
        """A crawl that ended early (Ctrl-C, a lost pipeline worker, a close-spider limit) leaves its
        marker, exactly like one that was killed: it may have stored page 1 and never read page 2,
        so the next crawl must not stop at a page of stored documents. Only a finished crawl, or
        one that read nothing (skipped by the crawl lock), removes it."""
        if getattr(self, "_marker", None) is None:
            return
        if reason == "finished" or reason in _READ_NOTHING:
            clear_running(self._marker, reason == "finished", self.crawl_started)
        else:
            self.logger.warning("%s ended early (%s): the next crawl walks its whole window",
                                self.name, reason)

    def host(self, hostname: str) -> str:
        """Base URL for ``hostname``: the real site, or the emulator under ``XINPI_EMULATOR_URL``."""
        return host_url(self.settings, hostname)

    @property
    def crawl_started(self) -> dt.datetime:
        if not hasattr(self, "_crawl_started"):
            self._crawl_started = dt.datetime.now(SHANGHAI)
        return self._crawl_started

    def window(self) -> tuple[dt.date, dt.date]:
        """The inclusive date window this crawl asks the source for (recorded in the crawl stats)."""
        if getattr(self, "_window", None):
            return self._window
        until = dt.date.fromisoformat(self.until) if self.until else self.crawl_started.date()
        origin = "argument"
        if self.since:
            since = dt.date.fromisoformat(self.since)
        else:
            mark = read_watermark(self.data_dir, self.name) if self.incremental else None
            latest = (mark or {}).get("latest_published_at")
            if latest:
                overlap = self.settings.getint("XINPI_OVERLAP_DAYS", 2)
                since = dt.datetime.fromisoformat(latest).astimezone(SHANGHAI).date() - dt.timedelta(overlap)
                origin = "watermark"
            else:
                since = until - dt.timedelta(days=self.settings.getint("XINPI_DEFAULT_DAYS", 7))
                origin = "default"
            since = min(since, until)
        if since > until:
            raise ValueError(f"{self.name}: since {since} is after until {until}")
        self._window = (since, until)
        stats = self.crawler.stats
        stats.set_value("xinpi/window/since", since.isoformat())
        stats.set_value("xinpi/window/until", until.isoformat())
        stats.set_value("xinpi/window/origin", origin)
        self.logger.info("%s: window %s..%s (%s)", self.name, since, until, origin)
        return self._window

    # --- incremental crawling ---------------------------------------------------------------------
    @property
    def data_dir(self):
        return data_dir(self.settings.get("DATA_DIR"))

    @property
    def incremental(self) -> bool:
        return self.settings.getbool("XINPI_INCREMENTAL", True) and not _truthy(self.refresh)

    def is_known(self, doc_id: str) -> bool:
        """True if ``doc_id`` is stored already and this is an incremental crawl: don't fetch it."""
        if self._stored(doc_id):
            self._count_skipped([doc_id])
            return True
        return False

    def _count_skipped(self, doc_ids: list[str]) -> None:
        """Count each stored document once per crawl, however many checks it goes through."""
        counted = self.__dict__.setdefault("_skipped", set())
        fresh = set(doc_ids) - counted
        counted |= fresh
        if fresh:
            self.crawler.stats.inc_value("xinpi/incremental/known_skipped", len(fresh))

    def _stored(self, doc_id: str) -> bool:
        if not self.incremental:
            return False
        if getattr(self, "_known", None) is None:
            self._known = known_doc_ids(self.data_dir, self.name)
        return doc_id in self._known

    def page_is_all_known(self, doc_ids: list[str]) -> bool:
        """True if a listing page holds only stored documents: an incremental crawl pages no further.

        Listings come newest first, so a page of known documents means the rest is known too (the
        weekly ``refresh`` re-scan is what catches an old document edited at the source). Not after
        a crawl that died, though: it may have stored page 1 and never reached page 2.
        """
        if not self.incremental or not doc_ids or getattr(self, "_unfinished", None):
            return False  # an earlier crawl died: pages past a stored one may never have been read
        if all(self._stored(d) for d in doc_ids):
            self._count_skipped(doc_ids)
            self.crawler.stats.inc_value("xinpi/incremental/stopped_paging")
            return True
        return False

    # --- topic filter -----------------------------------------------------------------------------
    def topic_words(self) -> list[str]:
        words = self.settings.getlist(f"XINPI_TOPIC_WORDS_{self.name.upper()}") or self.settings.getlist(
            "XINPI_TOPIC_WORDS"
        )
        return words or list(DEFAULT_TOPIC_WORDS)

    def on_topic(self, *texts: str | None) -> bool:
        """Whether a list entry (title, summary ...) is worth fetching under the topic filter."""
        if not self.topic_filtered or _truthy(self.all):
            return True
        blob = " ".join(t for t in texts if t).upper()
        if any(w.upper() in blob for w in self.topic_words()):
            return True
        self.crawler.stats.inc_value("xinpi/topic/skipped")
        return False

    def failure(
        self, url: str, stage: str, error: str, http_status: int | None = None
    ) -> FailureItem:
        """Log a failure and return the item that records it (the caller yields it)."""
        self.logger.error("%s failed at %s: %s (%s)", url, stage, error, http_status or "-")
        self.crawler.stats.inc_value(f"xinpi/failures/{stage}")
        return FailureItem(
            source=self.name,
            url=url,
            stage=stage,
            error=error[:500],
            http_status=http_status,
            at=dt.datetime.now(dt.UTC),
        )

    def on_error(self, failure: Failure) -> Iterator[FailureItem]:
        """Errback for every request: HTTP errors, timeouts, refused connections, size caps."""
        request = failure.request if hasattr(failure, "request") else None
        response: Response | None = getattr(failure.value, "response", None)
        url = request.url if request is not None else (response.url if response is not None else "?")
        status = response.status if response is not None else None
        yield self.failure(url, "fetch", f"{failure.type.__name__}: {failure.getErrorMessage()}", status)

    # --- PDF attachments ----------------------------------------------------------------------------
    def pdf_request(self, url: str, doc: dict[str, Any]) -> scrapy.Request:
        """Fetch an announcement's PDF (size-capped by ``XINPI_PDF_MAX_BYTES``); its text becomes the
        document's. Whatever goes wrong, the document still arrives with its listing data."""
        return scrapy.Request(
            url, callback=self.parse_pdf, errback=self.on_pdf_error, cb_kwargs={"doc": doc},
            meta={"download_maxsize": self.settings.getint("XINPI_PDF_MAX_BYTES", DEFAULT_PDF_MAX_BYTES)},
        )

    def parse_pdf(self, response: Response, doc: dict[str, Any]) -> Iterator[Any]:
        try:
            doc["text"] = extract_pdf_text(response.body)
        except PdfError as exc:
            yield self.failure(response.url, "pdf", str(exc), response.status)
            doc["extra"] = {**(doc.get("extra") or {}), "pdf_error": str(exc)}
        yield DocumentItem(**doc)

    def on_pdf_error(self, failure: Failure) -> Iterator[FailureItem | DocumentItem]:
        """The PDF could not be fetched (404, too big, timeout): record it, keep the listing data."""
        request = failure.request  # type: ignore[attr-defined]
        response = getattr(failure.value, "response", None)
        error = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        yield self.failure(request.url, "pdf", error, response.status if response is not None else None)
        doc = request.cb_kwargs["doc"]
        doc["extra"] = {**(doc.get("extra") or {}), "pdf_error": error}
        yield DocumentItem(**doc)

    def document_defaults(self, **fields: Any) -> dict[str, Any]:
        """Fields every document carries, plus the ones given.

        Nothing is derived here: a news story's ``extra.story_id`` (one id for its syndicated
        copies) is computed by the normalise pipeline stage, in the pipeline worker process, so the
        crawl process only fetches and parses.
        """
        return {"source": self.name, "kind": self.kind, "fetched_at": dt.datetime.now(dt.UTC), **fields}


#: Close reasons of a crawl that read nothing (``xinpi.pipelines.lock.LOCKED``: another crawl of the
#: source was running). The string is repeated, not imported: spiders never import pipelines.
_READ_NOTHING = frozenset({"locked"})


def list_setting(value: Any, default: Sequence[Any] = (), sep: str = ",") -> list[str]:
    """A list setting as settings.py gives it (a list) or as ``-s`` does (a JSON list, or text joined
    by ``sep``: ``;`` where the values themselves hold commas). Unset or empty: ``default``."""
    if value is None or value == "":
        return [str(v) for v in default]
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else text.split(sep)
    elif not isinstance(value, list | tuple):
        value = [value]
    return [str(v).strip() for v in value if str(v).strip()]


def _truthy(value: object) -> bool:
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}
