"""Bench-only Scrapy extension: the crawl's own peak memory, left in its stats when the spider closes.

Why not ``os.wait4``'s ``ru_maxrss`` in the bench: Linux starts a spawned child's ``ru_maxrss`` at
its parent's high-water RSS (``exec`` keeps the larger of the two), so every crawl the bench spawned
reported at least the bench's own peak, ~120-150 MB once it had read a crawl's Parquet: a crawl
whose own peak grew from 100 to 140 MB would have shown no growth at all. ``VmHWM`` in
``/proc/self/status`` is the high-water RSS of this process's own memory, and
``RUSAGE_CHILDREN`` is the largest of the children it has reaped: the pipeline worker, forked (not
spawned) and joined when the pipelines close, before ``spider_closed``. A helper program the crawl
ran (a library asking ``ldconfig``, say) is also a child; by the same rule it reads the crawl's own
peak at that moment, never more, so the larger of the two figures is still the crawl's or the
worker's own.

Stats set: ``bench/peak_rss_mb/crawl`` and ``bench/peak_rss_mb/children``. The bench lists this
extension before ``StatsFileExtension``, so both are in the stats file it reads.
"""

from __future__ import annotations

import resource
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler


def own_peak_rss_mb() -> float | None:
    """This process's high-water resident set size in MB (``VmHWM``), None where /proc lacks it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class PeakMemoryExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PeakMemoryExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        own = own_peak_rss_mb()
        if own is not None:
            stats.set_value("bench/peak_rss_mb/crawl", round(own, 1))
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        stats.set_value("bench/peak_rss_mb/children", round(children, 1))
