from __future__ import annotations

from decimal import Decimal

import pyarrow.dataset as ds
import pytest

from xinpi.extractors import deals
from xinpi.extractors.deals import Extraction


@pytest.fixture
def extractor(monkeypatch):
    """Replace the extractor's output (the pipeline's contract is the call, not the extractor)."""
    calls = []

    def install(fn):
        def wrapped(doc_id, title, text, published_at=None):
            calls.append((doc_id, title, text, published_at))
            return fn(doc_id, title, text, published_at)

        monkeypatch.setattr(deals, "extract_document", wrapped)
        return calls

    return install


def test_extractor_gets_normalised_fields_and_facts_land_on_item(run, make_doc, extractor):
    calls = extractor(lambda d, t, x, p: Extraction([{"deal_name": t[:4], "scale_yuan": Decimal("1")}], []))
    r = run()
    [item] = r.feed(make_doc(7, text="规模７亿元"))
    assert calls == [("cninfo:7", item["title"], "规模7亿元", item["published_at"])]
    assert item["mentions"] == [{"deal_name": item["title"][:4], "scale_yuan": Decimal("1")}]
    assert item["aggregates"] == []


def test_extractor_crash_keeps_document_and_records_failure(run, make_doc, extractor, data_dir, caplog):
    def boom(doc_id, *_):
        if doc_id == "cninfo:2":
            raise ZeroDivisionError("bad table")
        return Extraction([{"deal_name": "甲专项计划"}], [])

    extractor(boom)
    r = run()
    items = r.feed(make_doc(1), make_doc(2), make_doc(3))
    stats = r.close()
    assert [i["doc_id"] for i in items] == ["cninfo:1", "cninfo:2", "cninfo:3"]
    assert items[1]["mentions"] == []
    assert stats["xinpi/failures/extract"] == 1
    assert stats["xinpi/documents/written"] == 3
    assert stats["xinpi/mentions"] == 2
    assert "cninfo:2" in caplog.text and "ZeroDivisionError" in caplog.text
    failures = ds.dataset(data_dir / "failures", format="parquet").to_table().to_pylist()
    assert [f["stage"] for f in failures] == ["extract"]
    assert "cninfo:2" in failures[0]["error"] and "bad table" in failures[0]["error"]
    docs = ds.dataset(data_dir / "documents", format="parquet").to_table().to_pylist()
    assert {d["doc_id"]: d["n_mentions"] for d in docs} == {"cninfo:1": 1, "cninfo:2": 0, "cninfo:3": 1}


def test_extractor_returning_garbage_is_a_failure_not_a_crash(run, make_doc, extractor):
    extractor(lambda *_: Extraction(mentions=["not a dict"]))
    r = run()
    [item] = r.feed(make_doc(1))
    assert item["mentions"] == [] and r.stats["xinpi/failures/extract"] == 1
