"""Last stage: land documents, their facts, failures and register rows as hive-partitioned Parquet.

Layout under ``DATA_DIR`` (see the README's schema reference for every column)::

    documents/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<seq>.parquet
    mentions/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<seq>.parquet
    aggregates/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<seq>.parquet
    failures/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<seq>.parquet
    projects/register=<register>/part-<run_id>-<seq>.parquet

Rows are buffered and written every ``PARQUET_BATCH_SIZE`` items (and at close). A document, its
mentions and its aggregates always travel in the same flush and are published by one journalled
commit (mentions first, documents last), so the facts on disk are exactly those of the document
versions on disk. See :mod:`xinpi.pipelines.store` for why no reader ever sees a partial file.

Exact under concurrency. The crawl lock (:mod:`xinpi.pipelines.lock`) normally keeps a source to one
crawl, but a deployment can fire twice or a lock be bypassed, and dedupe only compared with what was
stored when it looked. So every flush is re-checked against the store as it is NOW, under the
source's commit lock (``DATA_DIR/_state/locks/commit-<source>.lock``, held only for the re-check and
the publish): the shared :func:`~xinpi.pipelines.dedupe.stored_index` reads just the files published
since its last look, then

* a document whose (doc_id, content_sha256) is stored already is dropped from the batch with its
  mentions and aggregates (``xinpi/documents/dropped_concurrent``);
* versions are numbered again against the current store, in batch order (a v1 stored meanwhile
  with other content makes ours v2: ``xinpi/documents/renumbered``).

Register rows get the same treatment on (register, project_id, status, updated_date)
(``xinpi/projects/dropped_concurrent``). The batch is staged before the lock is taken and staged
again only if the re-check changed it, so the lock is held for a few milliseconds per flush.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from scrapy.crawler import Crawler

from xinpi.config import data_dir
from xinpi.items import DocumentItem, FailureItem, ProjectItem
from xinpi.pipelines.dedupe import StoredIndexes, _DocState, project_key, stored_index
from xinpi.pipelines.failures import failure_recorded, record_failure
from xinpi.pipelines.lock import commit_lock_name, hold_locks
from xinpi.pipelines.schema import (
    AGGREGATE_FIELDS,
    DATASETS,
    MENTION_FIELDS,
    SHANGHAI,
    column_types,
    convert,
    fact_row,
    to_date,
    to_json,
    typed_row,
)
from xinpi.pipelines.store import (
    DataStore,
    Staged,
    new_run_id,
    partition_path,
    partition_prefix,
    safe_name,
)

logger = logging.getLogger(__name__)

_DOC_TYPES = dict(column_types("documents"))
_FAILURE_TYPES = dict(column_types("failures"))
_ROW_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError)


@dataclass
class _DocRows:
    """One document version and the facts extracted from it: written together or not at all."""

    doc: dict[str, Any]
    mentions: list[dict[str, Any]] = field(default_factory=list)
    aggregates: list[dict[str, Any]] = field(default_factory=list)


class ParquetWriterPipeline:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.store = DataStore(data_dir(settings.get("DATA_DIR")))
        self.indexes: StoredIndexes = stored_index(crawler)
        # Off only to reproduce what unguarded writers leave (duplicates), e.g. to test compaction.
        self.recheck = settings.getbool("XINPI_LOCK_COMMIT_RECHECK", True)
        self.run_id = safe_name(settings.get("XINPI_RUN_ID") or new_run_id())
        self.batch_size = max(1, settings.getint("PARQUET_BATCH_SIZE", 500))
        self._docs: list[_DocRows] = []
        self._failures: list[dict[str, Any]] = []
        self._projects: list[dict[str, Any]] = []
        self._seq = 0
        crawler.signals.connect(self._on_failure_recorded, signal=failure_recorded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ParquetWriterPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.store.recover()
        logger.info("writing Parquet under %s as run %s", self.store.root, self.run_id)

    def close_spider(self) -> None:
        self.flush()
        self.store.release(self.run_id)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, DocumentItem):
            self._docs.append(self._document_rows(item))
            if len(self._docs) >= self.batch_size:
                self._flush_documents()
        elif isinstance(item, FailureItem):
            self._add_failure(item)
        elif isinstance(item, ProjectItem):
            self._projects.append(self._project_row(item))
            if len(self._projects) >= self.batch_size:
                self._flush_simple("projects", "_projects")
        return item

    def _on_failure_recorded(self, item: FailureItem, **_: Any) -> None:
        self._add_failure(item)

    def _add_failure(self, item: FailureItem) -> None:
        self._failures.append(self._failure_row(item))
        if len(self._failures) >= self.batch_size:
            self._flush_simple("failures", "_failures")

    def flush(self) -> None:
        """Write everything buffered (documents first, so their own failures are not left behind)."""
        self._flush_documents()
        self._flush_simple("projects", "_projects")
        self._flush_simple("failures", "_failures")

    # --- rows ---------------------------------------------------------------------------------

    def _document_rows(self, item: DocumentItem) -> _DocRows:
        published = convert(item.get("published_at"), _DOC_TYPES["published_at"])
        fetched = convert(item.get("fetched_at"), _DOC_TYPES["fetched_at"])
        day = to_date(published) or to_date(fetched) or dt.datetime.now(SHANGHAI).date()
        mentions = list(item.get("mentions") or [])
        aggregates = list(item.get("aggregates") or [])
        head = {
            "source": item.get("source"),
            "date": day,
            "doc_id": item.get("doc_id"),
            "version": item.get("version") or 1,
            "published_at": published,
            "run_id": self.run_id,
        }
        doc = {
            **head,
            "kind": item.get("kind"),
            "url": item.get("url"),
            "title": item.get("title"),
            "published_at_raw": item.get("published_at_raw"),
            "fetched_at": fetched,
            "text": item.get("text"),
            "content_sha256": item.get("content_sha256"),
            "sec_code": item.get("sec_code"),
            "sec_name": item.get("sec_name"),
            "attachment_url": item.get("attachment_url"),
            "author": item.get("author"),
            "media_name": item.get("media_name"),
            "extra": to_json(item.get("extra")),
            "n_mentions": len(mentions),
            "n_aggregates": len(aggregates),
            "extract_error": item.get("extract_error"),
        }
        doc = typed_row("documents", doc)
        return _DocRows(
            doc,
            [fact_row(m, MENTION_FIELDS, {**head, "mention_index": i}) for i, m in enumerate(mentions)],
            [fact_row(a, AGGREGATE_FIELDS, {**head, "aggregate_index": i}) for i, a in enumerate(aggregates)],
        )

    def _failure_row(self, item: FailureItem) -> dict[str, Any]:
        spider = self.crawler.spider
        at = convert(item.get("at"), _FAILURE_TYPES["at"]) or dt.datetime.now(dt.UTC)
        row = {
            "source": item.get("source") or (spider.name if spider is not None else None),
            "date": at.astimezone(SHANGHAI).date(),
            "url": item.get("url"),
            "stage": item.get("stage"),
            "error": item.get("error"),
            "http_status": item.get("http_status"),
            "at": at,
            "run_id": self.run_id,
        }
        return typed_row("failures", row)

    def _project_row(self, item: ProjectItem) -> dict[str, Any]:
        row = {name: item.get(name) for name in item.fields if name != "extra"}
        row["extra"] = to_json(item.get("extra"))
        row["run_id"] = self.run_id
        return typed_row("projects", row)

    # --- flushing -----------------------------------------------------------------------------

    def _next_name(self) -> str:
        self._seq += 1
        return f"part-{self.run_id}-{self._seq:05d}.parquet"

    def _flush_documents(self) -> None:
        batch, self._docs = self._docs, []
        if not batch:
            return
        try:
            tables = _document_tables(batch)
        except _ROW_ERRORS:  # find the culprits one by one; keep the rest
            good = []
            for entry in batch:
                try:
                    _document_tables([entry])
                    good.append(entry)
                except _ROW_ERRORS as exc:
                    record_failure(
                        self.crawler, "write", entry.doc["url"], f"{entry.doc['doc_id']}: {exc}",
                        entry.doc["source"],
                    )
            batch, tables = good, _document_tables(good)
        if not batch:
            return
        sources = sorted({e.doc["source"] for e in batch})
        final = {"batch": batch}

        def recheck() -> list[tuple[Path, pa.Table]] | None:
            kept, renumbered = self._recheck_documents(batch)
            if len(kept) == len(batch) and not renumbered:
                return None
            final["batch"] = kept
            return _document_tables(kept)

        name = self._next_name()
        locks = [commit_lock_name("documents", src) for src in sources]
        published = self._commit(tables, name, f"{len(batch)} documents", locks, recheck)
        if published is None:
            return
        batch = final["batch"]
        for src in sources:
            self.indexes.documents(src).add(
                [e.doc for e in batch if e.doc["source"] == src],
                self._files_of(published, "documents", source=src),
            )
        if batch:
            stats = self.crawler.stats
            stats.inc_value("xinpi/documents/written", len(batch))
            stats.inc_value("xinpi/mentions", sum(len(e.mentions) for e in batch))
            stats.inc_value("xinpi/aggregates", sum(len(e.aggregates) for e in batch))

    def _recheck_documents(self, batch: list[_DocRows]) -> tuple[list[_DocRows], int]:
        """Drop what is stored now, number versions against the store (called under the locks)."""
        for src in {e.doc["source"] for e in batch}:
            self.indexes.documents(src).refresh()
        work: dict[tuple[str, str], _DocState] = {}
        kept: list[_DocRows] = []
        dropped = renumbered = 0
        for entry in batch:
            doc = entry.doc
            key = (doc["source"], doc["doc_id"])
            if key not in work:
                stored = self.indexes.documents(doc["source"]).states.get(doc["doc_id"])
                work[key] = stored.copy() if stored else _DocState()
            state = work[key]
            sha = doc["content_sha256"]
            if sha and sha in state.hashes:
                dropped += 1
                continue
            version = state.version + 1
            if version != doc["version"]:
                logger.warning("%s: version %s stored meanwhile by another run; ours is version %d",
                               doc["doc_id"], doc["version"], version)
                for row in (doc, *entry.mentions, *entry.aggregates):
                    row["version"] = version
                renumbered += 1
            state.add(version, sha)
            kept.append(entry)
        stats = self.crawler.stats
        if dropped:
            logger.warning("%d document(s) of this batch were stored meanwhile by another run: dropped",
                           dropped)
            stats.inc_value("xinpi/documents/dropped_concurrent", dropped)
        if renumbered:
            stats.inc_value("xinpi/documents/renumbered", renumbered)
        return kept, renumbered

    def _flush_simple(self, dataset: str, attr: str) -> None:
        rows: list[dict[str, Any]] = getattr(self, attr)
        setattr(self, attr, [])
        if not rows:
            return
        tables = _partitioned(dataset, rows)
        if dataset != "projects":  # failures are events of this run: nothing to dedupe against
            if self._commit(tables, self._next_name(), f"{len(rows)} {dataset} rows") is not None:
                self.crawler.stats.inc_value(f"xinpi/{dataset}/written", len(rows))
            return
        registers = sorted({r["register"] for r in rows}, key=str)
        final = {"rows": rows}

        def recheck() -> list[tuple[Path, pa.Table]] | None:
            kept = self._recheck_projects(rows)
            if len(kept) == len(rows):
                return None
            final["rows"] = kept
            return _partitioned("projects", kept)

        locks = [commit_lock_name("projects", reg) for reg in registers]
        published = self._commit(tables, self._next_name(), f"{len(rows)} projects rows", locks, recheck)
        if published is None:
            return
        rows = final["rows"]
        for reg in registers:
            self.indexes.projects(reg).add(
                [r for r in rows if r["register"] == reg],
                self._files_of(published, "projects", register=reg),
            )
        if rows:
            self.crawler.stats.inc_value("xinpi/projects/written", len(rows))

    def _recheck_projects(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: dict[str | None, set] = {}
        kept = []
        for row in rows:
            reg = row["register"]
            if reg not in seen:
                index = self.indexes.projects(reg)
                index.refresh()
                seen[reg] = set(index.keys)
            key = project_key(row["project_id"], row["status"], row["updated_date"])
            if key in seen[reg]:
                continue
            seen[reg].add(key)
            kept.append(row)
        if len(kept) < len(rows):
            logger.warning("%d register row(s) were stored meanwhile by another run: dropped",
                           len(rows) - len(kept))
            self.crawler.stats.inc_value("xinpi/projects/dropped_concurrent", len(rows) - len(kept))
        return kept

    def _files_of(self, published: list[Path], dataset: str, **partition: Any) -> list[str]:
        prefix = Path(dataset) / partition_prefix(dataset, **partition)
        rels = (p.relative_to(self.store.root) for p in published)
        return [str(r) for r in rels if r.is_relative_to(prefix)]

    def _commit(
        self,
        tables: list[tuple[Path, pa.Table]],
        name: str,
        what: str,
        locks: list[str] | None = None,
        recheck: Callable[[], list[tuple[Path, pa.Table]] | None] | None = None,
    ) -> list[Path] | None:
        """Stage, then under ``locks`` re-check (``recheck`` returns replacement tables, or None
        when the batch stands) and publish. Returns the published files, None if nothing could be
        written."""
        staged: list[Staged] = []
        try:
            staged = self._stage(tables, name)
            with hold_locks(self.store.root, locks or ()):
                replacement = recheck() if recheck is not None and self.recheck else None
                if replacement is not None:
                    _unlink(staged)
                    staged = []
                    staged = self._stage(replacement, name)
                return self.store.commit(self.run_id, staged, locks or ())
        except OSError as exc:  # includes TimeoutError: a commit lock held for minutes
            # Nothing of this flush is visible; the next run fetches these items again (not stored).
            _unlink(staged)
            logger.error("could not write %s (%s): %s", what, name, exc)
            self.crawler.stats.inc_value("xinpi/failures/write")
            return None

    def _stage(self, tables: list[tuple[Path, pa.Table]], name: str) -> list[Staged]:
        staged: list[Staged] = []
        try:
            for folder, table in tables:
                staged.append(self.store.stage(self.run_id, table, folder / name))
        except BaseException:
            _unlink(staged)
            raise
        return staged


def _unlink(staged: list[Staged]) -> None:
    for s in staged:
        s.tmp.unlink(missing_ok=True)


def _document_tables(batch: list[_DocRows]) -> list[tuple[Path, pa.Table]]:
    """Tables per partition folder, in commit order: facts first, the documents themselves last.

    A fact row's partition columns are its document's (``_document_rows`` copies them), so facts
    are grouped by their document's folder: one lookup per document, not one per fact row."""
    mentions: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    aggregates: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for entry in batch:
        if entry.mentions:
            mentions[partition_path("mentions", entry.doc)] += entry.mentions
        if entry.aggregates:
            aggregates[partition_path("aggregates", entry.doc)] += entry.aggregates
    return [
        *_tables("mentions", mentions),
        *_tables("aggregates", aggregates),
        *_partitioned("documents", [e.doc for e in batch]),
    ]


def _partitioned(dataset: str, rows: Iterable[dict[str, Any]]) -> list[tuple[Path, pa.Table]]:
    groups: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[partition_path(dataset, row)].append(row)
    return _tables(dataset, groups)


def _tables(dataset: str, groups: dict[Path, list[dict[str, Any]]]) -> list[tuple[Path, pa.Table]]:
    schema, _ = DATASETS[dataset]
    return [(folder, pa.Table.from_pylist(group, schema=schema)) for folder, group in sorted(groups.items())]
