"""What a run left in DATA_DIR, in figures a person reads after ``xinpi demo`` or a nightly crawl."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds


def dataset_rows(data_dir: Path, name: str, columns: list[str]) -> list[dict[str, Any]]:
    """Rows of one dataset (only ``columns``); an absent dataset has none."""
    root = data_dir / name
    if not root.exists() or not any(root.rglob("*.parquet")):
        return []
    # Partition keys are stored in the files too (with their real types), so no hive parsing.
    dataset = ds.dataset(root, format="parquet", exclude_invalid_files=True)
    present = [c for c in columns if c in dataset.schema.names]
    return dataset.to_table(columns=present).to_pylist()


def store_summary(data_dir: Path) -> dict[str, Any]:
    """Documents per source, deal mentions, aggregates, failures and register rows in the store."""
    docs = dataset_rows(data_dir, "documents", ["source", "doc_id"])
    mentions = dataset_rows(data_dir, "mentions", ["doc_id", "deal_name"])
    return {
        "documents_by_source": dict(sorted(Counter(r["source"] for r in docs).items())),
        "documents": len(docs),
        "distinct_doc_ids": len({r["doc_id"] for r in docs}),
        "mentions": len(mentions),
        "distinct_deals": len({r["deal_name"] for r in mentions if r.get("deal_name")}),
        "aggregates": len(dataset_rows(data_dir, "aggregates", ["doc_id"])),
        "failures": len(dataset_rows(data_dir, "failures", ["url"])),
        "projects": len(dataset_rows(data_dir, "projects", ["project_id"])),
    }


def format_run(results: dict[str, dict[str, Any]], summary: dict[str, Any], data_dir: Path) -> str:
    """A short plain-text report: this run per source, then what the store holds now."""
    lines = ["", "This run, per source:"]
    lines.append(
        f"  {'source':<14}{'status':<8}{'requests':>9}{'new':>6}{'seen':>6}"
        f"{'changed':>8}{'mentions':>9}{'projects':>9}{'failures':>9}"
    )
    for source, r in sorted(results.items()):
        if r.get("status") != "ok":
            lines.append(f"  {source:<14}{'FAILED':<8}  {str(r.get('error', ''))[:100]}")
            continue
        lines.append(
            f"  {source:<14}{'ok':<8}{r['requests']:>9}{r['documents_new']:>6}{r['documents_seen']:>6}"
            f"{r['documents_changed']:>8}{r['mentions']:>9}{r.get('projects_new', 0):>9}{r['failures']:>9}"
        )
    lines += ["", f"The store at {data_dir}:"]
    for source, n in summary["documents_by_source"].items():
        lines.append(f"  documents  {source:<14}{n:>6}")
    lines.append(
        f"  documents  {'total':<14}{summary['documents']:>6}"
        f"  ({summary['distinct_doc_ids']} distinct doc_id)"
    )
    lines.append(f"  mentions {summary['mentions']} of {summary['distinct_deals']} distinct deals, "
                 f"aggregates {summary['aggregates']}, register rows {summary['projects']}, "
                 f"recorded failures {summary['failures']}")
    lines.append(f"  Parquet: {data_dir}/{{documents,mentions,aggregates,projects,failures}}/")
    return "\n".join(lines)


def deals_summary(data_dir: Path) -> dict[str, Any]:
    """The deals table in figures: rows, conflicts, and deals that register, announcement and news
    all speak of (the strongest provenance the store can give)."""
    rows = dataset_rows(data_dir, "deals", ["name", "conflict", "provenance"])
    three_way = []
    for row in rows:
        kinds = {p.get("kind") for p in row.get("provenance") or []}
        if {"register", "announcement", "news"} <= kinds:
            three_way.append(row["name"])
    return {
        "deals": len(rows),
        "conflicts": sum(1 for r in rows if r.get("conflict")),
        "register_announcement_news": sorted(three_way),
    }


def format_deals(summary: dict[str, Any], data_dir: Path) -> str:
    lines = [
        "",
        f"Deals table: {summary['deals']} deals ({summary['conflicts']} with disagreeing sources), "
        f"{data_dir}/deals/",
    ]
    both = summary["register_announcement_news"]
    if both:
        lines.append(f"  named in a register, an announcement and the news: {len(both)}, e.g. {both[0]}")
    return "\n".join(lines)
