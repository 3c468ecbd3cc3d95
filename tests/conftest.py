"""Shared fixtures: the site emulator over real HTTP and a helper that runs a real Scrapy crawl.

Crawls run as subprocesses (``python -m scrapy crawl``), the way the flow runs them: Scrapy's
reactor cannot restart within one process, and a subprocess also proves the settings wiring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crawlkit import CrawlResult, run_crawl
from xinpi.emulator.server import Emulator

__all__ = ["CrawlResult", "run_crawl"]


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


@pytest.fixture
def crawl(emulator: Emulator, tmp_path: Path):
    """``crawl("cninfo", args={...})`` runs a real crawl against the emulator in a temp folder."""

    def _crawl(spider: str, **kw: Any) -> CrawlResult:
        return run_crawl(spider, emulator.url, kw.pop("workdir", tmp_path), **kw)

    return _crawl
