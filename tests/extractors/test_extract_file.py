import json

import pyarrow.parquet as pq

from xinpi.extract_file import main

DOC = {
    "doc_id": "a1",
    "title": "t",
    "published_at": "2025-03-28T08:00:00+08:00",
    "text": (
        "昨日，“甲-乙知识产权2025年第1期资产支持专项计划”在深交所设立，发行规模３．１５亿元。"
        "原始权益人为甲乙有限公司。"
    ),
}


def _write(tmp_path, lines):
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_jsonl_out_and_bad_lines_skipped(tmp_path, capsys):
    src = _write(tmp_path, [json.dumps(DOC, ensure_ascii=False), "{not json", json.dumps({"x": 1}), "[]"])
    out = tmp_path / "out.jsonl"
    assert main([str(src), "-o", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1
    r = rows[0]
    assert r["doc_id"] == "a1" and r["scale_yuan"] == 315000000 and r["issuers"] == ["甲乙有限公司"]
    assert r["event"] == "设立" and r["event_date"] == "2025-03-27" and r["exchange"] == "深圳证券交易所"
    full = DOC["title"] + "\n" + DOC["text"]
    assert full[r["scale_span"][0] : r["scale_span"][1]] == "３．１５亿元"
    err = capsys.readouterr().err
    assert "3 bad lines skipped" in err and "in.jsonl:2" in err


def test_parquet_out(tmp_path):
    src = _write(tmp_path, [json.dumps(DOC, ensure_ascii=False)])
    out = tmp_path / "out.parquet"
    assert main([str(src), "-o", str(out)]) == 0
    rows = pq.read_table(out).to_pylist()
    assert rows[0]["deal_name"] == "甲-乙知识产权2025年第1期资产支持专项计划"
    assert rows[0]["name_span"] and rows[0]["issuers"] == ["甲乙有限公司"]


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    assert main([str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "no such input file" in capsys.readouterr().err
