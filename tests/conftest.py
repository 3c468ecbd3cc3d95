"""Shared fixtures: the site emulator over real HTTP and a helper that runs a real Scrapy crawl.

Crawls run as subprocesses (``python -m scrapy crawl``), the way the flow runs them: Scrapy's
reactor cannot restart within one process, and a subprocess also proves the settings wiring.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from crawlkit import CrawlResult, run_crawl
from xinpi.config import configure_offline_prefect
from xinpi.emulator.server import Emulator

# Every test process (each pytest-xdist worker is one) gets a throw-away Prefect home, so the
# ephemeral Prefect servers that flow tests start never share a SQLite database with each other
# or with `make demo` (the Makefile exports PREFECT_HOME=.tmp/prefect). Set, with the project's
# other offline Prefect defaults, before any test module imports prefect.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="xinpi-prefect-")
configure_offline_prefect()

__all__ = ["CrawlResult", "run_crawl"]


@pytest.fixture(scope="module", autouse=True)
def _close_prefect_event_stream():
    """After a module that ran a Prefect flow, close Prefect's event stream to its server.

    The stream is a websocket that a background thread keeps alive with pings, and ``websockets``
    draws each ping's payload from the global ``random``. Left open, it ran on beside later modules
    in the same xdist worker, and a ping that fell inside a Hypothesis draw there changed the random
    state under it: Hypothesis then warned "Do not use the random module inside strategies" about a
    strategy that does not. Prefect's own test harness drains the same worker when it stops.
    """
    yield
    worker = sys.modules.get("prefect.events.worker")
    if worker is not None:  # only modules that imported Prefect can have started it
        worker.EventsWorker.drain_all(timeout=30)


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
