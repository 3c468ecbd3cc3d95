"""Crash safety of the data directory: readers never see a partial file, batches commit whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from xinpi.extractors import deals
from xinpi.extractors.deals import Extraction
from xinpi.pipelines import store as store_mod
from xinpi.pipelines.store import DataStore


def test_engines_glob_hidden_files_so_temps_must_live_outside_datasets(tmp_path):
    """Why temps go to DATA_DIR/.staging: a dot-file inside a dataset IS read by duckdb and polars."""
    part = tmp_path / "documents" / "source=a"
    part.mkdir(parents=True)
    pq.write_table(pa.table({"x": [1]}), part / "part-1.parquet")
    (part / ".part-2.parquet").write_bytes(b"PAR1 half written")
    with pytest.raises(Exception):  # noqa: B017 - each engine raises its own error type
        duckdb.sql(f"select count(*) from '{tmp_path}/documents/**/*.parquet'").fetchall()
    with pytest.raises(Exception):  # noqa: B017
        pl.scan_parquet(f"{tmp_path}/documents/**/*.parquet").collect()


def _visible_files(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.rglob("*.parquet") if ".staging" not in p.parts]


def _assert_all_readable(data_dir: Path) -> int:
    """Every visible file reads in pyarrow, duckdb and polars; returns the number of documents."""
    for path in _visible_files(data_dir):
        pq.read_table(path)  # raises on a truncated file
    counts = {"documents": 0}
    for dataset in ("documents", "mentions"):
        if (data_dir / dataset).exists():
            glob = f"{data_dir}/{dataset}/**/*.parquet"
            n = duckdb.sql(f"select count(*) from read_parquet('{glob}')").fetchall()[0][0]
            assert pl.scan_parquet(glob).select(pl.len()).collect().item() == n
            counts[dataset] = n
    return counts["documents"]


def test_write_failing_midway_leaves_no_visible_file(run, make_doc, data_dir, monkeypatch):
    real = pq.write_table
    calls = {"n": 0}

    def flaky(table, where, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # the second file of the flush: half written, then the disk is full
            where.write(b"PAR1" + b"\0" * 1000)
            raise OSError(28, "No space left on device")
        return real(table, where, **kw)

    monkeypatch.setattr(store_mod.pq, "write_table", flaky)
    r = run()
    r.feed(make_doc(1), make_doc(2, published_at=None))  # two date partitions: two files
    stats = r.close()
    assert stats["xinpi/failures/write"] == 1
    assert "xinpi/documents/written" not in stats
    assert _visible_files(data_dir) == []
    assert list((data_dir / ".staging").rglob("*.tmp")) == []
    monkeypatch.setattr(store_mod.pq, "write_table", real)
    r2 = run()  # nothing was stored, so the next run stores the documents as new
    r2.feed(make_doc(1), make_doc(2, published_at=None))
    assert r2.close()["xinpi/documents/new"] == 2
    assert _assert_all_readable(data_dir) == 2


def test_crash_between_moves_is_completed_by_the_next_run(run, make_doc, data_dir, monkeypatch):
    """Killed after the mentions were published but before the documents: the journal finishes it."""
    real = store_mod._publish
    moved = {"n": 0}

    def dying(tmp, final):
        if "documents" in final.parts:
            raise KeyboardInterrupt("process killed")
        moved["n"] += 1
        return real(tmp, final)

    monkeypatch.setattr(store_mod, "_publish", dying)
    monkeypatch.setattr(
        deals, "extract_document", lambda doc_id, *_: Extraction([{"deal_name": f"{doc_id}计划"}], [])
    )
    r = run()
    r.feed(make_doc(1), make_doc(2, published_at=None))
    with pytest.raises(KeyboardInterrupt):
        r.close()
    assert moved["n"] >= 1
    assert list((data_dir / "documents").rglob("*.parquet")) == []  # mentions only, until recovery
    monkeypatch.setattr(store_mod, "_publish", real)
    assert DataStore(data_dir).recover() >= 1
    docs = ds.dataset(data_dir / "documents", format="parquet").to_table().column("doc_id").to_pylist()
    assert sorted(docs) == ["cninfo:1", "cninfo:2"]
    mentions = ds.dataset(data_dir / "mentions", format="parquet").to_table().column("doc_id").to_pylist()
    assert sorted(mentions) == ["cninfo:1", "cninfo:2"]
    assert list((data_dir / ".staging").rglob("*")) == []
    # and the recovered documents count as stored for the next run
    r2 = run()
    r2.feed(make_doc(1), make_doc(2, published_at=None))
    assert r2.close()["xinpi/documents/seen"] == 2


WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    sys.path.insert(0, {tests!r})
    from conftest import PipelineRun, doc
    from xinpi.extractors import deals
    # the writer is under test, not the extractor: one cheap mention per document
    deals.extract_document = lambda d, *_: deals.Extraction([{{"deal_name": d + "计划"}}], [])
    r = PipelineRun({data!r}, PARQUET_BATCH_SIZE=300)
    body = "发行规模为3亿元。" * 300
    for i in range(100_000):
        r.feed(doc(i, text=body + str(i)))
    """
)


def test_sigkill_during_large_writes_leaves_only_complete_files(tmp_path):
    data = tmp_path / "data"
    script = WRITER.format(tests=str(Path(__file__).parent), data=str(data))
    for delay in (0.0, 0.17):
        before = len(_visible_files(data))
        proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_visible_files(data)) < before + 2:
            time.sleep(0.02)
        time.sleep(delay)  # land the kill at different points of a flush
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
        _assert_all_readable(data)
    DataStore(data).recover()
    n_docs = _assert_all_readable(data)
    docs = pl.scan_parquet(f"{data}/documents/**/*.parquet")
    assert docs.select(pl.col("doc_id").n_unique()).collect().item() == docs.select(pl.len()).collect().item()
    assert n_docs >= 300
    expected = ds.dataset(data / "documents", format="parquet").to_table(columns=["n_mentions"])
    n_mentions = 0
    if (data / "mentions").exists():
        n_mentions = ds.dataset(data / "mentions", format="parquet").count_rows()
    assert n_mentions == sum(expected.column("n_mentions").to_pylist())
