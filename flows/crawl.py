"""The crawl flow: one Prefect task per source, each running its Scrapy crawl in a subprocess.

A subprocess per crawl because Scrapy's Twisted reactor cannot be restarted inside one process, and
because a crashed or killed crawl must not take the flow (or the other sources) down with it. Each
crawl leaves its Scrapy stats in a JSON file; the task turns them into the per-source figures that
the flow returns and that ``xinpi demo`` / ``xinpi crawl`` print.

At the end of a run the flow writes one row per source to ``DATA_DIR/runs/`` (see
:mod:`xinpi.flows.runs`), runs the health check over that history, and attaches a table and a
markdown artifact to the flow run so the Prefect UI shows the per-source figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from xinpi.config import configure_offline_prefect

configure_offline_prefect()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.runtime import flow_run as current_flow_run  # noqa: E402
from prefect.runtime import task_run as current_task_run  # noqa: E402
from prefect.states import Completed, Failed  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from xinpi.flows import runs as runs_table  # noqa: E402

#: Waits between attempts of one source's crawl: a transient outage (DNS, a 502 storm, a killed
#: process) gets two more chances, the second after the site had time to recover.
RETRY_DELAYS = [5, 30]

#: Figures taken from a crawl's Scrapy stats, under the names the flow reports them by.
STAT_FIELDS = {
    "requests": "downloader/request_count",
    "responses": "downloader/response_count",
    "items": "item_scraped_count",
    "documents_new": "xinpi/documents/new",
    "documents_seen": "xinpi/documents/seen",
    "documents_changed": "xinpi/documents/changed",
    "mentions": "xinpi/mentions",
    "aggregates": "xinpi/aggregates",
    "projects_new": "xinpi/projects/new",
    "retries": "retry/count",
}


class CrawlError(RuntimeError):
    """A crawl process that did not finish (crashed, killed, or Scrapy refused to start it)."""


def summarise(stats: dict[str, Any]) -> dict[str, Any]:
    """Per-source figures from a crawl's raw Scrapy stats."""
    out: dict[str, Any] = {name: int(stats.get(key, 0) or 0) for name, key in STAT_FIELDS.items()}
    # xinpi/failures/<stage> counts each failure once; xinpi/failures/written counts them again as
    # rows landed in failures/, so it is not a stage.
    stages = {
        k.removeprefix("xinpi/failures/"): int(v)
        for k, v in stats.items()
        if k.startswith("xinpi/failures/") and k != "xinpi/failures/written"
    }
    out["failures"] = sum(stages.values())
    out["failures_by_stage"] = stages
    out["responses_by_status"] = {
        k.rsplit("/", 1)[-1]: int(v)
        for k, v in stats.items()
        if k.startswith("downloader/response_status_count/")
    }
    out["finish_reason"] = stats.get("finish_reason", "")
    out["window_since"] = stats.get("xinpi/window/since")
    out["window_until"] = stats.get("xinpi/window/until")
    return out


def crawl_command(source: str, settings: dict[str, Any], args: dict[str, str]) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", source]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={json.dumps(value) if isinstance(value, dict | list) else value}"]
    for key, value in args.items():
        cmd += ["-a", f"{key}={value}"]
    return cmd


def spider_args(since: str | None = None, until: str | None = None, refresh: bool = False,
                all_topics: bool = False) -> dict[str, str]:
    """The ``-a`` arguments of a crawl (see :class:`xinpi.spiders.base.XinpiSpider`)."""
    args = {k: v for k, v in {"since": since, "until": until}.items() if v}
    if refresh:
        args["refresh"] = "1"
    if all_topics:
        args["all"] = "1"
    return args


#: Attempts per (run_id, source), so a source that failed every attempt still reports how many it
#: had (its task raised, so there is no return value to carry it). Tasks run in the flow's threads.
_ATTEMPTS: dict[tuple[str, str], int] = {}


@task(name="crawl-source", retries=len(RETRY_DELAYS), retry_delay_seconds=RETRY_DELAYS,
      task_run_name="crawl-{source}")
