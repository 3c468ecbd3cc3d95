"""The extractor over the labelled dev corpus copy must stay above the acceptance floors."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

from xinpi.extract_file import COLUMNS, _jsonable, _published
from xinpi.extractors.deals import extract_document

DATA = Path(__file__).resolve().parents[1] / "data"
FLOORS = {"name": 0.95, "scale": 0.95, "issuer": 0.92, "manager": 0.85}


def _scorer():
    spec = importlib.util.spec_from_file_location("xinpi_score", DATA / "score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _predict(docs):
    rows = []
    for d in docs:
        res = extract_document(d["doc_id"], d["title"], d["text"], _published(d.get("published_at")))
        rows += [{k: _jsonable(m.get(k)) for k in COLUMNS} for m in res.mentions]
    return rows


def test_dev_corpus_above_floors():
    gold = [json.loads(line) for line in (DATA / "dev.jsonl").open(encoding="utf-8")]
    tallies, errors = _scorer().score(gold, _predict(gold))
    f1 = {k: t.prf()[2] for k, t in tallies.items()}
    short = {k: round(v, 3) for k, v in f1.items() if v < FLOORS[k]}
    assert not short, (short, errors[:20])


def test_spans_index_the_combined_text():
    gold = [json.loads(line) for line in (DATA / "dev.jsonl").open(encoding="utf-8")]
    for d in gold:
        full = d["title"] + "\n" + d["text"]
        res = extract_document(d["doc_id"], d["title"], d["text"], _published(d.get("published_at")))
        for m in res.mentions:
            s, e = m["name_span"]
            assert "".join(full[s:e].split()).strip('“”"').startswith("".join(m["deal_name"].split())[:2])
            if m["scale_span"]:
                s, e = m["scale_span"]
                assert full[s:e].strip() and full[s:e] in full
            for s, e in m["issuer_spans"] + m["manager_spans"]:
                assert 0 <= s < e <= len(full)
            s, e = m["evidence_span"]
            assert full[s:e] == m["evidence"]
        for a in res.aggregates:
            s, e = a["span"]
            assert 0 <= s < e <= len(full)


def test_multi_deal_document_links_each_amount_and_party():
    title = "两单知识产权ABS同日发行"
    text = (
        "4月25日，两单产品同日在上海证券交易所发行，合计融资超3亿元。其中，“华泰-苏州工业园区知识产权3期资产支持专项计划”"
        "发行规模近1.8亿元，由苏州元和科技融资租赁有限公司作为原始权益人；“东吴-苏州工业园区知识产权1期资产支持专项计划”"
        "发行规模1.25亿元，原始权益人为苏州园科商业保理有限公司，计划管理人为东吴证券股份有限公司，"
        "苏州元禾控股股份有限公司担任差额支付承诺人。园区已累计发行知识产权证券化产品9单、规模12.35亿元。"
    )
    res = extract_document("t1", title, text, dt.datetime(2025, 4, 26, tzinfo=dt.UTC))
    by = {m["deal_name"]: m for m in res.mentions}
    a = by["华泰-苏州工业园区知识产权3期资产支持专项计划"]
    b = by["东吴-苏州工业园区知识产权1期资产支持专项计划"]
    assert a["scale_yuan"] == 180_000_000 and a["scale_qualifier"] == "近"
    assert a["issuers"] == ["苏州元和科技融资租赁有限公司"] and a["managers"] == []
    assert b["scale_yuan"] == 125_000_000
    assert b["issuers"] == ["苏州园科商业保理有限公司"] and b["managers"] == ["东吴证券股份有限公司"]
    assert (
        a["exchange"] == "上海证券交易所" and a["event"] == "发行" and a["event_date"] == dt.date(2025, 4, 25)
    )
    texts = {x["text"] for x in res.aggregates if x["what"] == "amount"}
    assert {"超3亿元", "12.35亿元"} <= texts
