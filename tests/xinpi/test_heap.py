"""The start-up heap freeze: frozen at spider open (after collecting the young garbage), released at close;
and the young generation's threshold: raised while the spider runs, put back at close."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from scrapy import Spider, signals
from scrapy.exceptions import NotConfigured
from scrapy.signalmanager import SignalManager
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from xinpi import heap
from xinpi import settings as project_settings
from xinpi.emulator.sites import bulk
from xinpi.heap import FreezeStartupHeapExtension, YoungGenerationThresholdExtension


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def crawler_and_spider() -> Iterator[tuple]:
    crawler = get_crawler(Spider)
    crawler.signals = SignalManager(object())  # a sender of its own: no other extension's receivers
    crawler.stats = MemoryStatsCollector(crawler)
    spider = Spider("heap-test")
    yield crawler, spider
    gc.unfreeze()  # whatever a failing test left frozen


def _open_close(crawler, spider) -> tuple[FreezeStartupHeapExtension, int, int]:
    ext = FreezeStartupHeapExtension.from_crawler(crawler)
    crawler.signals.send_catch_log(signals.spider_opened, spider=spider)
    while_open = gc.get_freeze_count()
    crawler.signals.send_catch_log(signals.spider_closed, spider=spider, reason="finished")
    return ext, while_open, gc.get_freeze_count()


def test_the_heap_is_frozen_while_the_spider_runs_and_released_at_close(crawler_and_spider) -> None:
    crawler, spider = crawler_and_spider
    assert gc.get_freeze_count() == 0
    ext, while_open, after = _open_close(crawler, spider)
    assert while_open > 1000  # everything imported so far: Scrapy, pytest, this module ...
    assert after == 0 and not ext.frozen
    # frozen objects can still die of reference counting, so the count only falls after the open
    assert crawler.stats.get_value("xinpi/gc/frozen_objects") >= while_open


def test_garbage_from_before_the_open_is_collected_not_frozen(crawler_and_spider) -> None:
    crawler, spider = crawler_and_spider
    cycle = _Cycle()
    gone = weakref.ref(cycle)
    del cycle  # unreachable, but only the cycle collector can free it
    gc.disable()  # no automatic collection may do the extension's work before the signal
    try:
        alive_before = gone() is not None
        ext = FreezeStartupHeapExtension.from_crawler(crawler)  # kept: receivers are weak references
        crawler.signals.send_catch_log(signals.spider_opened, spider=spider)
        assert alive_before and gone() is None and ext.frozen
    finally:
        gc.enable()
        crawler.signals.send_catch_log(signals.spider_closed, spider=spider, reason="finished")


def _old_garbage() -> weakref.ref:
    """A reference cycle that is already in the oldest generation when it becomes garbage."""
    cycle = _Cycle()
    gc.collect()  # it survives (still referenced), so it is moved to the oldest generation
    gone = weakref.ref(cycle)
    del cycle
    return gone


def test_a_first_crawl_does_not_walk_the_old_generation_and_holds_its_garbage_only_until_close(
    crawler_and_spider, monkeypatch
) -> None:
    crawler, spider = crawler_and_spider
    monkeypatch.setattr(heap, "_crawled_before", False)
    gc.disable()
    try:
        gone = _old_garbage()
        ext = FreezeStartupHeapExtension.from_crawler(crawler)
        crawler.signals.send_catch_log(signals.spider_opened, spider=spider)
        assert ext.frozen and gone() is not None  # no full collection at the open: frozen with the rest
        crawler.signals.send_catch_log(signals.spider_closed, spider=spider, reason="finished")
        gc.collect()
        assert gone() is None  # unfrozen at close, so the collector takes it: held, not leaked
    finally:
        gc.enable()


def test_a_later_crawl_in_the_same_process_collects_the_previous_crawls_garbage_first(
    crawler_and_spider, monkeypatch
) -> None:
    crawler, spider = crawler_and_spider
    monkeypatch.setattr(heap, "_crawled_before", False)
    _open_close(crawler, spider)  # the first crawl of this process
    gc.disable()
    try:
        gone = _old_garbage()  # say, the first crawl's engine, dead since its close
        ext = FreezeStartupHeapExtension.from_crawler(crawler)
        crawler.signals.send_catch_log(signals.spider_opened, spider=spider)
        assert ext.frozen and gone() is None
    finally:
        gc.enable()
        crawler.signals.send_catch_log(signals.spider_closed, spider=spider, reason="finished")


def test_the_setting_turns_it_off() -> None:
    crawler = get_crawler(Spider, settings_dict={"XINPI_GC_FREEZE": False})
    with pytest.raises(NotConfigured):
        FreezeStartupHeapExtension.from_crawler(crawler)


def test_a_real_crawl_freezes_its_start_up_heap_and_raises_the_young_threshold(crawl) -> None:
    """Wired by the project settings: a zqrb crawl of 20 emulator articles reports the frozen count."""
    since, until = bulk.window(20)
    args = {"channels": bulk.channel(20), "since": str(since), "until": str(until), "all": "1"}
    result = crawl("zqrb", args=args)
    assert result.returncode == 0 and len(result.documents()) == 20
    assert result.stats["xinpi/gc/frozen_objects"] > 20_000  # Scrapy, lxml, the spiders, ...
    # read back from gc in the crawl process: the project's setting, not Python's 700
    assert result.stats["xinpi/gc/young_threshold"] == project_settings.XINPI_GC_YOUNG_THRESHOLD > 700
    off = crawl("zqrb", args=args, settings={"XINPI_GC_FREEZE": False, "XINPI_GC_YOUNG_THRESHOLD": 0})
    assert len(off.documents()) == 20
    assert "xinpi/gc/frozen_objects" not in off.stats and "xinpi/gc/young_threshold" not in off.stats


@pytest.fixture
def python_thresholds() -> Iterator[tuple[int, ...]]:
    """A known threshold before the test, and the process's own put back after it."""
    own = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*own)


def test_the_young_threshold_is_raised_while_the_spider_runs_and_put_back_at_close(
    crawler_and_spider, python_thresholds
) -> None:
    crawler, spider = crawler_and_spider
    crawler.settings = get_crawler(Spider, settings_dict={"XINPI_GC_YOUNG_THRESHOLD": 5000}).settings
    ext = YoungGenerationThresholdExtension.from_crawler(crawler)
    crawler.signals.send_catch_log(signals.spider_opened, spider=spider)
    assert gc.get_threshold() == (5000, *python_thresholds[1:])  # the older generations' untouched
    assert crawler.stats.get_value("xinpi/gc/young_threshold") == 5000
    crawler.signals.send_catch_log(signals.spider_closed, spider=spider, reason="finished")
    assert gc.get_threshold() == python_thresholds and ext.saved is None


def test_a_zero_young_threshold_leaves_python_s_own() -> None:
    crawler = get_crawler(Spider, settings_dict={"XINPI_GC_YOUNG_THRESHOLD": 0})
    with pytest.raises(NotConfigured):
        YoungGenerationThresholdExtension.from_crawler(crawler)
