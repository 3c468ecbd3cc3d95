"""The ``runs/`` table: one row per crawl flow run and source, and the health check over its history.

Why a table of our own next to the Prefect UI: Prefect's database is operational state (it may be a
throw-away local server, or be pruned); the runs history is data about the sources — how many pages,
what status codes, how many new documents, how many pages failed to parse — and it is what the health
check needs to spot a source that went quiet or changed its layout. So it lives in DATA_DIR with the
rest of the data, readable by DuckDB/polars, and the flow also mirrors each run's rows into a Prefect
table artifact so the UI shows them.

Everything here except :func:`write_runs` / :func:`read_runs` is a pure function over rows (dicts).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from xinpi.pipelines.schema import STRINGS, TS_UTC, to_datetime
from xinpi.pipelines.store import DataStore, safe_name

RUNS_DIR = "runs"

RUNS = pa.schema(
    [
        ("run_id", pa.string()),  # the crawl's own run id (also in every Parquet row it wrote)
        ("flow_run_id", pa.string()),  # Prefect's flow run id: the page to open in the UI
        ("flow_run_name", pa.string()),
        ("source", pa.string()),
        ("start", TS_UTC),
        ("end", TS_UTC),
        ("status", pa.string()),  # "ok" (the crawl finished, however many pages failed) or "failed"
        ("since", pa.string()),
        ("until", pa.string()),
        ("mode", pa.string()),  # "incremental" (from the watermark), "window" (explicit since), "refresh"
        ("refresh", pa.bool_()),
        ("all_topics", pa.bool_()),
        ("requests", pa.int64()),
        ("responses_2xx", pa.int64()),
        ("responses_3xx", pa.int64()),
        ("responses_4xx", pa.int64()),
        ("responses_5xx", pa.int64()),
        ("documents_new", pa.int64()),
        ("documents_seen", pa.int64()),
        ("documents_changed", pa.int64()),
        ("documents_failed", pa.int64()),  # every recorded failure (fetch, parse, pdf ...)
        ("parse_failures", pa.int64()),  # failures after a page was fetched: the layout signal
        ("mentions", pa.int64()),
        ("retries", pa.int64()),  # HTTP retries inside the crawl (Scrapy's retry middleware)
        ("attempts", pa.int64()),  # crawl process attempts (Prefect task retries + 1)
        ("finish_reason", pa.string()),
        ("first_error", pa.string()),
        ("health", STRINGS),  # [] when healthy; e.g. ["silent"], ["layout"]
        ("health_detail", pa.string()),
    ]
)

#: Counted columns (null in a row means 0 for the checks).
COUNTS = [f.name for f in RUNS if pa.types.is_integer(f.type)]

#: Trailing window of the health check, in runs of the same source.
TRAILING_RUNS = 14
#: Fewer earlier runs than this: no verdict (a new source has no "normal" yet).
MIN_HISTORY = 3
#: A parse-failure rate is a "jump" when it is at least this far above the trailing median ...
LAYOUT_JUMP = 0.2
#: ... and at least this many pages failed (one odd page is not a layout change).
LAYOUT_MIN_FAILURES = 3

_ERROR_LINE = re.compile(r"^\S+ \S+ \[[^\]]+\] (ERROR|CRITICAL): (.*)$")


def first_error(log_text: str) -> str | None:
    """The first ERROR/CRITICAL record of a Scrapy log (message and what follows on its lines)."""
    lines = log_text.splitlines()
    for i, line in enumerate(lines):
        m = _ERROR_LINE.match(line)
        if m:
            tail = []
            for more in lines[i + 1 : i + 6]:  # a traceback continues on lines without a log prefix
                if _ERROR_LINE.match(more) or re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", more):
                    break
                tail.append(more)
            return "\n".join([m.group(2), *tail]).strip()[:1000]
    return None


def run_mode(since: str | None, refresh: bool) -> str:
    """What kind of crawl this was; only ``incremental`` runs say whether a source went quiet.

    A refresh re-scan finds mostly stored documents and a window (backfill, demo) may hold only
    stored ones, so "no new documents" means nothing there, and their counts would skew the medians.
    """
    return "refresh" if refresh else "window" if since else "incremental"


def status_classes(by_status: Mapping[str, Any]) -> dict[str, int]:
    """``{"200": 5, "404": 1}`` -> ``{"responses_2xx": 5, ..., "responses_4xx": 1}``."""
    out = {f"responses_{c}xx": 0 for c in "2345"}
    for code, n in by_status.items():
        key = f"responses_{str(code)[:1]}xx"
        if key in out:
            out[key] += int(n or 0)
    return out


def run_row(result: Mapping[str, Any], *, run_id: str, flow_run_id: str | None = None,
            flow_run_name: str | None = None, since: str | None = None, until: str | None = None,
            refresh: bool = False, all_topics: bool = False, log_text: str = "",
            mode: str | None = None) -> dict[str, Any]:
    """One ``runs/`` row from a source's result dict (as :func:`xinpi.flows.crawl.crawl_source` returns
    it, or ``{"status": "failed", "error": ...}``) and the source's crawl log."""
    by_stage = result.get("failures_by_stage") or {}
    row: dict[str, Any] = {
        "run_id": run_id,
        "flow_run_id": flow_run_id,
        "flow_run_name": flow_run_name,
        "source": result["source"],
        "start": result.get("started"),
        "end": result.get("ended"),
        "status": result.get("status", "ok"),
        "since": result.get("window_since") or since,
        "until": result.get("window_until") or until,
        "mode": mode or run_mode(since, refresh),
        "refresh": bool(refresh),
        "all_topics": bool(all_topics),
        "requests": result.get("requests"),
        **status_classes(result.get("responses_by_status") or {}),
        "documents_new": result.get("documents_new"),
        "documents_seen": result.get("documents_seen"),
        "documents_changed": result.get("documents_changed"),
        "documents_failed": result.get("failures"),
        "parse_failures": sum(int(n) for stage, n in by_stage.items() if stage != "fetch")
        if "failures_by_stage" in result else None,
        "mentions": result.get("mentions"),
        "retries": result.get("retries"),
        "attempts": result.get("attempts"),
        "finish_reason": result.get("finish_reason"),
        "first_error": first_error(log_text) or _error(result),
        "health": [],
        "health_detail": None,
    }
    if row["status"] == "failed":  # no figures from a crawl that did not finish
        for key in ("responses_2xx", "responses_3xx", "responses_4xx", "responses_5xx"):
            row[key] = None
    return row


