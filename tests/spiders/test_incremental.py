"""Incremental crawling over real Parquet: a second crawl of an unchanged source costs one listing
request, fetches no article and stores nothing; ``refresh=1`` fetches again; no ``since`` means the
watermark's window.

Each source runs with the full pipelines twice in one data folder (module-scoped: crawls cost seconds).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawlkit import CrawlResult, run_crawl
from xinpi.emulator.server import Emulator

WINDOW = {"since": "2025-01-01", "until": "2026-12-31"}


def _new(result: CrawlResult, what: str = "documents") -> int:
    return int(result.stats.get(f"xinpi/{what}/new", 0))


def _twice(emulator: Emulator, workdir: Path, spider: str, count: dict[str, tuple[str, str]],
           **kw) -> dict:
    """Run ``spider`` twice in ``workdir``; ``count`` names request patterns (host, regex) to tally."""
    out: dict = {}
    for run in ("first", "second"):
        emulator.clear()
        result = run_crawl(spider, emulator.url, workdir, pipelines=True, **kw)
        assert result.returncode == 0, result.log[-2000:]
        out[run] = result
        out[f"{run}_requests"] = {k: emulator.count(*v) for k, v in count.items()}
    return out


# --- cs: static channel pages ------------------------------------------------------------------
CS = "www.cs.com.cn"
CS_COUNT = {"lists": (CS, r"^/gppd/zqxw/(index_\d+\.shtml)?$"), "articles": (CS, r"/t\d{8}_\d+\.html$")}


@pytest.fixture(scope="module")
def cs_runs(emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> dict:
    workdir = tmp_path_factory.mktemp("inc-cs")
    runs = _twice(emulator_server, workdir, "cs", CS_COUNT, args=WINDOW)
    runs["workdir"] = workdir
    return runs


def test_cs_second_run_makes_one_listing_request_and_stores_nothing(cs_runs) -> None:
    first, second = cs_runs["first"], cs_runs["second"]
    assert _new(first) >= 5 and cs_runs["first_requests"]["lists"] > 1  # the first run paged
    assert cs_runs["second_requests"] == {"lists": 1, "articles": 0}
    assert _new(second) == 0 and not second.documents()
    assert second.stats.get("xinpi/incremental/stopped_paging") == 1
    assert second.stats.get("xinpi/incremental/known_skipped", 0) >= 1


def test_cs_refresh_fetches_the_articles_again(cs_runs, emulator: Emulator) -> None:
    refresh = {**WINDOW, "refresh": "1"}
    result = run_crawl("cs", emulator.url, cs_runs["workdir"], pipelines=True, args=refresh)
    assert result.returncode == 0
    assert emulator.count(*CS_COUNT["articles"]) == cs_runs["first_requests"]["articles"]
    assert emulator.count(*CS_COUNT["lists"]) == cs_runs["first_requests"]["lists"]
    assert "xinpi/incremental/known_skipped" not in result.stats
    assert _new(result) == 0  # fetched again, but unchanged: the dedupe stage stores nothing new


def test_cs_without_since_starts_at_the_watermark(cs_runs, emulator: Emulator) -> None:
    result = run_crawl("cs", emulator.url, cs_runs["workdir"], pipelines=True)
    assert result.returncode == 0
    assert result.stats["xinpi/window/origin"] == "watermark"
    # newest stored cs story is 2025-11-21; the window starts XINPI_OVERLAP_DAYS (2) before it
    assert result.stats["xinpi/window/since"] == "2025-11-19"
    assert emulator.count(*CS_COUNT["lists"]) == 1 and emulator.count(*CS_COUNT["articles"]) == 0
