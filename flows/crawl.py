"""The crawl flow: one Prefect task per source, each running its Scrapy crawl in a subprocess.

A subprocess per crawl because Scrapy's Twisted reactor cannot be restarted inside one process, and
because a crashed or killed crawl must not take the flow (or the other sources) down with it. Each
crawl leaves its Scrapy stats in a JSON file; the task turns them into the per-source figures that
the flow returns and that ``xinpi demo`` / ``xinpi crawl`` print.
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
from prefect.states import Completed, Failed  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

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
    out["failures"] = sum(int(v) for k, v in stats.items() if k.startswith("xinpi/failures/"))
    out["failures_by_stage"] = {
        k.removeprefix("xinpi/failures/"): int(v) for k, v in stats.items() if k.startswith("xinpi/failures/")
    }
    out["responses_by_status"] = {
        k.rsplit("/", 1)[-1]: int(v)
        for k, v in stats.items()
        if k.startswith("downloader/response_status_count/")
    }
    out["finish_reason"] = stats.get("finish_reason", "")
    return out


def crawl_command(source: str, settings: dict[str, Any], args: dict[str, str]) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", source]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={json.dumps(value) if isinstance(value, dict | list) else value}"]
    for key, value in args.items():
        cmd += ["-a", f"{key}={value}"]
    return cmd


@task(name="crawl-source", retries=2, retry_delay_seconds=[5, 30], task_run_name="crawl-{source}")
def crawl_source(
    source: str,
    data_dir: str,
    run_id: str,
    emulator_url: str = "",
    since: str | None = None,
    until: str | None = None,
    settings: dict[str, Any] | None = None,
    timeout_s: float = 3600,
) -> dict[str, Any]:
    """Run one source's crawl to completion and return its figures; raise if the process failed."""
    logger = get_run_logger()
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
    args = {k: v for k, v in {"since": since, "until": until}.items() if v}
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "xinpi.settings"}
    started = dt.datetime.now(dt.UTC)
    logger.info("crawling %s (log: %s)", source, log_file)
    proc = subprocess.run(crawl_command(source, opts, args), env=env, capture_output=True, text=True,
                          timeout=timeout_s)
    if proc.returncode != 0 or not stats_file.exists():
        tail = (proc.stderr or "")[-2000:] or _tail(log_file)
        raise CrawlError(f"crawl of {source} exited with {proc.returncode}: {tail.strip()[-500:]}")
    figures = summarise(json.loads(stats_file.read_text("utf-8")))
    figures.update(source=source, started=started.isoformat(), ended=dt.datetime.now(dt.UTC).isoformat())
    logger.info("%s: %s", source, {k: v for k, v in figures.items() if isinstance(v, int)})
    return figures


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
) -> dict[str, dict[str, Any]]:
    """Crawl each source (two at a time); a failing source never stops the others.

    Returns ``{source: figures}``; a source whose crawl failed has ``status: "failed"`` and its
    error, and the flow run ends Failed with a message naming those sources.
    """
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    data_dir = str(Path(data_dir).resolve())
    futures = {
        s: crawl_source.submit(s, data_dir, run_id, emulator_url, since, until, settings) for s in sources
    }
    results: dict[str, dict[str, Any]] = {}
    for source, future in futures.items():
        future.wait()
        if future.state.is_completed():
            results[source] = {"status": "ok", **future.result()}
        else:
            error = str(future.result(raise_on_failure=False))
            results[source] = {"status": "failed", "source": source, "error": error}
    failed = [s for s, r in results.items() if r["status"] == "failed"]
    if failed:
        return Failed(message=f"sources failed: {', '.join(failed)}", data=results)
    return Completed(message=f"{len(results)} sources crawled", data=results)
