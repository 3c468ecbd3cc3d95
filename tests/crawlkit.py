"""Running a real Scrapy crawl against the emulator from a test, as the flow runs it: a subprocess.

Importable from any test module (``from crawlkit import run_crawl``); conftest modules are not, as
several share the module name ``conftest``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


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
