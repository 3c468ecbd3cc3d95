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


# --- sina: JSON roll feed ------------------------------------------------------------------------
SINA_COUNT = {"lists": ("feed.mix.sina.com.cn", r"^/api/roll/get$"), "articles": ("finance.sina.com.cn", r"")}


@pytest.fixture(scope="module")
def sina_runs(emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> dict:
    workdir = tmp_path_factory.mktemp("inc-sina")
    # 3 rows a page so the first run pages; the fresh (age_minutes) rows are in the window too
    runs = _twice(emulator_server, workdir, "sina", SINA_COUNT, args=WINDOW,
                  settings={"XINPI_SINA_PAGE_SIZE": 3})
    runs["workdir"] = workdir
    return runs


def test_sina_second_run_makes_one_listing_request_and_stores_nothing(sina_runs) -> None:
    first, second = sina_runs["first"], sina_runs["second"]
    assert _new(first) >= 3 and sina_runs["first_requests"]["lists"] > 1
    assert sina_runs["second_requests"] == {"lists": 1, "articles": 0}
    assert _new(second) == 0 and not second.documents()
    assert second.stats.get("xinpi/incremental/stopped_paging") == 1


def test_sina_refresh_fetches_the_articles_again(sina_runs, emulator: Emulator) -> None:
    result = run_crawl("sina", emulator.url, sina_runs["workdir"], pipelines=True,
                       args={**WINDOW, "refresh": "1"}, settings={"XINPI_SINA_PAGE_SIZE": 3})
    assert result.returncode == 0
    assert emulator.count(*SINA_COUNT["articles"]) == sina_runs["first_requests"]["articles"] > 0
    assert _new(result) == 0


def test_sina_without_since_starts_at_the_watermark(sina_runs, emulator: Emulator) -> None:
    result = run_crawl("sina", emulator.url, sina_runs["workdir"], pipelines=True)
    assert result.returncode == 0
    assert result.stats["xinpi/window/origin"] == "watermark"
    assert emulator.count(*SINA_COUNT["lists"]) == 1 and emulator.count(*SINA_COUNT["articles"]) == 0


# --- szse_projects: register rows keyed by (project, status) -------------------------------------
BOND = "bond.szse.cn"


def _register_requests(emulator: Emulator) -> dict[str, int]:
    catalogs = [r.query.get("CATALOGID", [""])[0] for r in emulator.requests if r.host == BOND]
    return {"lists": catalogs.count("xmjdxx"), "details": catalogs.count("xmjdxx_xq")}


def test_szse_projects_second_run_lists_once_and_fetches_no_detail(emulator: Emulator, tmp_path: Path):
    small = {"XINPI_SZSE_PROJECT_PAGE_SIZE": 5}  # 14 projects: 3 pages on the first run
    first = run_crawl("szse_projects", emulator.url, tmp_path, pipelines=True, settings=small)
    assert first.returncode == 0, first.log[-2000:]
    assert _new(first, "projects") == 14 and _register_requests(emulator) == {"lists": 3, "details": 14}
    emulator.clear()
    second = run_crawl("szse_projects", emulator.url, tmp_path, pipelines=True, settings=small)
    assert second.returncode == 0
    assert _register_requests(emulator) == {"lists": 1, "details": 0}
    assert _new(second, "projects") == 0 and second.stats.get("xinpi/incremental/stopped_paging") == 1
    emulator.clear()
    again = run_crawl("szse_projects", emulator.url, tmp_path, pipelines=True, settings=small,
                      args={"refresh": "1"})
    assert _register_requests(emulator) == {"lists": 3, "details": 14} and _new(again, "projects") == 0
