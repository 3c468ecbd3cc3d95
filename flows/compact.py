"""Compaction: merge each partition's small files into one, drop duplicate rows, never lose or double data.

Why: every crawl flush lands one small file per partition, so a daily crawl leaves hundreds of files
per folder after a few months, and a double-fired run leaves exact duplicate rows. Compaction rewrites
a partition as one sorted file with one row per key.

Crash safety. Swapping N files for 1 is "publish one, delete N", which :class:`DataStore`'s commit
journal (moves only) cannot express. :func:`replace_files` adds a *replacement journal* on top of the
store's public API: the merged file is staged (``DataStore.stage``), a journal naming the staged file,
its final name and the files it replaces is written atomically, then the file is published
(``DataStore.commit``, its own journal) and the old files are deleted. :func:`recover_replacements`
rolls any journal it finds forward (publish if not yet published, then delete the old files) or, when
the staged file is gone and was never published, drops it and keeps the old files. So after a kill at
any point followed by recovery, a partition shows either its old files or the merged file, never both
and never neither. Between the publish and the deletes (a few milliseconds, or until recovery after a
crash) a reader can see both; ``compact_flow`` and ``deals_flow`` recover first.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from xinpi.config import configure_offline_prefect
from xinpi.pipelines.schema import DATASETS
from xinpi.pipelines.store import STAGING, DataStore, Staged, fsync_dir, new_run_id, safe_name, write_atomic

configure_offline_prefect()

from prefect import flow, get_run_logger  # noqa: E402

logger = logging.getLogger(__name__)

#: Columns identifying one row: rows sharing them are copies (a double-fired run); one is kept.
#: Mentions/aggregates add their index so two unnamed facts of one document never collapse.
DEDUP_KEYS: dict[str, tuple[str, ...]] = {
    "documents": ("doc_id", "version"),
    "mentions": ("doc_id", "version", "mention_index", "deal_name", "name_span"),
    "aggregates": ("doc_id", "version", "aggregate_index"),
    "projects": ("register", "project_id", "status", "updated_date"),
    "failures": ("url", "stage", "error", "http_status", "at"),
}
#: Among copies the first written wins (smallest run id), so compaction never changes which copy is seen.
TIEBREAK = ("run_id",)

#: Figures reported per dataset.
FIGURES = ("partitions", "compacted", "skipped", "files_before", "files_after", "rows_before", "rows_after")

#: Test hook: called with a step name ("staged", "published") so a test can simulate a kill there.
CrashHook = Callable[[str], None]


# --- journalled replacement ----------------------------------------------------------------------


def replace_files(
    store: DataStore,
    run_id: str,
    table: pa.Table,
    final: Path,
    old: Iterable[Path],
    crash: CrashHook | None = None,
) -> Path:
    """Publish ``table`` as ``final`` (relative to the store root) and delete ``old``, crash-safely."""
    old_rel = sorted({os.fspath(Path(p).relative_to(store.root) if Path(p).is_absolute() else p)
                      for p in old})
    staged = store.stage(run_id, table, final)
    journal = store.staging_dir(run_id) / f"replace-{uuid.uuid4().hex}.json"
    entry = {
        "run_id": run_id,
        "tmp": os.fspath(staged.tmp.relative_to(store.root)),
        "final": os.fspath(staged.final.relative_to(store.root)),
        "remove": [p for p in old_rel if p != os.fspath(final)],
    }
    write_atomic(journal, json.dumps(entry, ensure_ascii=False).encode("utf-8"))
    if crash:
        crash("staged")
    published = store.commit(run_id, [staged])
    if crash:
        crash("published")
    _remove(store.root, entry["remove"])
    journal.unlink()
    fsync_dir(journal.parent)
    return published[0] if published else staged.final


def recover_replacements(store: DataStore) -> int:
    """Finish (or cleanly abandon) replacements a killed process left; returns journals handled."""
    staging = store.root / STAGING
    if not staging.is_dir():
        return 0
    handled = 0
    for journal in sorted(staging.glob("*/replace-*.json")):
        try:
            entry = json.loads(journal.read_text("utf-8"))
            tmp, final = store.root / entry["tmp"], store.root / entry["final"]
            remove = list(entry["remove"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # journals are written atomically: an unreadable one is not ours
        if tmp.exists():  # killed before (or while) publishing: roll forward
            store.commit(entry.get("run_id") or journal.parent.name, [Staged(tmp, final)])
        if final.exists():
            _remove(store.root, remove)
            logger.warning("recovered an interrupted replacement of %d file(s) by %s", len(remove), final)
        else:  # the staged file expired before recovery and was never published: keep the old files
            logger.warning("abandoned an interrupted replacement (staged file gone): %s", journal)
        journal.unlink(missing_ok=True)
        handled += 1
        try:
            journal.parent.rmdir()
        except OSError:
            pass
    return handled


def recover_all(store: DataStore) -> int:
    """Replacement journals first (before the store may expire their staged files), then the store's."""
    return recover_replacements(store) + store.recover()


