"""Build a small DATA_DIR with the real Parquet writer (the same schemas and layout a crawl leaves).

A plain module, not a conftest.py: test modules do ``from conftest import ...`` for tests/conftest.py,
and a second conftest module would shadow it in a whole-suite run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import scrapy
from scrapy.utils.test import get_crawler

from xinpi.items import DocumentItem, ProjectItem
from xinpi.pipelines.parquet import ParquetWriterPipeline

CST = dt.timezone(dt.timedelta(hours=8))


class _Writer(scrapy.Spider):
    name = "flows-test"


def write_items(data_dir: Path, run_id: str, items: Iterable[Any]) -> None:
    """One writer run (one file per partition), exactly as the crawl's last pipeline stage does it."""
    # The bare writer plays a double-fired run: with the commit re-check on, it would remove the
    # very duplicates these tests need to see compaction and the deals table cope with.
    crawler = get_crawler(
        _Writer, {"DATA_DIR": str(data_dir), "XINPI_RUN_ID": run_id, "XINPI_LOCK_COMMIT_RECHECK": False}
    )
    crawler.spider = _Writer.from_crawler(crawler)
    writer = ParquetWriterPipeline.from_crawler(crawler)
    writer.open_spider()
    for item in items:
        writer.process_item(item)
    writer.close_spider()


def document(doc_id: str, kind: str, mentions: list[dict], day: int = 10, story: str | None = None,
             version: int = 1, **fields: Any) -> DocumentItem:
    source = doc_id.split(":", 1)[0]
    extra = {"story_id": story} if story else {}
    item = DocumentItem(
        doc_id=doc_id, source=source, kind=kind, url=f"https://{source}.example/{doc_id}",
        title=f"标题{doc_id}", published_at=dt.datetime(2025, 3, day, 9, 30, tzinfo=CST),
        published_at_raw=f"2025-03-{day:02d} 09:30", fetched_at=dt.datetime(2025, 3, day, 2, tzinfo=dt.UTC),
        text=f"正文{doc_id}", extra=extra, version=version, mentions=mentions, aggregates=[],
    )
    item.update(fields)
    return item


def project(project_id: str, name: str, status: str, updated: dt.date, **fields: Any) -> ProjectItem:
    base = dict(
        register="szse", project_id=project_id, name=name, type="ABS", status=status,
        accepted_date=dt.date(2025, 2, 10), updated_date=updated,
        url=f"https://www.szse.cn/project/{project_id}", fetched_at=dt.datetime(2025, 3, 20, tzinfo=dt.UTC),
        extra={},
    )
    base.update(fields)
    return ProjectItem(**base)

