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


class EditInPlace:
    """Changes an item the ways a pipeline may: a nested value in place, a field removed, a field
    set to a new value equal to the old, a new item returned for a title holding REPLACE."""

    def process_item(self, item: Any) -> Any:
        if "REPLACE" in (item.get("title") or ""):
            fresh = item.copy()
            fresh["title"] = "replaced"
            return fresh
        item["extra"]["touched"] = ["in place"]  # same dict object, new content
        item.pop("sec_code", None)
        item["text"] = "".join(list(item["text"]))  # an equal str, a different object
        return item


class ReportNiceness:
    """Notes the niceness of the process the chain runs in on each item (``extra.nice``)."""

    def process_item(self, item: Any) -> Any:
        item["extra"] = {**(item.get("extra") or {}), "nice": os.nice(0)}
        return item