def _error(result: Mapping[str, Any]) -> str | None:
    return str(result["error"])[:1000] if result.get("error") else None


# --- health check (pure) ------------------------------------------------------------------------


def _n(row: Mapping[str, Any], key: str) -> int:
    return int(row.get(key) or 0)


def documents(row: Mapping[str, Any]) -> int:
    """Documents the crawl parsed (new, unchanged and changed)."""
    return _n(row, "documents_new") + _n(row, "documents_seen") + _n(row, "documents_changed")


def parse_failure_rate(row: Mapping[str, Any]) -> float:
    """Parse failures / (documents + parse failures); 0 for a run that parsed nothing at all."""
    fails = _n(row, "parse_failures")
    total = documents(row) + fails
    return fails / total if total else 0.0


def _sort_key(row: Mapping[str, Any]) -> tuple[str, str]:
    start = row.get("start")
    return (start.isoformat() if isinstance(start, dt.datetime) else str(start or ""), str(row.get("run_id")))


def _mode(row: Mapping[str, Any]) -> str:
    return row.get("mode") or "incremental"


def health_flags(row: Mapping[str, Any], history: Sequence[Mapping[str, Any]],
                 trailing: int = TRAILING_RUNS, min_history: int = MIN_HISTORY) -> tuple[list[str], str]:
    """Flags for one finished run of a source, given that source's earlier runs (any order).

    * ``silent``: an incremental run with no new documents while the trailing median of new
      documents of earlier incremental runs is above zero — the source stopped publishing, blocked
      us, or its listing moved.
    * ``layout``: the parse-failure rate jumped at least ``LAYOUT_JUMP`` above its trailing median
      (and at least ``LAYOUT_MIN_FAILURES`` pages failed) — pages come back but no longer parse.

    Only finished (``ok``) runs count, both as the run judged and as history: a crashed crawl is
    reported by its status, and would otherwise drag the medians to zero.
    """
    if row.get("status") != "ok":
        return [], ""
    pool = sorted((h for h in history if h.get("status") == "ok" and h.get("source") == row.get("source")
                   and h.get("run_id") != row.get("run_id")), key=_sort_key)
    earlier = pool[-trailing:]
    incremental = [h for h in pool if _mode(h) == "incremental"][-trailing:]
    flags, notes = [], []
    if _mode(row) == "incremental" and len(incremental) >= min_history:
        median_new = statistics.median(_n(h, "documents_new") for h in incremental)
        if _n(row, "documents_new") == 0 and median_new > 0:
            flags.append("silent")
            notes.append(f"0 new documents, trailing median {median_new:g} over {len(incremental)} runs")
    rate = parse_failure_rate(row)
    median_rate = statistics.median(parse_failure_rate(h) for h in earlier) if earlier else 0.0
    if (len(earlier) >= min_history and _n(row, "parse_failures") >= LAYOUT_MIN_FAILURES
            and rate >= median_rate + LAYOUT_JUMP):
        flags.append("layout")
        notes.append(f"parse-failure rate {rate:.0%} vs trailing median {median_rate:.0%}")
    return flags, "; ".join(notes)


