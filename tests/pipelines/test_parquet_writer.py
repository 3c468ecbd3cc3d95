from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from xinpi.extractors import deals
from xinpi.extractors.deals import Extraction
from xinpi.items import FailureItem
from xinpi.pipelines.schema import AGGREGATES, DOCUMENTS, MENTIONS


def _mention(**kw):
    full = {
        "doc_id": "ignored:the document's id wins",
        "deal_name": "平安证券-福田区-深圳高新投知识产权2025年第1期资产支持专项计划(专精特新)",
        "aliases": ["福田区知识产权ABS"],
        "type": "ABS",
        "asset_class": "知识产权",
        "scale_yuan": Decimal("315000000"),
        "scale_text": "3.15亿元",
        "scale_unit": "亿元",
        "scale_currency": "CNY",
        "scale_amount": Decimal("3.15"),
        "scale_qualifier": None,
        "issuers": ["深圳市高新投小额贷款有限公司"],
        "managers": ["平安证券股份有限公司"],
        "exchange": "深圳证券交易所",
        "event": "设立",
        "event_date": dt.date(2025, 3, 27),
        "name_span": (3, 40),
        "scale_span": [50, 57],
        "issuer_spans": [[80, 94]],
        "manager_spans": [(110, 120)],
        "evidence": "发行规模3.15亿元",
        "evidence_span": [46, 57],
        "issuer_aliases": {"深圳市高新投小额贷款有限公司": ["深圳高新投"]},
    }
    full.update(kw)
    return full


@pytest.fixture
def facts(monkeypatch):
    def extract(doc_id, title, text, published_at=None):
        if "无交易" in text:
            return Extraction()
        return Extraction(
            [_mention(), {"name": "只有名字的计划", "scale_yuan": "not a number", "name_span": [1]}],
            [{"what": "amount", "value": Decimal("8e9"), "unit": "亿元", "text": "超过80亿元",
              "scope": ["累计"], "span": [5, 12]}],
        )

    monkeypatch.setattr(deals, "extract_document", extract)


def test_layout_names_and_partitions(run, make_doc, data_dir, facts):
    r = run(PARQUET_BATCH_SIZE=3, XINPI_RUN_ID="flow-run/42")
    r.feed(*[make_doc(i) for i in range(7)])
    r.feed(make_doc("undated", published_at=None))  # partitioned by its fetch date (Shanghai)
    r.close()
    files = sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*") if p.is_file())
    # _state/ holds the commit locks (and watermarks): not data, never globbed by readers
    assert {f for f in files if f.startswith("_state/")} == {"_state/locks/commit-cninfo.lock"}
    files = [f for f in files if not f.startswith("_state/")]
    assert [f for f in files if f.startswith("documents/")] == [
        "documents/source=cninfo/date=2025-04-25/part-flow-run_42-00001.parquet",
        "documents/source=cninfo/date=2025-04-25/part-flow-run_42-00002.parquet",
        "documents/source=cninfo/date=2025-04-25/part-flow-run_42-00003.parquet",
        "documents/source=cninfo/date=2025-04-26/part-flow-run_42-00003.parquet",
    ]
    assert len([f for f in files if f.startswith("mentions/")]) == 4
    assert all(not f.startswith(".staging") for f in files)
    assert not (data_dir / ".staging" / "flow-run_42").exists()
    for f in files:
        meta = pq.ParquetFile(data_dir / f).metadata
        assert meta.row_group(0).column(0).compression == "ZSTD"


