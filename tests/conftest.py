"""Shared fixtures: the site emulator over real HTTP and a helper that runs a real Scrapy crawl.

Crawls run as subprocesses (``python -m scrapy crawl``), the way the flow runs them: Scrapy's
reactor cannot restart within one process, and a subprocess also proves the settings wiring.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from xinpi.emulator.server import Emulator

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def emulator_server():
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: Emulator):
    """The session's emulator with a clean request log and no faults left from another test."""
    emulator_server.clear()
    yield emulator_server
    emulator_server.clear()


@dataclass
class CrawlResult:
    returncode: int
    items: list[dict[str, Any]]
    stats: dict[str, Any]
    log: str
    data_dir: Path

    def documents(self) -> list[dict[str, Any]]:
        return [i for i in self.items if "doc_id" in i]

    def failures(self) -> list[dict[str, Any]]:
        return [i for i in self.items if "stage" in i]


def run_crawl(
    spider: str,
    emulator_url: str,
    workdir: Path,
    args: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    pipelines: bool = False,
    timeout: float = 120,
) -> CrawlResult:
    """Run ``scrapy crawl spider`` against the emulator; items come back through a JSON-lines feed.

    With ``pipelines=False`` the item pipelines are off, so a spider test sees exactly what the
    spider yielded; with ``True`` the full pipeline writes Parquet under ``workdir/data``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    feed = workdir / f"{spider}-items.jsonl"
    stats = workdir / f"{spider}-stats.json"
    data_dir = workdir / "data"
    opts = {
        "XINPI_EMULATOR_URL": emulator_url,
        "DATA_DIR": str(data_dir),
        "XINPI_STATS_FILE": str(stats),
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "False",
        "RETRY_TIMES": "2",
        "LOG_LEVEL": "INFO",
        **({} if pipelines else {"ITEM_PIPELINES": "{}"}),
        **{k: (json.dumps(v) if isinstance(v, dict | list) else str(v)) for k, v in (settings or {}).items()},
    }
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-O", f"{feed}:jsonlines"]
    for k, v in opts.items():
        cmd += ["-s", f"{k}={v}"]
    for k, v in (args or {}).items():
        cmd += ["-a", f"{k}={v}"]
    env = {**os.environ, "XINPI_CACHE_DIR": str(ROOT / ".tmp" / "cache")}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    items = [json.loads(line) for line in feed.read_text("utf-8").splitlines()] if feed.exists() else []
    stats_obj = json.loads(stats.read_text("utf-8")) if stats.exists() else {}
    return CrawlResult(proc.returncode, items, stats_obj, proc.stderr, data_dir)


@pytest.fixture
def crawl(emulator: Emulator, tmp_path: Path):
    """``crawl("cninfo", args={...})`` runs a real crawl against the emulator in a temp folder."""

    def _crawl(spider: str, **kw: Any) -> CrawlResult:
        return run_crawl(spider, emulator.url, kw.pop("workdir", tmp_path), **kw)

    return _crawl
