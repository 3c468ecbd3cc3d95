"""What earlier runs left behind that a new crawl needs: known ids and per-source watermarks.

Incremental crawling asks two questions before spending requests: "have we stored this document
already?" (then its page or PDF is not fetched again, and a listing page holding only such documents
ends the paging) and "up to when did the last good run reach?" (the watermark: the next run's window
starts there, minus a safety overlap). Both answers come from ``DATA_DIR`` itself, so they hold on any
machine that has the data, with no database beside it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow.dataset as ds


def _partition_files(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*.parquet")] if root.exists() else []


def stored_column_values(data_dir: Path, dataset: str, partition: str, columns: list[str]) -> list[dict]:
    """``columns`` of every row under ``DATA_DIR/<dataset>/<partition>/`` (e.g. ``source=cninfo``)."""
    files = _partition_files(Path(data_dir) / dataset / partition)
    if not files:
        return []
    table = ds.dataset(files, format="parquet").to_table(columns=columns)
    return table.to_pylist()


def known_doc_ids(data_dir: Path, source: str) -> set[str]:
    """doc_ids already stored for ``source`` (any version)."""
    rows = stored_column_values(data_dir, "documents", f"source={quote(source)}", ["doc_id"])
    return {r["doc_id"] for r in rows}


def known_projects(data_dir: Path, register: str) -> set[tuple[str, str]]:
    """(project_id, status) pairs already stored for a project register."""
    rows = stored_column_values(data_dir, "projects", f"register={quote(register)}", ["project_id", "status"])
    return {(str(r["project_id"]), str(r["status"])) for r in rows}


def watermark_path(data_dir: Path, source: str) -> Path:
    return Path(data_dir) / "_state" / "watermarks" / f"{source}.json"


def read_watermark(data_dir: Path, source: str) -> dict[str, Any] | None:
    path = watermark_path(data_dir, source)
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:  # a damaged watermark costs one wider crawl, never a crash
        return None


def write_watermark(data_dir: Path, source: str, watermark: dict[str, Any]) -> Path:
    """Replace the source's watermark atomically (temp file, fsync, rename)."""
    path = watermark_path(data_dir, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(watermark, f, ensure_ascii=False, indent=1, default=_jsonable)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


# --- crawls in progress -------------------------------------------------------------------------
# A crawl leaves a marker while it runs and removes it when it finishes. A marker left by a crawl
# that died says "the listing pages stored so far may hide older pages never reached", so the next
# crawl must walk its whole window instead of stopping at the first page of stored documents.


def _running_dir(data_dir: Path, source: str) -> Path:
    return Path(data_dir) / "_state" / "running" / source


def mark_running(data_dir: Path, source: str, started: dt.datetime) -> Path:
    folder = _running_dir(data_dir, source)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{started.strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}.json"
    path.write_text(json.dumps({"pid": os.getpid(), "started": started.isoformat()}), "utf-8")
    return path


def unfinished_runs(data_dir: Path, source: str, exclude: Path | None = None) -> list[dict[str, Any]]:
    """Markers of other crawls of ``source`` that have not finished (running now, or dead)."""
    folder = _running_dir(data_dir, source)
    out = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        if exclude is not None and path == exclude:
            continue
        try:
            out.append({"path": str(path), **json.loads(path.read_text("utf-8"))})
        except (OSError, ValueError):
            out.append({"path": str(path)})
    return out


def clear_running(marker: Path, finished_cleanly: bool, started: dt.datetime) -> None:
    """Remove our marker; a clean finish also clears markers of crawls that began before ours,
    since this crawl walked everything they may have left unvisited."""
    marker.unlink(missing_ok=True)
    if not finished_cleanly:
        return
    stamp = started.strftime("%Y%m%dT%H%M%S%f")
    for path in marker.parent.glob("*.json"):
        if path.name.split("-", 1)[0] < stamp:
            path.unlink(missing_ok=True)
