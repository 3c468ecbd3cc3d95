"""The wiring in xinpi/settings.py: a real crawl (subprocess, emulator) through all four pipelines."""

from __future__ import annotations

import duckdb
import pytest

WINDOW = {"since": "2025-01-01", "until": "2026-12-31"}


@pytest.mark.slow
def test_cninfo_crawl_twice_lands_each_document_once(crawl, tmp_path):
    first = crawl("cninfo", args=WINDOW, pipelines=True, workdir=tmp_path)
    assert first.returncode == 0, first.log[-3000:]
    new = first.stats["xinpi/documents/new"]
    assert new > 0 and first.stats["xinpi/documents/written"] == new
    # refresh=1: fetch every stored document again (an incremental crawl would not even ask for
    # them), so that it is dedupe that keeps them from landing twice
    second = crawl("cninfo", args={**WINDOW, "refresh": "1"}, pipelines=True, workdir=tmp_path)
    assert second.returncode == 0, second.log[-3000:]
    assert second.stats["xinpi/documents/seen"] == new
    assert "xinpi/documents/written" not in second.stats
    data = first.data_dir
    rows = duckdb.sql(
        f"select count(*), count(distinct doc_id) from '{data}/documents/**/*.parquet'"
    ).fetchall()
    assert rows == [(new, new)]
    mentions = duckdb.sql(f"select count(*) from '{data}/mentions/**/*.parquet'").fetchall()[0][0]
    assert mentions == first.stats.get("xinpi/mentions", 0)
    n_failures = duckdb.sql(f"select count(*) from '{data}/failures/**/*.parquet'").fetchall()[0][0]
    written = [run.stats.get("xinpi/failures/written", 0) for run in (first, second)]
    assert n_failures == sum(written)
