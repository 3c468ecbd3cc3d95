"""The offline demo end to end, twice: what `make demo` promises a newcomer.

First run: every source yields documents, the PDFs' deal facts reach mentions/, register rows land in
projects/, and the deals table cites register, announcement and news for one deal. Second run: each
source makes one listing request and stores nothing new; the store and the deals table are unchanged.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _demo(data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xinpi.cli", "demo", "--data-dir", str(data)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)


def _latest_stats(data: Path) -> dict[str, dict]:
    run = sorted((data / "_runs").iterdir())[-1]
    return {p.name.split(".")[0]: json.loads(p.read_text("utf-8")) for p in run.glob("*.stats.json")}


def _counts(data: Path) -> dict[str, int]:
    return {
        name: duckdb.sql(f"select count(*) from read_parquet('{data}/{name}/**/*.parquet')").fetchall()[0][0]
        for name in ("documents", "mentions", "aggregates", "projects")
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("demo") / "data"
    first = _demo(data)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    counts, stats = _counts(data), _latest_stats(data)
    deals_before = {p.name: p.read_bytes() for p in (data / "deals").glob("*.parquet")}
    clock = (data / "_state" / "emulator_now").read_text("utf-8")  # fresh news is timed from this
    second = _demo(data)
    assert (data / "_state" / "emulator_now").read_text("utf-8") == clock
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    return data, first, counts, stats, deals_before, second


def test_first_run_lands_every_source_and_the_deals_they_make(demo) -> None:
    data, first, counts, stats, _, _ = demo
    spiders = subprocess.run([sys.executable, "-m", "xinpi.cli", "sources"], cwd=ROOT,
                             capture_output=True, text=True).stdout.split()
    by_source = dict(duckdb.sql(
        f"select source, count(*) from read_parquet('{data}/documents/**/*.parquet', hive_partitioning=true)"
        " group by 1").fetchall())
    assert set(by_source) == {s for s in spiders if not s.endswith("_projects")}
    assert by_source["cninfo"] + by_source["zqrb"] >= 30
    assert counts["projects"] > 0 and {r[0] for r in duckdb.sql(
        f"select distinct register from '{data}/projects/**/*.parquet'").fetchall()} == {"sse", "szse"}
    # Deal facts read out of PDF attachments reach mentions/.
    pdf_mentions = duckdb.sql(
        f"select count(*) from '{data}/mentions/**/*.parquet' m join '{data}/documents/**/*.parquet' d"
        " using (doc_id, version) where d.attachment_url ilike '%.pdf' and m.scale_yuan is not null"
    ).fetchall()[0][0]
    assert pdf_mentions > 0
    assert "Deals table:" in first.stdout
    assert "named in a register, an announcement and the news" in first.stdout
    assert pl.scan_parquet(f"{data}/documents/**/*.parquet").select(pl.len()).collect().item() == sum(
        by_source.values())
    assert all(s.get("finish_reason") == "finished" for s in stats.values())


def test_second_run_is_quiet_and_changes_nothing(demo) -> None:
    data, _, counts, _, deals_before, second = demo
    assert _counts(data) == counts
    dup = duckdb.sql(f"select doc_id from '{data}/documents/**/*.parquet' group by 1 having count(*) > 1")
    assert dup.fetchall() == []
    for source, s in _latest_stats(data).items():
        listing = s.get("downloader/request_count", 0) - s.get("robotstxt/request_count", 0)
        assert listing <= 1, f"{source} made {listing} requests on a quiet night"
        assert s.get("xinpi/documents/new", 0) == 0 and s.get("xinpi/projects/new", 0) == 0, source
    deals_after = {p.name: p.read_bytes() for p in (data / "deals").glob("*.parquet")}
    assert deals_after == deals_before and len(deals_after) == 1
