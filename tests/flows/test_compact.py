"""Compaction: one file per partition, duplicates of a double-fired run gone, nothing lost on a crash."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from flowdata import document, project, write_items

from xinpi.flows.compact import (
    DEDUP_KEYS,
    compact,
    compact_flow,
    partition_files,
    recover_all,
)
from xinpi.flows.deals import build_deals
from xinpi.pipelines.schema import DATASETS
from xinpi.pipelines.store import DataStore

COMPACTED = ("documents", "mentions", "projects")


class SimulatedCrash(Exception):
    """Stands for the process being killed at that point."""


def mention(name: str, scale: str) -> dict:
    return {"deal_name": name, "scale_yuan": Decimal(scale), "name_span": [0, len(name)]}


def fill(data_dir: Path) -> None:
    """Three writer runs into the same partitions, then the first run fired again (duplicates)."""
    first = [
        *[document(f"cninfo:{i}", "announcement", [mention(f"甲{i}号资产支持专项计划", f"{i}00000000")])
          for i in range(1, 4)],
        project("P1", "甲1号资产支持专项计划", "已受理", dt.date(2025, 2, 10)),
    ]
    write_items(data_dir, "r1", first)
    write_items(data_dir, "r2", [
        *[document(f"cninfo:{i}", "announcement", [mention(f"乙{i}号资产支持专项计划", "1e8"),
                                                    mention(f"丙{i}号资产支持专项计划", "2e8")])
          for i in range(4, 6)],
        document("stcn:1", "news", [mention("甲1号资产支持专项计划", "100000000")], day=11),
        project("P1", "甲1号资产支持专项计划", "通过", dt.date(2025, 3, 1)),
    ])
    write_items(data_dir, "r3", [
        document("stcn:2", "news", [mention("戊资产支持专项计划", "300000000")], day=11),
        project("P2", "丁资产支持专项计划", "已受理", dt.date(2025, 3, 2)),
    ])
    write_items(data_dir, "r1-again", first)  # a double-fired run: the same rows once more


def rows(data_dir: Path, dataset: str) -> list[tuple]:
    """Every visible row (run id left out: copies of one row differ only there)."""
    schema, _ = DATASETS[dataset]
    cols = [c for c in schema.names if c != "run_id"]
    table = DataStore(data_dir).read_columns(dataset, cols)
    return [tuple(_freeze(v) for v in r.values()) for r in table.to_pylist()]


def _freeze(v):
    return tuple(_freeze(x) for x in v) if isinstance(v, list) else v


def keys(data_dir: Path, dataset: str) -> Counter:
    table = DataStore(data_dir).read_columns(dataset, list(DEDUP_KEYS[dataset]))
    return Counter(tuple(_freeze(v) for v in r.values()) for r in table.to_pylist())


def file_counts(data_dir: Path, dataset: str) -> list[int]:
    return [len(files) for files in partition_files(DataStore(data_dir), dataset).values()]


def assert_compacted(data_dir: Path, before: dict[str, list[tuple]]) -> None:
    for dataset in COMPACTED:
        after = rows(data_dir, dataset)
        assert set(after) == set(before[dataset]), dataset  # no row lost, none invented
        assert len(after) == len(set(after)), dataset  # no duplicate left
        assert max(keys(data_dir, dataset).values()) == 1, dataset
        assert set(file_counts(data_dir, dataset)) == {1}, dataset
    assert not list((data_dir / ".staging").glob("*/*")), "journal or temp left behind"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def filled(data_dir: Path) -> Path:
    fill(data_dir)
    return data_dir


def test_merges_each_partition_into_one_file_and_drops_duplicates(filled: Path):
    before = {d: rows(filled, d) for d in COMPACTED}
    deals_before = build_deals(filled)
    assert file_counts(filled, "documents") == [3, 2]  # cninfo/2025-03-10 and stcn/2025-03-11
    assert max(keys(filled, "documents").values()) == 2  # the double-fired run's copies

    report = compact(filled)

    assert report["documents"] == {"partitions": 2, "compacted": 2, "skipped": 0, "files_before": 5,
                                   "files_after": 2, "rows_before": 10, "rows_after": 7}
    assert report["mentions"]["rows_before"] == 12 and report["mentions"]["rows_after"] == 9
    assert report["projects"] == {"partitions": 1, "compacted": 1, "skipped": 0, "files_before": 4,
                                  "files_after": 1, "rows_before": 4, "rows_after": 3}
    assert_compacted(filled, before)
    # the copy kept is the first written one; the deals built on top do not move
    runs = DataStore(filled).read_columns("documents", ["doc_id", "run_id"]).to_pylist()
    assert {r["run_id"] for r in runs if r["doc_id"] == "cninfo:1"} == {"r1"}
    assert build_deals(filled).equals(deals_before)
    # compacting again has nothing to do and changes no file
    snapshot = {p: p.stat().st_mtime_ns for p in filled.rglob("*.parquet")}
    again = compact(filled)
    assert all(f["compacted"] == 0 for f in again.values())
    assert {p: p.stat().st_mtime_ns for p in filled.rglob("*.parquet")} == snapshot


def test_merged_file_is_sorted_by_key_and_keeps_the_schema(filled: Path):
    compact(filled, datasets=["mentions"])
    folder = filled / "mentions" / "source=cninfo" / "date=2025-03-10"
    (merged,) = partition_files(DataStore(filled), "mentions")[folder]
    table = pq.read_table(merged)
    assert table.schema.remove_metadata() == DATASETS["mentions"][0]
    order = [(r["doc_id"], r["mention_index"]) for r in table.select(["doc_id", "mention_index"]).to_pylist()]
    assert order == sorted(order)
    assert file_counts(filled, "documents") == [3, 2]  # datasets not asked for are left alone


@pytest.mark.parametrize("step", ["staged", "published"])
def test_a_crash_mid_compaction_recovers_to_the_compacted_state(filled: Path, step: str):
    before = {d: rows(filled, d) for d in COMPACTED}

    def crash(at: str) -> None:
        if at == step:
            raise SimulatedCrash(at)

    with pytest.raises(SimulatedCrash):
        compact(filled, datasets=["documents"], crash=crash)
    visible = rows(filled, "documents")
    if step == "staged":  # nothing published yet: exactly the old files
        assert Counter(visible) == Counter(before["documents"])
    else:  # published, old files not yet deleted: the window recovery closes
        assert set(visible) == set(before["documents"])

    assert recover_all(DataStore(filled)) >= 1
    after = rows(filled, "documents")
    assert set(after) == set(before["documents"]) and len(after) == len(set(after))
    assert file_counts(filled, "documents") == [1, 2]  # the interrupted partition done, the other not
    compact(filled)  # the rest completes normally afterwards
    assert_compacted(filled, before)


def test_a_staged_file_lost_before_recovery_keeps_the_old_files(filled: Path):
    before = rows(filled, "documents")

    def crash(at: str) -> None:
        if at == "staged":
            for tmp in (filled / ".staging").rglob("*.tmp"):
                tmp.unlink()  # e.g. expired by the store's stale-temp cleanup before anyone recovered
            raise SimulatedCrash(at)

    with pytest.raises(SimulatedCrash):
        compact(filled, datasets=["documents"], crash=crash)
    assert recover_all(DataStore(filled)) == 1
    assert Counter(rows(filled, "documents")) == Counter(before)
    assert file_counts(filled, "documents") == [3, 2]
    assert not list((filled / ".staging").glob("*/*"))


def test_flow_reports_counts(filled: Path):
    report = compact_flow(str(filled), datasets=["documents", "projects"], min_files=3)
    assert set(report) == {"documents", "projects"}
    # min_files=3: the 2-file stcn partition stays, the 3-file cninfo one is merged
    assert report["documents"]["compacted"] == 1 and report["documents"]["files_after"] == 3
    assert report["documents"]["rows_after"] == 7
    assert report["projects"]["rows_before"] == 4 and report["projects"]["rows_after"] == 3
    assert file_counts(filled, "documents") == [1, 2]
