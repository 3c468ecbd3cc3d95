"""The data directory on disk: crash-safe file commits and cheap reads of what is already stored.

Why this shape:

* DuckDB's and polars' ``**/*.parquet`` globs DO match hidden files (``.part.parquet``) and polars
  refuses a folder holding other extensions (checked with duckdb 2.0 and polars 2.1; see
  tests/pipelines/test_store.py). So temporary files never live inside a dataset folder: they are
  written under ``DATA_DIR/.staging/<run_id>/`` (same filesystem, so the final move is a rename) with a
  ``.tmp`` suffix, fsynced, then moved into place. A reader sees a file whole or not at all.
* One flush of the writer lands several files (documents, their mentions and aggregates, in several
  partitions). They are published together through a small redo journal: the journal listing every
  move is itself committed atomically *after* all temp files are complete, then the moves run. A
  process killed half-way leaves a journal that the next run (``recover``) replays, so documents and
  their mentions end up consistent; a process killed before the journal leaves only invisible temps.
* Concurrent writers (a double-fired deployment, a lost crawl lock) are made exact by the writer, which
  holds per-dataset commit locks (:mod:`xinpi.pipelines.lock`) while it re-checks and commits. The
  journal names those locks, and ``recover`` takes them before replaying it: a journal whose writer
  still holds its locks is a commit in progress, not a crash, and is left alone.
* Files are published with ``os.link`` (fails if the name is taken) rather than ``os.replace`` (which
  would silently overwrite): a retried flow run that reuses its run id never clobbers earlier data.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from xinpi.pipelines.lock import hold_locks
from xinpi.pipelines.schema import DATASETS

logger = logging.getLogger(__name__)

STAGING = ".staging"
#: A temp file older than this belongs to a dead run (live temps exist for milliseconds).
STALE_SECONDS = 3600
COMPRESSION = "zstd"
#: How long ``recover`` waits for a live writer's commit lock (commits take milliseconds).
RECOVER_LOCK_SECONDS = 60.0


@dataclass(frozen=True)
class Staged:
    """A complete, fsynced temp file and the name it will be published under (both absolute)."""

    tmp: Path
    final: Path


def partition_path(dataset: str, row: Mapping[str, Any]) -> Path:
    """``documents/source=cninfo/date=2025-04-25`` for a row (hive style, values URL-quoted)."""
    _, keys = DATASETS[dataset]
    return _partition_path(dataset, tuple(row.get(key) for key in keys))


@functools.lru_cache(maxsize=4096)
def _partition_path(dataset: str, values: tuple[Any, ...]) -> Path:
    """Cached: every row of every flush asks, and a batch spans a handful of folders; building the
    Path and quoting its values each time cost a fifth of the Parquet writer's time."""
    _, keys = DATASETS[dataset]
    return Path(dataset, *(f"{key}={_hive_value(value)}" for key, value in zip(keys, values, strict=True)))


def partition_prefix(dataset: str, **values: Any) -> Path:
    """The folder of the leading partition keys given, e.g. ``source=cninfo`` (relative to the dataset)."""
    _, keys = DATASETS[dataset]
    parts = []
    for key in keys:
        if key not in values:
            break
        parts.append(f"{key}={_hive_value(values[key])}")
    return Path(*parts)


def _hive_value(value: Any) -> str:
    return "__HIVE_DEFAULT_PARTITION__" if value is None else quote(str(value), safe="-_.~")


def new_run_id() -> str:
    """Sortable and unique: UTC time plus a random suffix."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


def safe_name(text: str) -> str:
    """A run id as it may appear in a file name."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip(".")
    return cleaned or new_run_id()