def check_health(rows: Iterable[dict[str, Any]],
                 history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Set ``health`` / ``health_detail`` on this run's rows (in place, also returned)."""
    rows = list(rows)
    for row in rows:
        row["health"], detail = health_flags(row, history)
        row["health_detail"] = detail or None
    return rows


def flagged(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """``{source: flags}`` for the rows that carry any."""
    return {r["source"]: list(r["health"]) for r in rows if r.get("health")}


# --- storage ------------------------------------------------------------------------------------


def to_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    cols: dict[str, list[Any]] = {f.name: [] for f in RUNS}
    for row in rows:
        for f in RUNS:
            value = row.get(f.name)
            if pa.types.is_timestamp(f.type):
                value = to_datetime(value, dt.UTC)
            cols[f.name].append(value)
    return pa.table(cols, schema=RUNS)


def write_runs(data_dir: str | Path, run_id: str, rows: Sequence[Mapping[str, Any]]) -> Path | None:
    """Publish this run's rows as ``runs/<run_id>.parquet``, whole or not at all (DataStore)."""
    if not rows:
        return None
    store = DataStore(data_dir)
    staged = store.stage(run_id, to_table(rows), Path(RUNS_DIR) / f"{safe_name(run_id)}.parquet")
    published = store.commit(run_id, [staged])
    store.release(run_id)
    return published[0]


def read_runs(data_dir: str | Path, source: str | None = None) -> list[dict[str, Any]]:
    """Every stored row (optionally of one source); files of an older schema give nulls."""
    root = Path(data_dir) / RUNS_DIR
    files = sorted(str(p) for p in root.glob("*.parquet")) if root.is_dir() else []
    if not files:
        return []
    table = ds.dataset(files, schema=RUNS, format="parquet").to_table(
        filter=(ds.field("source") == source) if source else None
    )
    return table.to_pylist()


# --- presentation --------------------------------------------------------------------------------

#: Columns of the Prefect table artifact (the UI table gets wide quickly).
ARTIFACT_COLUMNS = [
    "source", "status", "requests", "responses_2xx", "responses_3xx", "responses_4xx", "responses_5xx",
    "documents_new", "documents_seen", "documents_changed", "documents_failed", "mentions", "retries",
    "attempts", "health", "first_error",
]


def artifact_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        row = {k: r.get(k) for k in ARTIFACT_COLUMNS}
        row["health"] = ", ".join(r.get("health") or []) or "ok"
        error = r.get("first_error") or ""
        row["first_error"] = error.splitlines()[0][:160] if error else ""
        out.append(row)
    return out


def markdown_summary(rows: Sequence[Mapping[str, Any]], run_id: str, data_dir: str) -> str:
    """The run in a few lines for the Prefect UI: totals, failed and flagged sources."""
    ok = [r for r in rows if r.get("status") == "ok"]
    failed = [r for r in rows if r.get("status") != "ok"]
    lines = [
        f"# Crawl {run_id}",
        "",
        f"{len(ok)} of {len(rows)} sources finished; "
        f"{sum(_n(r, 'requests') for r in ok)} requests, "
        f"{sum(_n(r, 'documents_new') for r in ok)} new documents, "
        f"{sum(_n(r, 'documents_changed') for r in ok)} changed, "
        f"{sum(_n(r, 'documents_failed') for r in ok)} failures recorded, "
        f"{sum(_n(r, 'mentions') for r in ok)} deal mentions.",
        "",
        "| source | status | attempts | requests | new | seen | changed | failed | 5xx | health |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['source']} | {r.get('status')} | {_n(r, 'attempts')} | {_n(r, 'requests')} | "
            f"{_n(r, 'documents_new')} | {_n(r, 'documents_seen')} | {_n(r, 'documents_changed')} | "
            f"{_n(r, 'documents_failed')} | {_n(r, 'responses_5xx')} | "
            f"{', '.join(r.get('health') or []) or 'ok'} |"
        )
    for r in failed:
        lines += ["", f"**{r['source']} failed**: `{(r.get('first_error') or '').splitlines()[0][:300]}`"
                  if r.get("first_error") else f"**{r['source']} failed**"]
    for r in rows:
        if r.get("health"):
            lines += ["", f"**{r['source']}: {', '.join(r['health'])}** — {r.get('health_detail')}"]
    lines += ["", f"Rows: `{data_dir}/{RUNS_DIR}/{safe_name(run_id)}.parquet`; crawl logs: "
              f"`{data_dir}/_runs/{run_id}/<source>.log`"]
    return "\n".join(lines)
