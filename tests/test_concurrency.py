"""Orchestrators misbehave: two crawls of one source at once, a crawl killed half-way. The data stays exact.

Real crawls (subprocesses through ``run_crawl``) of the zqrb spider against the emulator, all four
pipelines on, sharing one ``DATA_DIR``. Article pages are slowed down so the two crawls overlap for
seconds, not by luck.
"""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from crawlkit import CrawlResult, run_crawl
from xinpi.emulator.server import Emulator
from xinpi.pipelines.lock import FileLock, lock_dir

SOURCE = "zqrb"
ARGS = {"since": "2020-01-01", "until": "2026-12-31", "all": "1"}
ARTICLE = r"/A\d{13}\.html$"  # zqrb article pages (listings stay fast)

pytestmark = pytest.mark.slow


def _crawl(emulator: Emulator, workdir: Path, data: Path, **settings: object) -> CrawlResult:
    return run_crawl(
        SOURCE, emulator.url, workdir, args=ARGS, pipelines=True,
        settings={"DATA_DIR": str(data), **settings}, timeout=240,
    )


def _together(emulator: Emulator, tmp_path: Path, data: Path, **settings: object) -> list[CrawlResult]:
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(_crawl, emulator, tmp_path / f"run{i}", data, **settings) for i in (1, 2)]
        return [f.result() for f in futures]


def _sql(data: Path, sql: str) -> list[tuple]:
    return duckdb.sql(sql.replace("DATA", str(data))).fetchall()


def _contents(data: Path) -> set[tuple]:
    return set(_sql(data, "select doc_id, version, content_sha256 from 'DATA/documents/**/*.parquet'"))


def _mention_keys(data: Path) -> list[tuple]:
    if not (data / "mentions").exists():
        return []
    return sorted(_sql(
        data, "select doc_id, version, deal_name, name_span from 'DATA/mentions/**/*.parquet'"
    ), key=repr)


def _assert_exact(data: Path) -> None:
    """No document version twice, and mentions are exactly those of the stored versions."""
    dupes = _sql(data, "select doc_id, version, count(*) from 'DATA/documents/**/*.parquet' "
                       "group by 1, 2 having count(*) > 1")
    assert dupes == []
    assert len({(d, s) for d, _, s in _contents(data)}) == len(_contents(data))
    keys = _mention_keys(data)
    assert len(keys) == len(set(map(repr, keys))), "a mention row stored twice"
    expected = _sql(data, "select coalesce(sum(n_mentions), 0) from 'DATA/documents/**/*.parquet'")[0][0]
    assert len(keys) == expected


@pytest.fixture
def slow_articles(emulator: Emulator) -> Emulator:
    emulator.add_fault("slow", host="www.zqrb.cn", path_regex=ARTICLE, delay=0.4, times=-1)
    return emulator


