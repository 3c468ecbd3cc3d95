"""Two writers on one DATA_DIR, interleaved in one process: the commit re-check keeps the data exact."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xinpi.extractors import deals
from xinpi.extractors.deals import Extraction
from xinpi.items import ProjectItem
from xinpi.pipelines import store as store_mod
from xinpi.pipelines.dedupe import stored_index
from xinpi.pipelines.lock import FileLock, hold_locks, lock_dir
from xinpi.pipelines.store import DataStore


@pytest.fixture(autouse=True)
def one_mention_per_doc(monkeypatch):
    monkeypatch.setattr(
        deals, "extract_document",
        lambda doc_id, title, text, published_at=None: Extraction([{"deal_name": f"{doc_id}:{text}"}], []),
    )


def _rows(data_dir: Path, sql: str) -> list[tuple]:
    return duckdb.sql(sql.replace("DATA", str(data_dir))).fetchall()


def _versions(data_dir: Path) -> list[tuple]:
    return _rows(data_dir, "select doc_id, version, text from 'DATA/documents/**/*.parquet' order by 1, 2")


def _mention_versions(data_dir: Path) -> list[tuple]:
    sql = "select doc_id, version, deal_name from 'DATA/mentions/**/*.parquet' order by 1, 2"
    return _rows(data_dir, sql)


def test_same_documents_from_two_runs_land_once(run, make_doc, data_dir):
    a, b = run(PARQUET_BATCH_SIZE=2), run(PARQUET_BATCH_SIZE=2)
    # both looked at an empty store: dedupe lets everything through in both
    for i in range(5):
        a.feed(make_doc(i))
        b.feed(make_doc(i))
    sa, sb = a.close(), b.close()
    assert sa["xinpi/documents/new"] == sb["xinpi/documents/new"] == 5
    written = sum(s.get("xinpi/documents/written", 0) for s in (sa, sb))
    dropped = sum(s.get("xinpi/documents/dropped_concurrent", 0) for s in (sa, sb))
    assert (written, dropped) == (5, 5)
    assert [d for d, _, _ in _versions(data_dir)] == [f"cninfo:{i}" for i in range(5)]
    assert _rows(data_dir, "select count(*) from 'DATA/mentions/**/*.parquet'") == [(5,)]
    assert sa["xinpi/mentions"] + sb.get("xinpi/mentions", 0) == 5  # stats count what was written


def test_concurrent_v1_with_other_content_makes_ours_v2(run, make_doc, data_dir):
    a, b = run(), run()
    a.feed(make_doc(1, text="发行规模为3亿元。"))
    ours, _ = b.feed(make_doc(1, text="发行规模为3.5亿元(更正)。"), make_doc(2, text="另一份"))
    assert ours["version"] == 1  # dedupe saw an empty store
    a.close()
    stats = b.close()
    assert stats["xinpi/documents/renumbered"] == 1 and stats["xinpi/documents/written"] == 2
    assert _versions(data_dir) == [
        ("cninfo:1", 1, "发行规模为3亿元。"),
        ("cninfo:1", 2, "发行规模为3.5亿元(更正)。"),
        ("cninfo:2", 1, "另一份"),
    ]
    # the facts follow the document's new number
    assert _mention_versions(data_dir) == [
        ("cninfo:1", 1, "cninfo:1:发行规模为3亿元。"), ("cninfo:1", 2, "cninfo:1:发行规模为3.5亿元(更正)。"),
        ("cninfo:2", 1, "cninfo:2:另一份"),
    ]
    # and a later run knows both versions
    c = run()
    c.feed(make_doc(1, text="发行规模为3亿元。"), make_doc(1, text="发行规模为3.5亿元(更正)。"))
    assert c.close()["xinpi/documents/seen"] == 2


def test_renumbering_keeps_a_runs_own_versions_in_order(run, make_doc, data_dir):
    a, b = run(PARQUET_BATCH_SIZE=1), run(PARQUET_BATCH_SIZE=10)
    b.feed(make_doc(1, text="乙一"), make_doc(1, text="乙二"))  # b: v1, v2 (buffered)
    a.feed(make_doc(1, text="甲"))  # a commits v1 at once
    b.close()
    a.close()
    assert _versions(data_dir) == [("cninfo:1", 1, "甲"), ("cninfo:1", 2, "乙一"), ("cninfo:1", 3, "乙二")]
    mentions = [(v, name) for _, v, name in _mention_versions(data_dir)]
    assert mentions == [(1, "cninfo:1:甲"), (2, "cninfo:1:乙一"), (3, "cninfo:1:乙二")]


def test_refresh_reads_only_files_published_since_the_last_look(run, make_doc, data_dir):
    seed = run(PARQUET_BATCH_SIZE=1)
    seed.feed(*[make_doc(i) for i in range(4)])
    seed.close()  # four files
    a, b = run(PARQUET_BATCH_SIZE=1), run(PARQUET_BATCH_SIZE=1)
    a.feed(make_doc(10))
    b.feed(make_doc(20))
    a_index = stored_index(a.crawler).documents("cninfo")
    b_index = stored_index(b.crawler).documents("cninfo")
    # a read the seed files; b, opened later, those and a's; neither read back its own file
    assert (a_index.files_read, b_index.files_read) == (4, 5)
    a.feed(make_doc(11))  # a's commit re-check reads b's one new file, nothing else
    assert a_index.files_read == 5
    assert {"cninfo:20", "cninfo:10", "cninfo:11"} <= set(a_index.states)
    a.close()
    b.close()


def test_index_rebuilt_when_a_folder_is_rewritten(run, make_doc, data_dir):
    a = run(PARQUET_BATCH_SIZE=1)
    a.feed(make_doc(1), make_doc(2))
    index = stored_index(a.crawler).documents("cninfo")
    folder = next((data_dir / "documents").rglob("*.parquet")).parent
    files = sorted(folder.glob("*.parquet"))
    merged = pa.concat_tables([pq.read_table(f) for f in files])
    pq.write_table(merged, folder / "compacted.parquet")  # what compaction does: merge, drop the old
    for f in files:
        f.unlink()
    b = run()  # meanwhile another run stores a document
    b.feed(make_doc(3))
    b.close()
    a.feed(make_doc(4))  # a's re-check notices the vanished files and reads the folder again
    assert set(index.states) == {"cninfo:1", "cninfo:2", "cninfo:3", "cninfo:4"}
    assert a.close()["xinpi/documents/written"] == 3
    assert [d for d, _, _ in _versions(data_dir)] == ["cninfo:1", "cninfo:2", "cninfo:3", "cninfo:4"]


def _project(status: str, updated: dt.date) -> ProjectItem:
    return ProjectItem(
        register="sse", project_id="BN001", name="某资产支持专项计划", status=status, updated_date=updated,
        planned_scale_yuan=Decimal("1900000000"), fetched_at=dt.datetime.now(dt.UTC),
    )


def test_register_rows_from_two_runs_land_once(run, data_dir):
    a, b = run(), run()
    a.feed(_project("已受理", dt.date(2025, 4, 1)))
    b.feed(_project("已受理", dt.date(2025, 4, 1)), _project("通过", dt.date(2025, 4, 20)))
    a.close()
    stats = b.close()
    assert stats["xinpi/projects/dropped_concurrent"] == 1 and stats["xinpi/projects/written"] == 1
    rows = _rows(data_dir, "select status from 'DATA/projects/**/*.parquet' order by 1")
    assert rows == [("已受理",), ("通过",)]


def test_recover_leaves_a_live_commit_alone_and_finishes_a_dead_one(run, make_doc, data_dir, monkeypatch):
    """A journal whose commit lock is held belongs to a writer mid-commit, not to a crashed one."""
    a = run()
    a.feed(make_doc(1))
    writer = a.pipelines[-1]
    real_commit = DataStore.commit
    seen = {}

    def commit_and_look(self, run_id, staged, locks=()):
        # inside the writer's lock: another process' recover() must wait, then find nothing to do
        journal_dir = self.staging_dir(run_id)
        monkeypatch.setattr(store_mod, "RECOVER_LOCK_SECONDS", 0.2)
        fake = journal_dir / "commit-live.json"
        fake.write_text(json.dumps({"run_id": run_id, "moves": [], "locks": list(locks)}))
        seen["recovered"] = DataStore(self.root).recover()  # its own open file: excluded by flock
        seen["journal_left"] = fake.exists()
        fake.unlink()
        return real_commit(self, run_id, staged, locks)

    monkeypatch.setattr(DataStore, "commit", commit_and_look)
    a.close()
    assert seen == {"recovered": 0, "journal_left": True}
    assert writer.crawler.stats.get_value("xinpi/documents/written") == 1
    # a journal whose writer died (lock free) is replayed
    staging = data_dir / ".staging" / "dead"
    staging.mkdir(parents=True)
    tmp = staging / "x.parquet.tmp"
    shutil.copy(next((data_dir / "documents").rglob("*.parquet")), tmp)
    final = "documents/source=cninfo/date=2025-04-25/part-dead-00001.parquet"
    (staging / "commit-dead.json").write_text(json.dumps(
        {"run_id": "dead", "moves": [[str(tmp.relative_to(data_dir)), final]], "locks": ["commit-cninfo"]}
    ))
    assert DataStore(data_dir).recover() == 1 and (data_dir / final).exists()


def test_file_lock_is_exclusive_and_says_who_holds_it(tmp_path):
    path = lock_dir(tmp_path) / "cninfo.lock"
    first, second = FileLock(path), FileLock(path)
    assert first.try_acquire()
    first.write_holder({"pid": 123, "run_id": "r1"})
    assert not second.try_acquire()  # flock is per open file: the same process is excluded too
    assert second.read_holder() == {"pid": 123, "run_id": "r1"}
    assert not second.acquire(timeout=0.1)
    first.release()
    assert second.try_acquire() and second.read_holder() == {}
    second.release()


def test_hold_locks_times_out_and_gives_back_what_it_took(tmp_path):
    other = FileLock(lock_dir(tmp_path) / "commit-zqrb.lock")
    assert other.try_acquire()
    with pytest.raises(TimeoutError), hold_locks(tmp_path, ["commit-zqrb", "commit-cninfo"], timeout=0.1):
        pass
    # sorted order: commit-cninfo was taken first, then zqrb timed out; cninfo must be free again
    assert FileLock(lock_dir(tmp_path) / "commit-cninfo.lock").try_acquire()
    other.release()
