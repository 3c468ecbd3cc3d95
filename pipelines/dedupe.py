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

What is stored is tracked by :class:`StoredDocuments` / :class:`StoredProjects`, one per crawl and
source (or register), shared with the Parquet writer through :func:`stored_index`. They remember which
files they have read, so bringing them up to date reads only files published since the last look:
the writer does that under its commit lock, just before publishing, and drops or re-numbers what a
concurrent run stored meanwhile (see :mod:`xinpi.pipelines.parquet`). The verdicts here are the
cheap first pass; the writer's re-check is the one that guarantees the data.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable
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

    def copy(self) -> _DocState:
        return _DocState(self.version, set(self.hashes))

    def add(self, version: int | None, sha: str | None) -> None:
        self.version = max(self.version, version or 0)
        if sha:
            self.hashes.add(sha)


ProjectKey = tuple[str | None, str | None, Any]  # project_id, status, updated_date


class _StoredIndex:
    """Narrow columns of one partition folder, read file by file as files appear.

    Files are tracked by name. A known file that disappeared means someone rewrote the folder
    (compaction merges files): the index is rebuilt from scratch then, which costs one full read.
    """

    dataset: str
    columns: list[str]

    def __init__(self, store: DataStore, subdir: str) -> None:
        self.store = store
        self.subdir = subdir
        self.known_files: set[str] = set()
        self.files_read = 0  # for tests and logs: how much reading the refreshes cost
        self._reset()

    def _reset(self) -> None:
        raise NotImplementedError

    def _fold(self, cols: dict[str, list[Any]]) -> None:
        raise NotImplementedError

    def refresh(self) -> int:
        """Read the files published since the last look; returns how many were read."""
        for _ in range(5):
            names = set(self.store.files(self.dataset, self.subdir))
            if self.known_files - names:
                logger.info("%s/%s was rewritten: reading it again", self.dataset, self.subdir)
                self.known_files = set()
                self._reset()
            new = sorted(names - self.known_files)
            if not new:
                return 0
            try:
                table = self.store.read_files(self.dataset, self.columns, new)
            except FileNotFoundError:  # removed between listing and reading (compaction): look again
                continue
            self._fold(table.to_pydict())
            self.known_files.update(new)
            self.files_read += len(new)
            return len(new)
        raise RuntimeError(f"{self.dataset}/{self.subdir} keeps changing under the reader")

    def add(self, rows: Iterable[dict[str, Any]], files: Iterable[str]) -> None:
        """Our own rows, just published as ``files``: known without reading them back."""
        rows = list(rows)
        self._fold({c: [r.get(c) for r in rows] for c in self.columns})
        self.known_files.update(files)


class StoredDocuments(_StoredIndex):
    """doc_id -> highest stored version and every stored content hash, for one source."""

    dataset = "documents"
    columns = ["doc_id", "content_sha256", "version"]

    def __init__(self, store: DataStore, source: str) -> None:
        super().__init__(store, str(partition_prefix("documents", source=source)))
        self.source = source

    def _reset(self) -> None:
        self.states: dict[str, _DocState] = {}

    def _fold(self, cols: dict[str, list[Any]]) -> None:
        for doc_id, sha, version in zip(cols["doc_id"], cols["content_sha256"], cols["version"], strict=True):
            self.states.setdefault(doc_id, _DocState()).add(version, sha)


class StoredProjects(_StoredIndex):
    """(project_id, status, updated_date) keys of one register."""

    dataset = "projects"
    columns = ["project_id", "status", "updated_date"]

    def __init__(self, store: DataStore, register: str | None) -> None:
        super().__init__(store, str(partition_prefix("projects", register=register)))
        self.register = register

    def _reset(self) -> None:
        self.keys: set[ProjectKey] = set()

    def _fold(self, cols: dict[str, list[Any]]) -> None:
        self.keys.update(project_key(p, s, d) for p, s, d in zip(
            cols["project_id"], cols["status"], cols["updated_date"], strict=True
        ))


def project_key(project_id: Any, status: Any, updated_date: Any) -> ProjectKey:
    return (_str(project_id), _str(status), to_date(updated_date))


class StoredIndexes:
    """The indexes of one crawl, by source and register, shared by dedupe and the writer."""

    def __init__(self, store: DataStore) -> None:
        self.store = store
        self._documents: dict[str, StoredDocuments] = {}
        self._projects: dict[str | None, StoredProjects] = {}

    def documents(self, source: str) -> StoredDocuments:
        if source not in self._documents:
            index = StoredDocuments(self.store, source)
            index.refresh()
            logger.info("dedupe: %d stored documents of %s", len(index.states), source)
            self._documents[source] = index
        return self._documents[source]

    def projects(self, register: str | None) -> StoredProjects:
        if register not in self._projects:
            index = StoredProjects(self.store, register)
            index.refresh()
            self._projects[register] = index
        return self._projects[register]


_INDEXES: weakref.WeakKeyDictionary[Crawler, StoredIndexes] = weakref.WeakKeyDictionary()


def stored_index(crawler: Crawler) -> StoredIndexes:
    """This crawl's view of what ``DATA_DIR`` holds (one per crawler, created on first use)."""
    if crawler not in _INDEXES:
        _INDEXES[crawler] = StoredIndexes(DataStore(data_dir(crawler.settings.get("DATA_DIR"))))
    return _INDEXES[crawler]


class DedupePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.indexes = stored_index(crawler)
        self.store = self.indexes.store
        # What this run let through (written or still buffered in the writer), on top of the store.
        self._pending: dict[str, dict[str, _DocState]] = {}  # source -> doc_id -> state
        self._pending_projects: dict[str | None, set[ProjectKey]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        # Finish any commit a killed run left half-done before reading what is stored. The store
        # itself is read at the first item: after the crawl lock is taken (spider_opened), so a
        # crawl that is skipped reads nothing and one that waited reads what the other stored.
        self.store.recover()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, DocumentItem):
            return self._document(item)
        if isinstance(item, ProjectItem):
            return self._project(item)
        return item

    # --- documents ----------------------------------------------------------------------------

    def _document(self, item: DocumentItem) -> DocumentItem:
        stats = self.crawler.stats
        source = item["source"]
        stored = self.indexes.documents(source).states.get(item["doc_id"])
        pending = self._pending.setdefault(source, {}).get(item["doc_id"])
        sha = item["content_sha256"]
        if stored is None and pending is None:
            item["version"] = 1
            self._pending[source][item["doc_id"]] = _DocState(1, {sha})
            stats.inc_value("xinpi/documents/new")
            return item
        if (stored and sha in stored.hashes) or (pending and sha in pending.hashes):
            stats.inc_value("xinpi/documents/seen")
            raise DropItem(f"{item['doc_id']}: already stored with this content")
        version = max(stored.version if stored else 0, pending.version if pending else 0) + 1
        state = self._pending[source].setdefault(item["doc_id"], _DocState())
        state.add(version, sha)
        item["version"] = version
        stats.inc_value("xinpi/documents/changed")
        logger.info("%s changed at source: stored as version %d", item["doc_id"], version)
        return item

    # --- project register rows ----------------------------------------------------------------

    def _project(self, item: ProjectItem) -> ProjectItem:
        register = _str(item.get("register"))
        key = project_key(item.get("project_id"), item.get("status"), item.get("updated_date"))
        pending = self._pending_projects.setdefault(register, set())
        if key in self.indexes.projects(register).keys or key in pending:
            self.crawler.stats.inc_value("xinpi/projects/seen")
            raise DropItem(f"project {key} already stored")
        pending.add(key)
        self.crawler.stats.inc_value("xinpi/projects/new")
        return item


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
