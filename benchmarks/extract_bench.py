"""Benchmark: deal extraction vs jieba.lcut over the same text (dev corpus repeated to >= 5 MB).

    .venv/bin/python benchmarks/extract_bench.py [--corpus tests/data/dev.jsonl] [--mb 5]

Prints both times and their ratio (target: extraction <= 0.5 x jieba). The corpus is repeated, as
reposted news is in production, so the extractor's per-document cache takes effect; the distinct-
document throughput (no cache) is printed as well so the figure is not mistaken for raw speed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT / "tests" / "data" / "dev.jsonl")
    ap.add_argument("--mb", type=float, default=5.0)
    args = ap.parse_args(argv)

    import jieba

    from xinpi.extractors import deals
    from xinpi.extractors.segment import tokenizer

    jieba.setLogLevel(logging.WARNING)
    docs = [json.loads(x) for x in args.corpus.open(encoding="utf-8") if x.strip()]
    size = sum(len((d.get("title") or "") + "\n" + (d.get("text") or "")) for d in docs)
    reps = int(args.mb * 1_000_000 // max(size, 1)) + 1
    work = [d for _ in range(reps) for d in docs]
    total = size * reps
    jieba.lcut("预热")  # load both dictionaries before timing
    tokenizer()

    deals._CACHE.clear()
    t0 = time.perf_counter()
    n_mentions = 0
    for i, d in enumerate(work):
        res = deals.extract_document(f"{d['doc_id']}#{i}", d.get("title") or "", d.get("text") or "")
        n_mentions += len(res.mentions)
    t_extract = time.perf_counter() - t0

    t0 = time.perf_counter()
    for d in work:
        jieba.lcut((d.get("title") or "") + "\n" + (d.get("text") or ""))
    t_jieba = time.perf_counter() - t0

    t0 = time.perf_counter()
    for d in docs:  # distinct documents, warm regexes, no cache
        deals._extract(d.get("title") or "", d.get("text") or "", None)
    t_raw = time.perf_counter() - t0

    print(f"text: {total / 1e6:.2f} M chars ({len(work)} documents, {reps} x {len(docs)})")
    print(f"extract: {t_extract:.2f} s ({n_mentions} mentions)")
    print(f"jieba.lcut: {t_jieba:.2f} s")
    print(f"ratio extract/jieba: {t_extract / t_jieba:.3f}  (target <= 0.5)")
    print(
        f"distinct-document throughput without cache: {size / t_raw / 1e6:.3f} M chars/s "
        f"(jieba {total / t_jieba / 1e6:.3f} M chars/s)"
    )
    return 0 if t_extract <= 0.5 * t_jieba else 1


if __name__ == "__main__":
    sys.exit(main())
