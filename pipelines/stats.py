"""Leave each crawl's Scrapy stats behind as JSON, so the flow that ran the crawl can report them."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler


class StatsFileExtension:
    """Writes the stats to ``XINPI_STATS_FILE`` when the spider closes (atomically: temp, rename)."""

    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = Path(path)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsFileExtension:
        ext = cls(crawler, crawler.settings.get("XINPI_STATS_FILE", ""))
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if not str(self.path) or str(self.path) == ".":
            return
        stats: dict[str, Any] = dict(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        stats["spider"] = spider.name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stats, default=_jsonable, ensure_ascii=False, indent=1), "utf-8")
        os.replace(tmp, self.path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