@pytest.fixture(scope="module")
def single_run(emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What one uninterrupted, unhindered crawl stores: the reference the others must equal."""
    emulator_server.clear()
    workdir = tmp_path_factory.mktemp("single")
    result = _crawl(emulator_server, workdir, workdir / "data")
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["xinpi/documents/written"] > 5, "the fixture source must give a real crawl"
    return workdir / "data"


def test_second_crawl_of_a_source_skips_while_the_first_runs(slow_articles, tmp_path, single_run):
    data = tmp_path / "data"
    results = _together(slow_articles, tmp_path, data)
    assert all(r.returncode == 0 for r in results), [r.log[-2000:] for r in results]
    by_lock = {r.stats.get("xinpi/lock"): r for r in results}
    assert set(by_lock) == {"acquired", "skipped"}, [r.stats.get("xinpi/lock") for r in results]
    ran, skipped = by_lock["acquired"], by_lock["skipped"]
    assert skipped.stats["finish_reason"] == "locked" and ran.stats["finish_reason"] == "finished"
    assert skipped.stats.get("downloader/request_count", 0) == 0  # skipped before fetching anything
    assert f"another crawl of {SOURCE} is running (pid " in skipped.log and "skipping" in skipped.log
    holder = skipped.stats["xinpi/lock/holder"]
    assert isinstance(holder["pid"], int) and holder["pid"] != os.getpid() and holder["source"] == SOURCE
    _assert_exact(data)
    assert _contents(data) == _contents(single_run)
    assert _mention_keys(data) == _mention_keys(single_run)
    # released when the crawl closed: the next crawl gets the lock (and finds everything stored)
    again = _crawl(slow_articles, tmp_path / "run3", data)
    assert again.stats["xinpi/lock"] == "acquired" and again.stats["finish_reason"] == "finished"
    assert "xinpi/documents/written" not in again.stats


def test_double_fire_without_the_lock_still_stores_each_version_once(slow_articles, tmp_path, single_run):
    data = tmp_path / "data"
    # small batches, so the two writers' commits interleave instead of landing at close
    results = _together(slow_articles, tmp_path, data, XINPI_LOCK_ENABLED="False", PARQUET_BATCH_SIZE=2)
    assert all(r.returncode == 0 for r in results), [r.log[-2000:] for r in results]
    assert [r.stats.get("xinpi/lock") for r in results] == ["disabled", "disabled"]
    # both really ran and fetched everything (nothing was stored when they started) ...
    singles = _contents(single_run)
    assert all(r.stats.get("downloader/request_count", 0) >= len(singles) for r in results)
    # ... and between them stored each document once: what one stored meanwhile, the other dropped
    # (at its commit re-check, or at dedupe once its index had caught up with the other's files)
    written = [r.stats.get("xinpi/documents/written", 0) for r in results]
    dropped = [r.stats.get("xinpi/documents/dropped_concurrent", 0) + r.stats.get("xinpi/documents/seen", 0)
               for r in results]
    assert sum(written) == len(singles) and sum(dropped) == len(singles)
    # Which of the two checks drops a copy depends on timing: one already in the store when the
    # copy passes dedupe is "seen"; one stored between dedupe and commit is "dropped_concurrent"
    # (the pipeline worker hands items over in bursts, which often makes it the first).
    # tests/pipelines/test_commit_recheck.py pins the commit-time path on its own.
    _assert_exact(data)
    assert _contents(data) == singles
    assert _mention_keys(data) == _mention_keys(single_run)
    n_docs = _sql(data, "select count(*) from 'DATA/documents/**/*.parquet'")[0][0]
    assert n_docs == _sql(single_run, "select count(*) from 'DATA/documents/**/*.parquet'")[0][0]


def _holder_pid(data: Path, deadline: float) -> int:
    lock = data / "_state" / "locks" / f"{SOURCE}.lock"
    while time.monotonic() < deadline:
        try:
            return int(json.loads(lock.read_text("utf-8"))["pid"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.05)
    raise AssertionError("the crawl never took its lock")


def _documents_landed(data: Path) -> int:
    return len([p for p in (data / "documents").rglob("*.parquet")]) if (data / "documents").exists() else 0


def test_crawl_killed_mid_way_then_rerun_equals_an_uninterrupted_run(slow_articles, tmp_path, single_run):
    data = tmp_path / "data"
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(_crawl, slow_articles, tmp_path / "killed", data, PARQUET_BATCH_SIZE=2)
        deadline = time.monotonic() + 120
        pid = _holder_pid(data, deadline)  # the crawl writes its pid into the lock file
        while _documents_landed(data) == 0 and time.monotonic() < deadline and not future.done():
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)
        killed = future.result()
    assert killed.returncode == -signal.SIGKILL, killed.log[-2000:]
    landed = _contents(data)
    assert 0 < len(landed) < len(_contents(single_run)), "killed after the first batch, before the end"
    _assert_exact(data)  # what a killed crawl leaves is consistent already

    slow_articles.clear()
    rerun = _crawl(slow_articles, tmp_path / "rerun", data)
    assert rerun.returncode == 0 and rerun.stats["finish_reason"] == "finished", rerun.log[-2000:]
    assert rerun.stats["xinpi/lock"] == "acquired"  # the dead crawl's flock went with it
    _assert_exact(data)
    assert _contents(data) == _contents(single_run)
    assert _mention_keys(data) == _mention_keys(single_run)


def test_waiting_crawl_runs_once_the_lock_is_free_and_skips_if_it_never_is(emulator, tmp_path):
    data = tmp_path / "data"
    held = FileLock(lock_dir(data) / f"{SOURCE}.lock")
    assert held.try_acquire()
    held.write_holder({"pid": 4242, "host": "elsewhere", "started_at": "2025-01-01T00:00:00+00:00"})
    t0 = time.monotonic()
    gave_up = _crawl(emulator, tmp_path / "gave-up", data, XINPI_LOCK_WAIT_SECONDS=1.5,
                     XINPI_LOCK_POLL_SECONDS=0.2)
    assert gave_up.stats["xinpi/lock"] == "skipped" and gave_up.stats["finish_reason"] == "locked"
    assert "another crawl of zqrb is running (pid 4242 on elsewhere" in gave_up.log
    startup = time.monotonic() - t0  # a whole skipped crawl: start-up, 1.5 s of polling, close
    assert startup >= 1.5
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(_crawl, emulator, tmp_path / "waited", data, XINPI_LOCK_WAIT_SECONDS=60,
                             XINPI_LOCK_POLL_SECONDS=0.2)
        time.sleep(startup + 1)  # the crawl is up and polling by now
        held.release()
        waited = future.result()
    assert waited.stats["xinpi/lock"] == "acquired" and waited.stats["finish_reason"] == "finished"
    assert waited.stats["xinpi/lock/waited_seconds"] > 0
    assert waited.stats["xinpi/documents/written"] > 0
