"""Third stage: store each document content once, across runs and within a run; keep changed content.

Sources republish: lists overlap between days, a flow retries, a deployment fires twice. The data
must stay the same whatever the orchestrator does, so the pipeline compares every document with what
``DATA_DIR`` already holds (doc_id, content_sha256, version: three narrow columns of one source's
folder, read once per source) and with what this run already let through.

* same doc_id, a content hash already stored for it -> dropped (``xinpi/documents/seen``)
* same doc_id, new content (the source edited it)  -> stored as version max+1 (``.../changed``)
* new doc_id                                      -> version 1 (``.../new``)

A hash matching *any* earlier version counts as seen, not only the latest: a page that flips between
two renderings must not mint a new version on every crawl.

Project-register rows dedupe on (register, project_id, status, updated_date) the same way
(``xinpi/projects/new`` / ``seen``): a project in a new status is a new row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from xinpi.config import data_dir
from xinpi.items import DocumentItem, ProjectItem
from xinpi.pipelines.schema import to_date
from xinpi.pipelines.store import DataStore, partition_prefix

logger = logging.getLogger(__name__)


@dataclass
class _DocState:
    version: int = 0
    hashes: set[str] = field(default_factory=set)


ProjectKey = tuple[str | None, str | None, Any]  # project_id, status, updated_date


class DedupePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.store = DataStore(data_dir(crawler.settings.get("DATA_DIR")))
        self._docs: dict[str, dict[str, _DocState]] = {}  # source -> doc_id -> state
        self._projects: dict[str | None, set[ProjectKey]] = {}  # register -> keys

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        # Finish any commit a killed run left half-done before reading what is stored.
        self.store.recover()
        spider = self.crawler.spider
        if spider is not None:
            self._doc_states(spider.name)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, DocumentItem):
            return self._document(item)
        if isinstance(item, ProjectItem):
            return self._project(item)
        return item

    # --- documents ----------------------------------------------------------------------------

    def _doc_states(self, source: str) -> dict[str, _DocState]:
        if source not in self._docs:
            table = self.store.read_columns(
                "documents",
                ["doc_id", "content_sha256", "version"],
                partition_prefix("documents", source=source),
            )
            states: dict[str, _DocState] = {}
            cols = table.to_pydict()
            for doc_id, sha, version in zip(
                cols["doc_id"], cols["content_sha256"], cols["version"], strict=True
            ):
                state = states.setdefault(doc_id, _DocState())
                state.version = max(state.version, version or 0)
                if sha:
                    state.hashes.add(sha)
            self._docs[source] = states
            logger.info("dedupe: %d stored documents of %s", len(states), source)
        return self._docs[source]

    def _document(self, item: DocumentItem) -> DocumentItem:
        stats = self.crawler.stats
        states = self._doc_states(item["source"])
        state = states.get(item["doc_id"])
        sha = item["content_sha256"]
        if state is None:
            item["version"] = 1
            states[item["doc_id"]] = _DocState(1, {sha})
            stats.inc_value("xinpi/documents/new")
            return item
        if sha in state.hashes:
            stats.inc_value("xinpi/documents/seen")
            raise DropItem(f"{item['doc_id']}: already stored with this content")
        state.version += 1
        state.hashes.add(sha)
        item["version"] = state.version
        stats.inc_value("xinpi/documents/changed")
        logger.info("%s changed at source: stored as version %d", item["doc_id"], state.version)
        return item

    # --- project register rows ----------------------------------------------------------------

    def _project_keys(self, register: str | None) -> set[ProjectKey]:
        if register not in self._projects:
            table = self.store.read_columns(
                "projects",
                ["project_id", "status", "updated_date"],
                partition_prefix("projects", register=register),
            )
            cols = table.to_pydict()
            self._projects[register] = set(
                zip(cols["project_id"], cols["status"], cols["updated_date"], strict=True)
            )
        return self._projects[register]

    def _project(self, item: ProjectItem) -> ProjectItem:
        keys = self._project_keys(_str(item.get("register")))
        key = (_str(item.get("project_id")), _str(item.get("status")), to_date(item.get("updated_date")))
        if key in keys:
            self.crawler.stats.inc_value("xinpi/projects/seen")
            raise DropItem(f"project {key} already stored")
        keys.add(key)
        self.crawler.stats.inc_value("xinpi/projects/new")
        return item


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
