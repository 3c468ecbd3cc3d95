"""Last stage: land documents, their facts, failures and register rows as hive-partitioned Parquet.

Layout under ``DATA_DIR`` (see docs/schema.md for every column)::

    documents/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<seq>.parquet
    mentions/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<seq>.parquet
    aggregates/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<seq>.parquet
    failures/source=<source>/date=<YYYY-MM-DD>/part-<run_id>-<seq>.parquet
    projects/register=<register>/part-<run_id>-<seq>.parquet

Rows are buffered and written every ``PARQUET_BATCH_SIZE`` items (and at close). A document, its
mentions and its aggregates always travel in the same flush and are published by one journalled
commit (mentions first, documents last), so the facts on disk are exactly those of the document
versions on disk. See :mod:`xinpi.pipelines.store` for why no reader ever sees a partial file.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from scrapy.crawler import Crawler

from xinpi.config import data_dir
from xinpi.items import DocumentItem, FailureItem, ProjectItem
from xinpi.pipelines.failures import failure_recorded, record_failure
from xinpi.pipelines.schema import (
    AGGREGATE_FIELDS,
    DATASETS,
    MENTION_FIELDS,
    SHANGHAI,
    convert,
    fact_row,
    to_date,
    to_json,
)
from xinpi.pipelines.store import DataStore, Staged, new_run_id, partition_path, safe_name

logger = logging.getLogger(__name__)

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
        published = convert(item.get("published_at"), DATASETS["documents"][0].field("published_at").type)
        fetched = convert(item.get("fetched_at"), DATASETS["documents"][0].field("fetched_at").type)
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
        schema = DATASETS["documents"][0]
        doc = {name: convert(doc.get(name), schema.field(name).type) for name in schema.names}
        return _DocRows(
            doc,
            [{**head, "mention_index": i, **fact_row(m, MENTION_FIELDS)} for i, m in enumerate(mentions)],
            [
                {**head, "aggregate_index": i, **fact_row(a, AGGREGATE_FIELDS)}
                for i, a in enumerate(aggregates)
            ],
        )

    def _failure_row(self, item: FailureItem) -> dict[str, Any]:
        spider = self.crawler.spider
        at = convert(item.get("at"), DATASETS["failures"][0].field("at").type) or dt.datetime.now(dt.UTC)
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
        return _typed("failures", row)

    def _project_row(self, item: ProjectItem) -> dict[str, Any]:
        row = {name: item.get(name) for name in item.fields if name != "extra"}
        row["extra"] = to_json(item.get("extra"))
        row["run_id"] = self.run_id
        return _typed("projects", row)

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
        name = self._next_name()
        if self._commit(tables, name, what=f"{len(batch)} documents"):
            stats = self.crawler.stats
            stats.inc_value("xinpi/documents/written", len(batch))
            stats.inc_value("xinpi/mentions", sum(len(e.mentions) for e in batch))
            stats.inc_value("xinpi/aggregates", sum(len(e.aggregates) for e in batch))

    def _flush_simple(self, dataset: str, attr: str) -> None:
        rows: list[dict[str, Any]] = getattr(self, attr)
        setattr(self, attr, [])
        if not rows:
            return
        tables = _partitioned(dataset, rows)
        if self._commit(tables, self._next_name(), what=f"{len(rows)} {dataset} rows"):
            self.crawler.stats.inc_value(f"xinpi/{dataset}/written", len(rows))

    def _commit(self, tables: list[tuple[Path, pa.Table]], name: str, what: str) -> bool:
        staged: list[Staged] = []
        try:
            for folder, table in tables:
                staged.append(self.store.stage(self.run_id, table, folder / name))
            self.store.commit(self.run_id, staged)
        except OSError as exc:
            # Nothing of this flush is visible; the next run fetches these items again (not stored).
            for s in staged:
                s.tmp.unlink(missing_ok=True)
            logger.error("could not write %s (%s): %s", what, name, exc)
            self.crawler.stats.inc_value("xinpi/failures/write")
            return False
        return True


def _typed(dataset: str, row: dict[str, Any]) -> dict[str, Any]:
    schema = DATASETS[dataset][0]
    return {name: convert(row.get(name), schema.field(name).type) for name in schema.names}


def _document_tables(batch: list[_DocRows]) -> list[tuple[Path, pa.Table]]:
    """Tables per partition folder, in commit order: facts first, the documents themselves last."""
    return [
        *_partitioned("mentions", [m for e in batch for m in e.mentions]),
        *_partitioned("aggregates", [a for e in batch for a in e.aggregates]),
        *_partitioned("documents", [e.doc for e in batch]),
    ]


def _partitioned(dataset: str, rows: Iterable[dict[str, Any]]) -> list[tuple[Path, pa.Table]]:
    schema, _ = DATASETS[dataset]
    groups: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[partition_path(dataset, row)].append(row)
    return [(folder, pa.Table.from_pylist(group, schema=schema)) for folder, group in sorted(groups.items())]