def crawl_source(
    source: str,
    data_dir: str,
    run_id: str,
    emulator_url: str = "",
    since: str | None = None,
    until: str | None = None,
    settings: dict[str, Any] | None = None,
    timeout_s: float = 3600,
    refresh: bool = False,
    all_topics: bool = False,
) -> dict[str, Any]:
    """Run one source's crawl to completion and return its figures; raise if the process failed.

    A crawl whose pages fail still finishes (exit 0) and is "ok": its failures are counted. Only a
    crawl process that crashed, was killed or could not start raises, and is retried.
    """
    logger = get_run_logger()
    attempt = current_task_run.run_count or 1
    _ATTEMPTS[(run_id, source)] = attempt
    state_dir = Path(data_dir) / "_runs" / run_id
    state_dir.mkdir(parents=True, exist_ok=True)
    stats_file = state_dir / f"{source}.stats.json"
    log_file = state_dir / f"{source}.log"
    opts: dict[str, Any] = {
        "DATA_DIR": data_dir,
        "XINPI_RUN_ID": run_id,
        "XINPI_STATS_FILE": str(stats_file),
        "LOG_FILE": str(log_file),
        **({"XINPI_EMULATOR_URL": emulator_url} if emulator_url else {}),
        **(settings or {}),
    }
    args = spider_args(since, until, refresh, all_topics)
    stats_file.unlink(missing_ok=True)  # left by an earlier attempt: must not pass for this one
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "xinpi.settings"}
    started = dt.datetime.now(dt.UTC)
    logger.info("crawling %s, attempt %d (log: %s)", source, attempt, log_file)
    try:
        proc = subprocess.run(crawl_command(source, opts, args), env=env, capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise CrawlError(f"crawl of {source} killed after {timeout_s:g} s") from exc
    if proc.returncode != 0 or not stats_file.exists():
        tail = ((proc.stderr or "")[-4000:] or _tail(log_file)).strip()
        logger.error("crawl of %s exited with %s; its output ends:\n%s", source, proc.returncode, tail)
        last = tail.splitlines()[-1] if tail else "no output"  # a traceback's last line names the error
        raise CrawlError(f"crawl of {source} exited with {proc.returncode}: {last[:500]}")
    figures = summarise(json.loads(stats_file.read_text("utf-8")))
    figures.update(source=source, started=started.isoformat(), ended=dt.datetime.now(dt.UTC).isoformat(),
                   attempts=attempt)
    logger.info("%s: %s", source, {k: v for k, v in figures.items() if isinstance(v, int)})
    return figures


def _head(path: Path, chars: int = 5_000_000) -> str:
    """The start of a crawl log (where its first error is), bounded for a runaway log."""
    if not path.exists():
        return ""
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read(chars)


def _tail(path: Path, chars: int = 2000) -> str:
    return path.read_text("utf-8", "replace")[-chars:] if path.exists() else ""


@flow(name="xinpi-crawl", task_runner=ThreadPoolTaskRunner(max_workers=2), log_prints=True)
def crawl_flow(
    sources: list[str],
    data_dir: str = "data",
    emulator_url: str = "",
    since: str | None = None,
    until: str | None = None,
    settings: dict[str, Any] | None = None,
    refresh: bool = False,
    all_topics: bool = False,
    retry_delays: list[float] | None = None,
) -> dict[str, dict[str, Any]]:
    """Crawl each source (two at a time); a failing source never stops the others.

    ``refresh`` re-fetches stored documents (the weekly re-scan), ``all_topics`` turns the topic
    filter off; ``retry_delays`` overrides the waits between attempts of a failed crawl (its length
    is the number of retries).

    Returns ``{source: figures}``; a source whose crawl failed has ``status: "failed"`` and its
    error, and the flow run ends Failed with a message naming those sources. Sources the health
    check flags carry ``health`` and are named in the final message too.
    """
    started = dt.datetime.now(dt.UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    data_dir = str(Path(data_dir).resolve())
    task = crawl_source
    if retry_delays is not None:
        task = crawl_source.with_options(retries=len(retry_delays), retry_delay_seconds=list(retry_delays))
    futures = {
        s: task.submit(s, data_dir, run_id, emulator_url, since, until, settings,
                       refresh=refresh, all_topics=all_topics)
        for s in sources
    }
    results: dict[str, dict[str, Any]] = {}
    for source, future in futures.items():
        future.wait()
        if future.state.is_completed():
            results[source] = {"status": "ok", **future.result()}
        else:
            error = str(future.result(raise_on_failure=False))
            results[source] = {"status": "failed", "source": source, "error": error,
                               "attempts": _ATTEMPTS.get((run_id, source)), "started": started.isoformat(),
                               "ended": dt.datetime.now(dt.UTC).isoformat()}
        _ATTEMPTS.pop((run_id, source), None)
    flags, note = record_run(results, data_dir, run_id, since, until, refresh, all_topics)
    failed = [s for s, r in results.items() if r["status"] == "failed"]
    health = "; health: " + ", ".join(f"{s} {'+'.join(f)}" for s, f in flags.items()) if flags else ""
    if failed:
        return Failed(message=f"sources failed: {', '.join(failed)}{health}{note}", data=results)
    return Completed(message=f"{len(results)} sources crawled{health}{note}", data=results)


def record_run(results: dict[str, dict[str, Any]], data_dir: str, run_id: str, since: str | None,
               until: str | None, refresh: bool, all_topics: bool) -> tuple[dict[str, list[str]], str]:
    """Health-check the run against the ``runs/`` history, store its rows, attach the UI artifacts.

    Never raises: the crawl's data is already stored, and losing the bookkeeping must not turn a
    good crawl into a failed one (the flow message says so instead). Returns (flags, note).
    """
    logger = get_run_logger()
    try:
        rows = [
            runs_table.run_row(r, run_id=run_id, flow_run_id=current_flow_run.id,
                               flow_run_name=current_flow_run.name, since=since, until=until,
                               refresh=refresh, all_topics=all_topics,
                               log_text=_head(Path(data_dir) / "_runs" / run_id / f"{s}.log"))
            for s, r in results.items()
        ]
        history = runs_table.read_runs(data_dir)
        runs_table.check_health(rows, history)
        flags = runs_table.flagged(rows)
        for row in rows:
            results[row["source"]]["health"] = row["health"]
            if row["health"]:
                logger.warning("%s flagged %s: %s", row["source"], "+".join(row["health"]),
                               row["health_detail"])
        path = runs_table.write_runs(data_dir, run_id, rows)
        logger.info("run figures in %s", path)
    except Exception as exc:  # noqa: BLE001 - see docstring
        logger.error("could not record the run in %s/runs: %r", data_dir, exc)
        return {}, f"; runs table NOT written: {exc!r}"[:300]
    try:
        create_table_artifact(runs_table.artifact_rows(rows), key="crawl-summary",
                              description=f"Crawl {run_id}: per-source figures")
        create_markdown_artifact(runs_table.markdown_summary(rows, run_id, data_dir), key="crawl-report",
                                 description=f"Crawl {run_id}: summary, failures and health flags")
    except Exception as exc:  # noqa: BLE001 - the UI mirror is a convenience, the table is the record
        logger.warning("could not create the run artifacts: %r", exc)
    return flags, ""


def all_sources() -> list[str]:
    """Every spider of the project (what a scheduled crawl with no explicit list covers)."""
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "xinpi.settings")
    return sorted(SpiderLoader.from_settings(get_project_settings()).list())


def backfill_windows(since: str, until: str, chunk_days: int) -> list[tuple[str, str]]:
    """``[since, until]`` cut into inclusive windows of ``chunk_days``, newest first.

    Newest first because the recent past is what readers miss most if a long backfill is stopped.
    """
    start, end = dt.date.fromisoformat(since), dt.date.fromisoformat(until)
    if start > end:
        raise ValueError(f"backfill window is empty: {since} is after {until}")
    if chunk_days < 1:
        raise ValueError("chunk_days must be at least 1")
    windows = []
    hi = end
    while hi >= start:
        lo = max(start, hi - dt.timedelta(days=chunk_days - 1))
        windows.append((lo.isoformat(), hi.isoformat()))
        hi = lo - dt.timedelta(days=1)
    return windows


@flow(name="xinpi-backfill", log_prints=True)
def backfill_flow(
    since: str,
    until: str,
    sources: list[str] | None = None,
    data_dir: str = "data",
    chunk_days: int = 31,
    refresh: bool = True,
    all_topics: bool = False,
    emulator_url: str = "",
    settings: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Crawl a past date window, one crawl-flow run per ``chunk_days`` window (each in runs/).

    ``refresh`` defaults to on: an incremental crawl stops paging at a listing page of stored
    documents, which in an old window may hide the gaps the backfill is meant to fill.
    Returns ``{"since..until": final message}``; ends Failed naming the windows that failed.
    """
    sources = sources or all_sources()
    outcome: dict[str, str] = {}
    failed: list[str] = []
    for lo, hi in backfill_windows(since, until, chunk_days):
        state = crawl_flow(sources, data_dir, emulator_url, lo, hi, settings, refresh, all_topics,
                           return_state=True)
        outcome[f"{lo}..{hi}"] = state.message or state.name
        if not state.is_completed():
            failed.append(f"{lo}..{hi}")
    if failed:
        return Failed(message=f"windows failed: {', '.join(failed)}", data=outcome)
    return Completed(message=f"{len(outcome)} windows crawled", data=outcome)