class DataStore:
    """One ``DATA_DIR``: stage Arrow tables as temp files, publish them together, read columns back."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    # --- writing ----------------------------------------------------------------------------

    def staging_dir(self, run_id: str) -> Path:
        path = self.root / STAGING / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def stage(self, run_id: str, table: pa.Table, final: Path) -> Staged:
        """Write ``table`` to a temp file (fsynced) that will later be published as ``final``."""
        for attempt in range(3):
            tmp = self.staging_dir(run_id) / f"{uuid.uuid4().hex}.parquet.tmp"
            try:
                fh = open(tmp, "wb")
            except FileNotFoundError:  # another run's recover() removed our (empty) folder just now
                if attempt == 2:
                    raise
                continue
            break
        try:
            with fh:
                pq.write_table(table, fh, compression=COMPRESSION)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return Staged(tmp, self.root / final)

    def commit(self, run_id: str, staged: Iterable[Staged], locks: Iterable[str] = ()) -> list[Path]:
        """Publish staged files in the given order, all or (after ``recover``) all: see module doc.

        ``locks``: the commit locks the caller holds; recorded so that ``recover`` waits for them.
        """
        staged = list(staged)
        if not staged:
            return []
        journal = self.staging_dir(run_id) / f"commit-{uuid.uuid4().hex}.json"
        moves = [[os.fspath(s.tmp.relative_to(self.root)), os.fspath(s.final.relative_to(self.root))]
                 for s in staged]
        entry: dict[str, Any] = {"run_id": run_id, "moves": moves}
        if locks:
            entry["locks"] = sorted(set(locks))
        write_atomic(journal, json.dumps(entry).encode())
        published = self._replay(moves)
        journal.unlink(missing_ok=True)  # a concurrent recover() may have finished it for us
        fsync_dir(journal.parent)
        return published

    def _replay(self, moves: list[list[str]]) -> list[Path]:
        published: list[Path] = []
        dirs: set[Path] = set()
        for tmp_rel, final_rel in moves:
            tmp, final = self.root / tmp_rel, self.root / final_rel
            if not tmp.exists():  # published before the crash
                continue
            final.parent.mkdir(parents=True, exist_ok=True)
            published.append(_publish(tmp, final))
            dirs.add(final.parent)
        for d in dirs:
            fsync_dir(d)
        return published

    def release(self, run_id: str) -> None:
        """Remove this run's staging folder once it is empty (at the end of a run)."""
        try:
            (self.root / STAGING / run_id).rmdir()
        except OSError:
            pass

    def recover(self) -> int:
        """Finish commits a killed run left half-done; drop temps of dead runs. Returns files moved."""
        staging = self.root / STAGING
        if not staging.is_dir():
            return 0
        moved = 0
        for journal in sorted(staging.glob("*/commit-*.json")):
            try:
                entry = json.loads(journal.read_text("utf-8"))
                moves = entry["moves"]
            except (OSError, ValueError, KeyError):
                continue  # a journal is published atomically: an unreadable one is not ours
            try:
                with hold_locks(self.root, entry.get("locks") or (), timeout=RECOVER_LOCK_SECONDS):
                    if not journal.exists():  # its writer was alive and finished it meanwhile
                        continue
                    done = self._replay(moves)
                    journal.unlink(missing_ok=True)
            except TimeoutError as exc:
                logger.warning("left %s for later: %s", journal, exc)
                continue
            moved += len(done)
            if done:
                logger.warning("recovered %d file(s) of an interrupted commit (%s)", len(done), journal)
        now = time.time()
        for run_dir in staging.iterdir():
            if not run_dir.is_dir():
                continue
            for tmp in run_dir.glob("*.tmp"):
                try:
                    if now - tmp.stat().st_mtime > STALE_SECONDS:
                        tmp.unlink()
                except FileNotFoundError:
                    pass
            try:
                run_dir.rmdir()  # only succeeds when empty; a live run recreates it on demand
            except OSError:
                pass
        return moved

    # --- reading ----------------------------------------------------------------------------

    def read_columns(
        self, dataset: str, columns: list[str], subdir: str | os.PathLike[str] | None = None
    ) -> pa.Table:
        """Some columns of every committed file of ``dataset`` (optionally one partition folder).

        Reads only those column chunks; files written before a column existed give nulls.
        """
        return self.read_files(dataset, columns, self.files(dataset, subdir))

    def files(self, dataset: str, subdir: str | os.PathLike[str] | None = None) -> list[str]:
        """Committed files of ``dataset`` (optionally one partition folder), relative to the root."""
        path = self.root / dataset / (subdir or "")
        if not path.is_dir():
            return []
        return sorted(
            os.fspath(p.relative_to(self.root)) for p in path.rglob("*.parquet")
            if not _hidden(p.relative_to(path))
        )

    def read_files(self, dataset: str, columns: list[str], files: Iterable[str]) -> pa.Table:
        """Some columns of the given committed files (relative names, as :meth:`files` gives)."""
        schema, _ = DATASETS[dataset]
        wanted = pa.schema([schema.field(c) for c in columns])
        paths = [os.fspath(self.root / f) for f in files]
        if not paths:
            return wanted.empty_table()
        return ds.dataset(paths, schema=wanted, format="parquet").to_table(columns=columns)


def _hidden(rel: Path) -> bool:
    return any(part.startswith((".", "_")) for part in rel.parts)


def _publish(tmp: Path, final: Path) -> Path:
    """Give ``tmp`` the name ``final`` without ever replacing an existing file; returns the name."""
    for n in range(10_000):
        target = final if n == 0 else final.with_name(f"{final.stem}-{n}{final.suffix}")
        try:
            os.link(tmp, target)
        except FileNotFoundError:  # another process replaying the same journal got there first
            return target
        except FileExistsError:
            try:
                if os.path.samefile(tmp, target):  # linked before a crash, temp not yet removed
                    break
            except FileNotFoundError:
                return target
            continue
        except OSError as exc:  # a filesystem without hard links: no-clobber check, then rename
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if target.exists():
                continue
            os.replace(tmp, target)
            return target
        break
    else:  # pragma: no cover - ten thousand files of one name means something else is wrong
        raise FileExistsError(final)
    tmp.unlink(missing_ok=True)
    return target


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old bytes or the new, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
