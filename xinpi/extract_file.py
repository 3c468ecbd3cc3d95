"""I/O behind ``xinpi extract IN.jsonl -o OUT(.jsonl|.parquet)``: documents in, one row per deal out.

WHY: the extractor itself is pure; this module owns reading JSON lines (skipping and counting bad
lines with a clear message instead of crashing), serialising Decimal/date values, and writing JSON
lines or Parquet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from xinpi.extractors.deals import extract_document

COLUMNS = [
    "doc_id",
    "deal_name",
    "aliases",
    "type",
    "asset_class",
    "scale_yuan",
    "scale_text",
    "scale_unit",
    "scale_currency",
    "scale_amount",
    "scale_qualifier",
    "issuers",
    "managers",
    "exchange",
    "event",
    "event_date",
    "date_text",
    "name_span",
    "scale_span",
    "issuer_spans",
    "manager_spans",
    "evidence",
    "evidence_span",
]


def _published(v: Any) -> dt.datetime | None:
    if not v or not isinstance(v, str):
        return None
    try:
        d = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return d


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


def iter_rows(path: Path, stats: dict[str, int]):
    with path.open(encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
                if not isinstance(doc, dict) or "doc_id" not in doc:
                    raise ValueError("not an object with a doc_id")
                title = doc.get("title") or ""
                text = doc.get("text") or ""
                if not isinstance(title, str) or not isinstance(text, str):
                    raise ValueError("title/text must be strings")
            except (ValueError, TypeError) as e:
                stats["bad"] += 1
                print(f"xinpi extract: {path}:{n}: skipped bad input line ({e})", file=sys.stderr)
                continue
            stats["docs"] += 1
            res = extract_document(str(doc["doc_id"]), title, text, _published(doc.get("published_at")))
            for m in res.mentions:
                stats["mentions"] += 1
                yield {k: _jsonable(m.get(k)) for k in COLUMNS}


def _write_parquet(rows: list[dict], out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    span = pa.list_(pa.int64())
    schema = pa.schema(
        [
            ("doc_id", pa.string()),
            ("deal_name", pa.string()),
            ("aliases", pa.list_(pa.string())),
            ("type", pa.string()),
            ("asset_class", pa.string()),
            ("scale_yuan", pa.float64()),
            ("scale_text", pa.string()),
            ("scale_unit", pa.string()),
            ("scale_currency", pa.string()),
            ("scale_amount", pa.float64()),
            ("scale_qualifier", pa.string()),
            ("issuers", pa.list_(pa.string())),
            ("managers", pa.list_(pa.string())),
            ("exchange", pa.string()),
            ("event", pa.string()),
            ("event_date", pa.string()),
            ("date_text", pa.string()),
            ("name_span", span),
            ("scale_span", span),
            ("issuer_spans", pa.list_(span)),
            ("manager_spans", pa.list_(span)),
            ("evidence", pa.string()),
            ("evidence_span", span),
        ]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="xinpi extract", description="Extract deals from a JSON-lines file.")
    ap.add_argument(
        "input", type=Path, help="IN.jsonl: one document per line (doc_id, title, text, published_at)"
    )
    ap.add_argument("-o", "--output", type=Path, required=True, help="OUT.jsonl or OUT.parquet")
    args = ap.parse_args(argv)
    if not args.input.is_file():
        print(f"xinpi extract: no such input file: {args.input}", file=sys.stderr)
        return 2
    stats = {"docs": 0, "bad": 0, "mentions": 0}
    t0 = time.perf_counter()
    rows = list(iter_rows(args.input, stats))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.output.suffix == ".parquet":
        _write_parquet(rows, args.output)
    else:
        with args.output.open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(
        f"xinpi extract: {stats['docs']} documents, {stats['mentions']} deal mentions, "
        f"{stats['bad']} bad lines skipped, {time.perf_counter() - t0:.2f}s -> {args.output}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
