"""Deal extraction entry point (placeholder until the analyst-grade extractor lands)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Extraction:
    mentions: list[dict[str, Any]] = field(default_factory=list)
    aggregates: list[dict[str, Any]] = field(default_factory=list)


def extract_document(
    doc_id: str, title: str, text: str, published_at: dt.datetime | None = None
) -> Extraction:
    """Facts of one document; spans are [start, end) offsets into ``title + "\\n" + text``."""
    return Extraction()
