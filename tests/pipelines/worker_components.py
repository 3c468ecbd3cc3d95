"""Pipeline components that misbehave on purpose, for tests/pipelines/test_worker.py.

They live in a module of their own so the worker process (spawned: it imports what it runs by name,
with the test process's sys.path) can load them.
"""

from __future__ import annotations

import os
from typing import Any


class RaiseOnBoom:
    """Raises for a document whose title holds BOOM (an ordinary pipeline bug)."""

    def process_item(self, item: Any) -> Any:
        if "BOOM" in (item.get("title") or ""):
            raise ValueError("boom in a pipeline")
        return item


class DieOnCrash:
    """Ends the worker process at once (as a segfault or an OOM kill would) for a document whose title
    holds CRASH, or at the Nth item when the setting XINPI_TEST_DIE_AT is N."""

    def __init__(self, die_at: int = 0) -> None:
        self.die_at = die_at
        self.seen = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> DieOnCrash:
        return cls(crawler.settings.getint("XINPI_TEST_DIE_AT", 0))

    def process_item(self, item: Any) -> Any:
        self.seen += 1
        if "CRASH" in (item.get("title") or "") or self.seen == self.die_at:
            os._exit(3)
        return item
