"""Incremental crawling of cninfo, zqrb, sse_bond and sse_projects, with every pipeline on.

The acceptance line of the sources issue: a second run over the same window, with nothing new at
the source, costs ONE listing request per source, fetches no PDF or article, and stores nothing;
``refresh=1`` reads everything again. Each case crawls twice (three times with refresh) into one
``DATA_DIR``, the way ``make demo`` twice would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawlkit import CrawlResult, run_crawl
from xinpi.emulator.server import Emulator

TODAY = dt.date.today().isoformat()
DEMO_WINDOW = {"since": "2020-01-01", "until": TODAY}  # what `make demo` asks


@dataclass(frozen=True)
class Source:
    spider: str
    listing: tuple[str, str]  # (host, path regex) of listing requests
    fetches: tuple[str, str] | None  # (host, path regex) of PDF/article requests, if the source has any
    written: str  # the stats key counting rows landed in Parquet


SOURCES = [
    Source("cninfo", ("www.cninfo.com.cn", r"^/new/hisAnnouncement/query$"),
           ("static.cninfo.com.cn", r"\.PDF$"), "xinpi/documents/written"),
    Source("zqrb", ("www.zqrb.cn", r"/index(?:_p\d+)?\.html$"),
           ("www.zqrb.cn", r"/A\d{13}\.html$"), "xinpi/documents/written"),
    Source("sse_bond", ("query.sse.com.cn", r"commonSoaQuery"),
           ("www.sse.com.cn", r"\.pdf$"), "xinpi/documents/written"),
    Source("sse_projects", ("query.sse.com.cn", r"commonSoaQuery"), None, "xinpi/projects/written"),
]


def _run(source: Source, emulator: Emulator, workdir: Path, **args: str) -> tuple[CrawlResult, int, int]:
    """One crawl with pipelines; returns it with its listing and fetch request counts."""
    emulator.clear()
    result = run_crawl(source.spider, emulator.url, workdir, args={**DEMO_WINDOW, **args}, pipelines=True)
    assert result.returncode == 0, result.log[-3000:]
    listing = emulator.count(*source.listing)
    fetches = emulator.count(*source.fetches) if source.fetches else 0
    return result, listing, fetches


@pytest.mark.parametrize("source", SOURCES, ids=[s.spider for s in SOURCES])
def test_a_quiet_second_run_costs_one_listing_request_and_stores_nothing(
    source: Source, emulator: Emulator, tmp_path: Path
) -> None:
    first, first_listing, first_fetches = _run(source, emulator, tmp_path)
    stored = first.stats.get(source.written, 0)
    assert stored >= 5, f"the first run should land the fixture rows, got {stored}"
    if source.fetches:
        assert first_fetches >= 5

    second, listing, fetches = _run(source, emulator, tmp_path)
    assert listing == 1, f"{source.spider}: {listing} listing requests on a quiet run"
    assert fetches == 0
    assert second.stats.get(source.written, 0) == 0
    assert second.stats["xinpi/incremental/stopped_paging"] == 1
    assert second.stats["xinpi/incremental/known_skipped"] >= 1
    assert second.failures() == [] and second.items == []

    if source.spider in ("cninfo", "sse_projects"):  # one documents source, one register: keep it fast
        again, listing, fetches = _run(source, emulator, tmp_path, refresh="1")
        assert listing == first_listing and fetches == first_fetches
        assert "xinpi/incremental/stopped_paging" not in again.stats
        assert again.stats.get(source.written, 0) == 0  # the same content is not stored twice
        seen = source.written.replace("/written", "/seen")  # the dedupe stage met them all again
        assert again.stats[seen] == stored


def test_a_new_story_is_fetched_and_paging_still_stops(emulator: Emulator, tmp_path: Path) -> None:
    """Only what is not stored yet is fetched: one stored document is removed from the data first."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    zqrb = SOURCES[1]
    first, _, first_fetches = _run(zqrb, emulator, tmp_path)
    files = sorted((tmp_path / "data" / "documents").rglob("*.parquet"))
    table = ds.dataset([str(f) for f in files], format="parquet").to_table()
    newest = max(table.to_pylist(), key=lambda r: r["published_at"])["doc_id"]
    for f in files:  # forget the newest document, as if it had appeared at the source since
        part = pq.read_table(f)
        pq.write_table(part.filter(ds.field("doc_id") != newest), f)

    second, listing, fetches = _run(zqrb, emulator, tmp_path)
    assert fetches == 1 and [d["doc_id"] for d in second.documents()] == [newest]
    assert listing == 2  # page 1 held the new story; page 2 is all stored and ends the paging
    assert second.stats["xinpi/incremental/stopped_paging"] == 1
    assert first_fetches > fetches