def test_schemas_are_explicit_and_mentions_flattened(run, make_doc, data_dir, facts):
    r = run()
    r.feed(make_doc(1), make_doc(2, text="本文无交易"))
    stats = r.close()
    assert (stats["xinpi/mentions"], stats["xinpi/aggregates"]) == (2, 1)
    docs = ds.dataset(data_dir / "documents", format="parquet")
    assert docs.schema.equals(DOCUMENTS)
    mentions = ds.dataset(data_dir / "mentions", format="parquet")
    assert mentions.schema.equals(MENTIONS)
    assert ds.dataset(data_dir / "aggregates", format="parquet").schema.equals(AGGREGATES)
    rows = sorted(mentions.to_table().to_pylist(), key=lambda m: m["mention_index"])
    full, partial = rows
    assert full["doc_id"] == "cninfo:1" and full["version"] == 1 and full["source"] == "cninfo"
    assert full["date"] == dt.date(2025, 4, 25)
    assert full["scale_yuan"] == Decimal("315000000.00")
    assert full["name_span"] == [3, 40] and full["manager_spans"] == [[110, 120]]
    assert full["event_date"] == dt.date(2025, 3, 27)
    assert json.loads(full["extra"]) == {"issuer_aliases": {"深圳市高新投小额贷款有限公司": ["深圳高新投"]}}
    # tolerant: missing keys null, a non-number scale null, a malformed span null, "name" accepted
    assert partial["deal_name"] == "只有名字的计划"
    assert partial["scale_yuan"] is None and partial["name_span"] is None and partial["issuers"] is None
    assert partial["extra"] is None
    [agg] = ds.dataset(data_dir / "aggregates", format="parquet").to_table().to_pylist()
    assert (agg["what"], agg["value"], agg["scope"]) == ("amount", Decimal("8e9"), ["累计"])
    assert agg["span"] == [5, 12] and agg["text"] == "超过80亿元"
    doc_rows = {d["doc_id"]: d for d in docs.to_table().to_pylist()}
    assert doc_rows["cninfo:1"]["n_mentions"] == 2 and doc_rows["cninfo:2"]["n_mentions"] == 0
    assert json.loads(doc_rows["cninfo:1"]["extra"]) == {"announcementId": "1"}
    pub = doc_rows["cninfo:1"]["published_at"]
    assert pub.utcoffset() == dt.timedelta(hours=8) and pub.hour == 18


def test_mentions_exactly_for_written_document_versions(run, make_doc, data_dir, facts):
    for texts in (["甲", "乙", "丙"], ["甲", "乙2", "丁"]):
        r = run(PARQUET_BATCH_SIZE=2)
        r.feed(*[make_doc(i, text=t) for i, t in enumerate(texts)])
        r.close()
    docs = {(d["doc_id"], d["version"]): d["n_mentions"]
            for d in ds.dataset(data_dir / "documents", format="parquet").to_table().to_pylist()}
    assert set(docs) == {("cninfo:0", 1), ("cninfo:1", 1), ("cninfo:1", 2), ("cninfo:2", 1), ("cninfo:2", 2)}
    mentions = ds.dataset(data_dir / "mentions", format="parquet").to_table().to_pylist()
    per_version: dict[tuple[str, int], int] = {}
    for m in mentions:
        per_version[(m["doc_id"], m["version"])] = per_version.get((m["doc_id"], m["version"]), 0) + 1
    assert per_version == docs


def test_failure_items_written_under_failure_date(run, data_dir):
    r = run()
    at = dt.datetime(2025, 4, 25, 17, 0, tzinfo=dt.UTC)  # 01:00 on the 26th in Shanghai
    r.feed(FailureItem(source="cninfo", url="http://x/1", stage="fetch", error="HttpError: 503",
                       http_status=503, at=at))
    assert r.close()["xinpi/failures/written"] == 1
    [path] = (data_dir / "failures").rglob("*.parquet")
    assert path.parent.relative_to(data_dir).as_posix() == "failures/source=cninfo/date=2025-04-26"
    [row] = pq.read_table(path).to_pylist()
    assert (row["stage"], row["http_status"], row["at"]) == ("fetch", 503, at)


def test_reused_run_id_never_overwrites_earlier_files(run, make_doc, data_dir):
    for i in range(2):
        r = run(XINPI_RUN_ID="same")
        r.feed(make_doc(i))
        r.close()
    table = ds.dataset(data_dir / "documents", format="parquet").to_table()
    assert sorted(table.column("doc_id").to_pylist()) == ["cninfo:0", "cninfo:1"]
    names = sorted(p.name for p in (data_dir / "documents").rglob("*.parquet"))
    assert names == ["part-same-00001-1.parquet", "part-same-00001.parquet"]


def test_unwritable_row_is_a_failure_and_the_rest_is_written(run, make_doc, data_dir):
    r = run()
    r.feed(make_doc(1), make_doc(2, text="正文"), make_doc(3))
    r.pipelines[-1]._docs[1].doc["version"] = 2**40  # does not fit int32: Arrow refuses the row
    stats = r.close()
    assert stats["xinpi/failures/write"] == 1 and stats["xinpi/documents/written"] == 2
    ids = ds.dataset(data_dir / "documents", format="parquet").to_table().column("doc_id").to_pylist()
    assert sorted(ids) == ["cninfo:1", "cninfo:3"]
    failures = ds.dataset(data_dir / "failures", format="parquet").to_table().to_pylist()
    assert [f["stage"] for f in failures] == ["write"] and "cninfo:2" in failures[0]["error"]
