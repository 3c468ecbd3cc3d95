"""Run the real pipeline chain in-process on a Scrapy crawler (no network: pipelines never fetch)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from xinpi.items import DocumentItem
from xinpi.pipelines.dedupe import DedupePipeline
from xinpi.pipelines.extract import ExtractPipeline
from xinpi.pipelines.normalise import NormalisePipeline
from xinpi.pipelines.parquet import ParquetWriterPipeline

CHAIN = (NormalisePipeline, ExtractPipeline, DedupePipeline, ParquetWriterPipeline)


class FakeSourceSpider(scrapy.Spider):
    name = "cninfo"


class PipelineRun:
    """One crawl's worth of pipelines: ``feed`` items, then ``close`` (like Scrapy does)."""

    def __init__(self, data_dir: Path, chain=CHAIN, **settings: Any) -> None:
        self.crawler = get_crawler(FakeSourceSpider, {"DATA_DIR": str(data_dir), **settings})
        self.crawler.spider = FakeSourceSpider.from_crawler(self.crawler)
        self.pipelines = [p.from_crawler(self.crawler) for p in chain]
        for p in self.pipelines:
            if hasattr(p, "open_spider"):
                p.open_spider()
        self.dropped: list[str] = []

    def feed(self, *items: Any) -> list[Any]:
        out = []
        for item in items:
            try:
                for p in self.pipelines:
                    item = p.process_item(item)
            except DropItem as exc:
                self.dropped.append(str(exc))
                continue
            out.append(item)
        return out

    def close(self) -> dict[str, Any]:
        for p in reversed(self.pipelines):
            if hasattr(p, "close_spider"):
                p.close_spider()
        return self.stats

    @property
    def stats(self) -> dict[str, Any]:
        return self.crawler.stats.get_stats()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def run(data_dir: Path) -> Iterator[Any]:
    """``run(**settings)`` opens a pipeline run on the test's data dir."""

    def _open(**settings: Any) -> PipelineRun:
        return PipelineRun(data_dir, **settings)

    yield _open


def doc(n: int | str, text: str | None = None, **fields: Any) -> DocumentItem:
    """A plausible announcement; ``n`` makes doc_id and text distinct."""
    base = {
        "doc_id": f"cninfo:{n}",
        "source": "cninfo",
        "kind": "announcement",
        "url": f"http://static.cninfo.com.cn/finalpage/2025-04-25/{n}.PDF",
        "title": f"关于第{n}期资产支持专项计划发行结果的公告",
        "published_at": dt.datetime(2025, 4, 25, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "published_at_raw": "2025-04-25 18:30",
        "fetched_at": dt.datetime(2025, 4, 26, 1, 0, tzinfo=dt.UTC),
        "text": text if text is not None else f"专项计划于2025年4月24日成立，发行规模为{n}.50亿元。",
        "sec_code": "000001",
        "extra": {"announcementId": str(n)},
    }
    base.update(fields)
    return DocumentItem(**base)


@pytest.fixture
def make_doc():
    return doc
