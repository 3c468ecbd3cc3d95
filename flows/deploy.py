"""Deployments: what runs when, declared in code and started by ``xinpi serve``.

Why ``serve`` (a long-running process that owns its schedules) rather than work pools: it needs no
worker infrastructure and runs unchanged on the embedded local Prefect and against a real server
(set ``PREFECT_API_URL``; the same deployments then show in that server's UI). The entrypoints are
module paths (``xinpi.flows.crawl.crawl_flow``), so ``prefect deploy`` to a process work pool also
works without shipping source files.

Every deployment has a concurrency limit of 1 with ``CANCEL_NEW``: a nightly crawl still running when
the next one is due makes the new one end Cancelled (visible in the UI) instead of two crawls writing
the same DATA_DIR at once. Cron schedules are in Asia/Shanghai: the sources publish on Beijing time.

To add a flow to the schedule, append a :class:`Job` to :func:`jobs`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from xinpi.config import configure_offline_prefect

configure_offline_prefect()

from prefect.client.schemas.objects import ConcurrencyLimitConfig  # noqa: E402
from prefect.deployments.runner import EntrypointType, RunnerDeployment  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

TIMEZONE = "Asia/Shanghai"
#: Nightly crawl: 02:00 Beijing, after the exchanges' evening announcement batches.
NIGHTLY_CRON = "0 2 * * *"
#: Weekly re-scan: Sunday 12:00, well clear of the nightly crawl (the two are separate deployments,
#: so their limits do not exclude each other: the schedule does).
WEEKLY_CRON = "0 12 * * 0"
#: Deals table rebuild: 05:00, after the nightly crawl.
DEALS_CRON = "0 5 * * *"
#: Compaction: Sunday 06:00, between the nightly crawl and the weekly re-scan.
COMPACT_CRON = "0 6 * * 0"
#: Days the weekly re-scan looks back (XINPI_DEFAULT_DAYS; a refresh crawl ignores the watermark).
RESCAN_DAYS = 30


def exclusive() -> ConcurrencyLimitConfig:
    """One run at a time; a run due while another is active is cancelled, not queued."""
    return ConcurrencyLimitConfig(limit=1, collision_strategy="CANCEL_NEW")


@dataclass(frozen=True)
class Job:
    """One deployment: a flow (by module and attribute, imported only when deployed), when, with what."""

    name: str
    flow: str  # "xinpi.flows.crawl:crawl_flow"
    cron: str | None
    parameters: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    tags: tuple[str, ...] = ("xinpi",)

    def load_flow(self) -> Any:
        module, attr = self.flow.split(":")
        return getattr(importlib.import_module(module), attr)

    def to_deployment(self) -> RunnerDeployment:
        return self.load_flow().to_deployment(
            name=self.name,
            schedules=[Cron(self.cron, timezone=TIMEZONE)] if self.cron else None,
            concurrency_limit=exclusive(),
            parameters=self.parameters,
            description=self.description,
            tags=list(self.tags),
            entrypoint_type=EntrypointType.MODULE_PATH,
        )


def jobs(data_dir: str, sources: list[str], emulator_url: str = "") -> list[Job]:
    """The project's schedule. ``data_dir`` should be absolute: runs start in the server's cwd."""
    crawl: dict[str, Any] = {"sources": sources, "data_dir": data_dir}
    if emulator_url:  # a rehearsal of the schedule against a running site emulator
        crawl["emulator_url"] = emulator_url
    return [
        Job("nightly-crawl", "xinpi.flows.crawl:crawl_flow", NIGHTLY_CRON, crawl,
            "Every source, incremental from its watermark."),
        Job("weekly-rescan", "xinpi.flows.crawl:crawl_flow", WEEKLY_CRON,
            {**crawl, "refresh": True, "settings": {"XINPI_DEFAULT_DAYS": RESCAN_DAYS}},
            f"Every source, the last {RESCAN_DAYS} days fetched again (refresh=1): catches edits."),
        Job("backfill", "xinpi.flows.crawl:backfill_flow", None,
            {k: v for k, v in crawl.items() if k != "sources"},
            "On demand: give since/until (YYYY-MM-DD); crawled in monthly windows, newest first."),
        Job("nightly-deals", "xinpi.flows.deals:deals_flow", DEALS_CRON, {"data_dir": data_dir},
            "Rebuild the deals table from the mentions."),
        Job("weekly-compact", "xinpi.flows.compact:compact_flow", COMPACT_CRON, {"data_dir": data_dir},
            "Merge small Parquet files and drop duplicate rows."),
    ]


def build(data_dir: str, sources: list[str], emulator_url: str = "",
          only: list[str] | None = None) -> list[RunnerDeployment]:
    """The deployments of :func:`jobs` (or only the named ones), ready for ``prefect.serve``."""
    chosen = [j for j in jobs(data_dir, sources, emulator_url) if not only or j.name in only]
    unknown = set(only or []) - {j.name for j in chosen}
    if unknown:
        raise ValueError(f"unknown deployment(s): {', '.join(sorted(unknown))}")
    return [j.to_deployment() for j in chosen]


def serve(deployments: list[RunnerDeployment], limit: int | None = 2) -> None:
    """Register the deployments with the API and run their schedules until interrupted (SIGTERM/^C)."""
    from prefect import serve as prefect_serve

    prefect_serve(*deployments, limit=limit)
