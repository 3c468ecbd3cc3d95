"""Failures found by the pipelines themselves (an empty document, an extractor that raised).

A pipeline cannot yield a second item, so it hands the failure to the writer through a Scrapy signal:
the stages stay decoupled (normalise and extract know nothing about Parquet) and the failure still
lands in ``failures/`` and in the crawl stats, exactly like a failure the spider recorded.
"""

from __future__ import annotations

import datetime as dt
import logging

from scrapy.crawler import Crawler

from xinpi.items import FailureItem

logger = logging.getLogger(__name__)

#: Sent with ``item=<FailureItem>``; the Parquet writer listens.
failure_recorded = object()


def record_failure(
    crawler: Crawler, stage: str, url: str | None, error: str, source: str | None = None
) -> FailureItem:
    """Log, count (``xinpi/failures/<stage>``) and hand a failure to whoever writes failures."""
    spider = crawler.spider
    source = source or (spider.name if spider is not None else None)
    logger.error("%s failed at %s: %s", url or "-", stage, error)
    if crawler.stats is not None:
        crawler.stats.inc_value(f"xinpi/failures/{stage}")
    item = FailureItem(
        source=source,
        url=url,
        stage=stage,
        error=error[:500],
        http_status=None,
        at=dt.datetime.now(dt.UTC),
    )
    crawler.signals.send_catch_log(signal=failure_recorded, item=item, spider=spider)
    return item