def _remove(root: Path, rels: Iterable[str]) -> None:
    dirs = set()
    for rel in rels:
        path = root / rel
        path.unlink(missing_ok=True)
        dirs.add(path.parent)
    for d in sorted(dirs):
        fsync_dir(d)


# --- compaction ----------------------------------------------------------------------------------


def partition_files(store: DataStore, dataset: str) -> dict[Path, list[Path]]:
    """Committed files of ``dataset`` grouped by their folder (hidden/underscore paths skipped)."""
    root = store.root / dataset
    groups: dict[Path, list[Path]] = {}
    if not root.is_dir():
        return groups
    for path in sorted(root.rglob("*.parquet")):
        rel = path.relative_to(root)
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue
        groups.setdefault(path.parent, []).append(path)
    return groups


def _sort_key(value: Any) -> tuple:
    """Total order over row values of any type (None first; lists compared element-wise)."""
    if value is None:
        return (0,)
    if isinstance(value, list):
        return (1, tuple(_sort_key(v) for v in value))
    return (1, value)


def dedupe(table: pa.Table, dataset: str) -> pa.Table:
    """One row per key (the first written), rows sorted by key: the same input gives the same file."""
    keys = [k for k in DEDUP_KEYS.get(dataset, ()) if k in table.column_names]
    if not keys:
        keys = list(table.column_names)
    order_cols = keys + [c for c in TIEBREAK if c in table.column_names and c not in keys]
    cols = {c: table.column(c).to_pylist() for c in order_cols}
    ranked = sorted(
        range(table.num_rows), key=lambda i: (tuple(_sort_key(cols[c][i]) for c in order_cols), i)
    )
    keep: list[int] = []
    last: tuple | None = None
    for i in ranked:
        key = tuple(_sort_key(cols[c][i]) for c in keys)
        if key != last:
            keep.append(i)
            last = key
    return table.take(pa.array(keep, type=pa.int64()))


def compact_partition(
    store: DataStore,
    dataset: str,
    files: list[Path],
    run_id: str,
    seq: int = 1,
    crash: CrashHook | None = None,
) -> dict[str, int]:
    """Merge ``files`` (one partition folder) into one de-duplicated file; returns row counts."""
    schema, _ = DATASETS[dataset]
    table = ds.dataset([os.fspath(f) for f in files], schema=schema, format="parquet").to_table()
    merged = dedupe(table, dataset)
    folder = files[0].parent.relative_to(store.root)
    final = folder / f"part-{run_id}-{seq:05d}.parquet"
    replace_files(store, run_id, merged, final, files, crash=crash)
    return {"files_before": len(files), "files_after": 1, "rows_before": table.num_rows,
            "rows_after": merged.num_rows}


def compact(
    data_dir: str | os.PathLike[str],
    datasets: Iterable[str] | None = None,
    min_files: int = 2,
    run_id: str | None = None,
    crash: CrashHook | None = None,
) -> dict[str, dict[str, int]]:
    """Compact every partition holding at least ``min_files`` files; figures per dataset."""
    store = DataStore(data_dir)
    recover_all(store)
    run_id = safe_name(run_id or "compact-" + new_run_id())
    report: dict[str, dict[str, int]] = {}
    try:
        for dataset in datasets or sorted(DATASETS):
            if dataset not in DATASETS:
                raise ValueError(f"unknown dataset {dataset!r}")
            fig = dict.fromkeys(FIGURES, 0)
            for seq, (_, files) in enumerate(sorted(partition_files(store, dataset).items()), 1):
                fig["partitions"] += 1
                done = None
                if len(files) >= max(1, min_files):
                    try:
                        done = compact_partition(store, dataset, files, run_id, seq, crash=crash)
                    except (pa.ArrowException, ValueError) as exc:
                        # e.g. files of an older schema whose column type changed: left as they are
                        logger.error("not compacting %s (%d files): %s", files[0].parent, len(files), exc)
                        fig["skipped"] += 1
                if done is None:  # untouched partition: its files and rows stay
                    rows = _count_rows(files)
                    done = {"files_before": len(files), "files_after": len(files),
                            "rows_before": rows, "rows_after": rows}
                else:
                    fig["compacted"] += 1
                for key, value in done.items():
                    fig[key] += value
            report[dataset] = fig
    finally:
        store.release(run_id)
    return report


def _count_rows(files: list[Path]) -> int:
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


@flow(name="xinpi-compact", log_prints=True)
def compact_flow(
    data_dir: str = "data", datasets: list[str] | None = None, min_files: int = 2
) -> dict[str, dict[str, int]]:
    """Maintenance: merge small files per partition and drop duplicate rows; row counts before/after."""
    report = compact(str(Path(data_dir).resolve()), datasets, min_files)
    log = get_run_logger()
    for dataset, fig in report.items():
        log.info("%s: %s", dataset, fig)
    return report
