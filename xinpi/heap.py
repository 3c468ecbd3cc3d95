"""Keep the garbage collector off the objects a crawl imports before it starts fetching, and run
its young collections less often while the crawl runs.

Why: a crawl process holds ~115,000 objects before the first request (Scrapy, Twisted, lxml, every
spider module, the extractors' language data), against ~95,000 for a bare Scrapy spider. CPython's
full collections walk all of them, several times per crawl, although none of them ever becomes
garbage. Measured on the 2,000-document bulk crawl (``benchmarks/crawl_bench.py``): the crawl
process spent ~0.43 s in full collections with the spider alone and ~0.70 s with the pipeline
worker's results coming back, of 8-9 s. ``gc.freeze()`` moves everything alive at that point to a
permanent generation that collections skip, which took those to ~0.25 and ~0.30 s.

When: at ``spider_opened``, after collecting the young generations, so that garbage made while the
crawler was built is not frozen with the rest. Not a full collection: on this heap it costs
0.13-0.20 s (measured at the bulk crawl's open, inside the crawl's time) and found nothing, as
start-up objects that reach the oldest generation are the long-lived ones; garbage frozen anyway is
only held until ``spider_closed`` unfreezes. That unfreeze lets a process that runs several crawls
one after another (the flow's tests, ``CrawlerProcess``) free each crawl's objects; such a process
collects fully at the next open, or the previous crawl's dead objects would be held through this
one. The pipeline worker forks before that signal and freezes its own inherited heap
(:mod:`xinpi.pipelines.worker`).

The cost: an object alive at spider open that dies later is not collected if it sits in a reference
cycle (plain reference counting still frees everything else). Start-up objects live for the whole
crawl, so that is bytes. ``XINPI_GC_FREEZE = False`` turns this off.

The second lever, :class:`YoungGenerationThresholdExtension`: how often the young generation is
collected. CPython 3.11 collects it whenever net container allocations (allocations less frees)
pass 700. A crawl keeps thousands of containers in flight: Requests queued, Responses and items
waiting for the pipeline worker, their Deferreds and dicts. At 700 the full crawl of the bulk
benchmark ran ~650 young collections (~0.45 s on a slow VM), each walking those live objects again.
At 5,000 it still ran ~50 young and ~4 middle collections, 0.05-0.07 s of a ~2 s crawl on a faster
VM, while the spider with no pipelines (whose items die at once) ran 6. At 50,000 the same crawl
runs one (~2 ms): the threshold sits above what is in flight, so a collection comes only when
allocations pile up. Ten rotated rounds on that VM: full crawl median 1.93 s at 50,000, 1.98 s at
20,000 (3 collections), 2.00 s at 5,000; peak RSS of the 10,000-document crawl 159.5 MB against
159.1 MB. Earlier, on the slow VM, 5,000 beat 700 in four interleaved A/B runs (median 7.14-7.61 s
against 7.28-8.01 s). A larger young generation costs memory only for cyclic garbage it has not
reached yet, and a whole crawl makes ~600 such objects.
"""

from __future__ import annotations

import gc
import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)

#: Whether a crawl in this process has already unfrozen its heap (the freeze is process-wide).
_crawled_before = False


class FreezeStartupHeapExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.frozen = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FreezeStartupHeapExtension:
        if not crawler.settings.getbool("XINPI_GC_FREEZE", True):
            raise NotConfigured("XINPI_GC_FREEZE is off")
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        gc.collect(2 if _crawled_before else 1)
        gc.freeze()
        self.frozen = True
        count = gc.get_freeze_count()
        self.crawler.stats.set_value("xinpi/gc/frozen_objects", count)
        logger.debug("froze %d start-up objects out of the garbage collector's reach", count)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        global _crawled_before
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
            _crawled_before = True


class YoungGenerationThresholdExtension:
    """Collect the young generation every ``XINPI_GC_YOUNG_THRESHOLD`` allocations while a crawl runs.

    Set at ``spider_opened`` and put back at ``spider_closed``, so that a process running other work
    after the crawl (tests, a flow) keeps Python's own setting. Only the crawl process: the pipeline
    worker is forked before that signal and keeps Python's threshold (its collections took ~35 ms
    of its ~1.05 s of CPU on the bulk benchmark, and 50,000 there changed nothing measurable).
    ``0`` leaves the threshold alone.
    """

    def __init__(self, crawler: Crawler, threshold: int) -> None:
        self.crawler = crawler
        self.threshold = threshold
        self.saved: tuple[int, ...] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> YoungGenerationThresholdExtension:
        threshold = crawler.settings.getint("XINPI_GC_YOUNG_THRESHOLD", 0)
        if threshold <= 0:
            raise NotConfigured("XINPI_GC_YOUNG_THRESHOLD is 0")
        ext = cls(crawler, threshold)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.saved = gc.get_threshold()
        gc.set_threshold(self.threshold, *self.saved[1:])
        self.crawler.stats.set_value("xinpi/gc/young_threshold", gc.get_threshold()[0])

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.saved is not None:
            gc.set_threshold(*self.saved)
            self.saved = None
