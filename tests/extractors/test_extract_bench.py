"""The extractor benchmark must measure cold work: distinct documents and no carried-over cache."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from xinpi.extractors import deals, parties, textnorm

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "extract_bench.py"


def _bench():
    spec = importlib.util.spec_from_file_location("extract_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_copies_are_distinct_documents_of_the_requested_size():
    docs = [{"doc_id": "a", "title": "t", "text": "甲乙丙"}, {"doc_id": "b", "title": "", "text": "丁戊"}]
    work, reps = _bench().distinct_copies(docs, 0.0001)
    assert reps >= 2 and len(work) == reps * len(docs)
    assert len({(t, x) for _, t, x in work}) == len(work)
    assert sum(len(t + "\n" + x) for _, t, x in work) >= 100


def test_clear_caches_empties_every_content_cache():
    deals.extract_document(
        "c1", "", "原始权益人为同意甲乙丙丁有限公司，“甲乙2025年第1期资产支持专项计划”发行规模1亿元。"
    )
    deals.clear_caches()
    assert parties._trim_left.cache_info().currsize == 0
    assert textnorm.norm_key.cache_info().currsize == 0
