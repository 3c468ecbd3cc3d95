"""Second stage: deal mentions and aggregate statements of each document, from the pure extractor.

An extractor bug must cost one document its facts, never the crawl: the exception is logged with the
doc_id, recorded as a failure (stage ``extract``), and the document is kept with no mentions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

from scrapy.crawler import Crawler

from xinpi.extractors import deals
from xinpi.items import DocumentItem
from xinpi.pipelines.failures import record_failure

logger = logging.getLogger(__name__)


class ExtractPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, DocumentItem):
            return item
        doc_id = item.get("doc_id")
        try:
            result = deals.extract_document(
                doc_id, item.get("title") or "", item.get("text") or "", item.get("published_at")
            )
            mentions = _facts(getattr(result, "mentions", None), doc_id)
            aggregates = _facts(getattr(result, "aggregates", None), doc_id)
        except Exception as exc:  # any extractor error is a per-document failure
            logger.exception("extraction failed for %s", doc_id)
            record_failure(
                self.crawler, "extract", item.get("url"), f"{doc_id}: {type(exc).__name__}: {exc}",
                item.get("source"),
            )
            item["mentions"], item["aggregates"] = [], []
            _set_error(item, f"{type(exc).__name__}: {exc}")
            return item
        item["mentions"], item["aggregates"] = mentions, aggregates
        return item


def _facts(value: Any, doc_id: str) -> list[dict[str, Any]]:
    """A list of plain dicts; anything else from the extractor is a bug reported as a failure."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise TypeError(f"extractor returned {type(value).__name__}, not a list")
    out = []
    for fact in value:
        if isinstance(fact, Mapping):
            out.append(dict(fact))
        elif is_dataclass(fact) and not isinstance(fact, type):
            out.append(asdict(fact))
        else:
            raise TypeError(f"extractor returned a {type(fact).__name__} fact, not a dict")
    return out


def _set_error(item: DocumentItem, error: str) -> None:
    """Keep the error on the document if the item declares the field (documents.extract_error)."""
    if "extract_error" in item.fields:
        item["extract_error"] = error[:500]
