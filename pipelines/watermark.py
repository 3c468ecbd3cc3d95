"""Move a source's watermark forward when a crawl finishes cleanly.

The watermark is the newest ``published_at`` among the documents the source has stored. The next
run without an explicit ``since`` starts its window there (minus an overlap), so a quiet night costs
one listing request. Only a crawl that finished (not one shut down or killed) moves it: a crawl that
stopped half-way may have skipped older pages, and the next run must ask for them again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from xinpi.config import data_dir
from xinpi.items import DocumentItem
from xinpi.state import read_watermark, write_watermark


class WatermarkExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.latest: dt.datetime | None = None
        self.stored = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WatermarkExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_scraped(self, item: Any, spider: Spider) -> None:
        if not isinstance(item, DocumentItem):
            return
        self.stored += 1
        published = item.get("published_at")
        if isinstance(published, dt.datetime) and published.tzinfo is not None:
            if self.latest is None or published > self.latest:
                self.latest = published

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if reason != "finished" or not self.crawler.settings.getbool("XINPI_INCREMENTAL", True):
            return
        root = data_dir(self.crawler.settings.get("DATA_DIR"))
        previous = read_watermark(root, spider.name) or {}
        latest = self.latest
        if previous.get("latest_published_at"):
            before = dt.datetime.fromisoformat(previous["latest_published_at"])
            latest = before if latest is None or before > latest else latest
        stats = self.crawler.stats
        write_watermark(root, spider.name, {
            "source": spider.name,
            "latest_published_at": latest.isoformat() if latest else None,
            "last_run_id": self.crawler.settings.get("XINPI_RUN_ID", ""),
            "last_finished_at": dt.datetime.now(dt.UTC).isoformat(),
            "last_window": [stats.get_value("xinpi/window/since"), stats.get_value("xinpi/window/until")],
            "last_documents_stored": self.stored,
            "last_requests": stats.get_value("downloader/request_count", 0),
        })
