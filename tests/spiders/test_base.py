"""The base spider's incremental guard: a crawl that died must not let the next one stop early."""

from __future__ import annotations

import datetime as dt

from crawlkit import run_crawl
from xinpi.state import mark_running, unfinished_runs

WINDOW = {"since": "2025-01-01", "until": "2025-12-31"}


def test_after_a_crawl_died_the_next_walks_every_listing_page(emulator, tmp_path) -> None:
    first = run_crawl("cs", emulator.url, tmp_path, args=WINDOW, pipelines=True,
                      settings={"XINPI_CS_CHANNELS": ["gppd/zqxw"]})
    assert first.returncode == 0 and first.stats.get("xinpi/documents/new", 0) > 0, first.log[-2000:]
    data = tmp_path / "data"
    assert unfinished_runs(data, "cs") == []  # a clean finish leaves no marker

    # A crawl that was killed leaves its marker behind.
    mark_running(data, "cs", dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    emulator.clear()
    again = run_crawl("cs", emulator.url, tmp_path, args=WINDOW, pipelines=True,
                      settings={"XINPI_CS_CHANNELS": ["gppd/zqxw"]})
    assert again.returncode == 0, again.log[-2000:]
    assert again.stats.get("xinpi/incremental/unfinished_before") == 1
    assert "xinpi/incremental/stopped_paging" not in again.stats
    listing = emulator.count("www.cs.com.cn", r"^/gppd/zqxw/(index_\d+\.shtml)?$")
    assert listing > 1
    assert emulator.count("www.cs.com.cn", r"\.html$") == 0  # stored articles are still not fetched
    assert again.stats.get("xinpi/documents/new", 0) == 0
    assert unfinished_runs(data, "cs") == []  # this clean finish cleared the dead crawl's marker

    # With no dead crawl behind it, the next quiet run stops after one listing page.
    emulator.clear()
    quiet = run_crawl("cs", emulator.url, tmp_path, args=WINDOW, pipelines=True,
                      settings={"XINPI_CS_CHANNELS": ["gppd/zqxw"]})
    assert quiet.stats.get("xinpi/incremental/stopped_paging") == 1
    assert emulator.count("www.cs.com.cn", r"^/gppd/zqxw/") == 1


def test_every_news_spider_links_syndicated_copies_by_story_id(emulator, tmp_path) -> None:
    """cs and stcn both carry the same 证券日报 story: their copies share one story_id.

    The id comes from the normalise stage in the pipeline worker, so the crawls run the whole
    pipeline and the feed holds the processed documents."""
    by_source = {}
    for spider in ("cs", "stcn"):
        result = run_crawl(spider, emulator.url, tmp_path / spider, args={**WINDOW, "all": "1"},
                           pipelines=True)
        assert result.returncode == 0, result.log[-2000:]
        docs = result.documents()
        assert docs and all(d["extra"].get("story_id") for d in docs)
        by_source[spider] = {d["extra"]["story_id"]: d["title"] for d in docs}
    shared = set(by_source["cs"]) & set(by_source["stcn"])
    assert len(shared) >= 1


def test_an_unattended_crawl_opens_no_debugging_console(emulator, tmp_path) -> None:
    """Nightly crawls run unattended: no telnet console, no RemoteControl code endpoint."""
    result = run_crawl("cs", emulator.url, tmp_path, args=WINDOW,
                       settings={"XINPI_CS_CHANNELS": ["gppd/zqxw"]})
    assert result.returncode == 0, result.log[-2000:]
    assert result.stats.get("item_scraped_count", 0) > 0  # a real crawl, not one that stopped early
    assert "Telnet console listening" not in result.log
    assert "Remote control HTTP server" not in result.log
    assert "remote_control.RemoteControl" not in result.log  # not even in the enabled extensions
