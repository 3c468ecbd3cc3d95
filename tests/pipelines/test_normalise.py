from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pyarrow.dataset as ds

from xinpi.extractors.story import story_id
from xinpi.items import FailureItem, ProjectItem
from xinpi.pipelines.normalise import NormalisePipeline, clean_line, clean_text


def test_clean_text_folds_widths_and_drops_controls_but_keeps_line_breaks():
    raw = "发行规模为１２．５０亿元\u200b，\x07期限\u3000\u3000３年\r\n第二行\t\t尾  \n\n\n\n\n"
    raw += "第三段\u2028末行"
    assert clean_text(raw) == "发行规模为12.50亿元，期限  3年\n第二行\t\t尾\n\n第三段\n末行"


def test_table_gaps_survive_but_do_not_change_the_content_hash(run, make_doc):
    """Tabs and runs of spaces are a flattened table's column gaps: kept for the extractor, yet a
    page re-served with other spacing is the same content (same hash, so not a new version)."""
    row = "债券简称\t拟发行金额（亿元）\n25宁开01\t１０"
    assert clean_text(row) == "债券简称\t拟发行金额(亿元)\n25宁开01\t10"
    norm = run().pipelines[0]
    a = norm.process_item(make_doc(1, text="债券简称\t\t金额\n25宁开01    10"))
    b = norm.process_item(make_doc(1, text="债券简称 金额\n25宁开01 10"))
    assert a["text"] != b["text"] and a["content_sha256"] == b["content_sha256"]


def test_full_width_clause_marks_survive_so_a_clause_break_is_not_read_as_a_list():
    """After plain NFKC the two texts below differ only in meaning; the extractor must still see it."""
    clause = "计划管理人为东吴证券股份有限公司，苏州元禾控股股份有限公司担任差额支付承诺人。"
    listing = "主承销商：甬兴证券有限公司,中信证券股份有限公司"
    assert clean_text(clause) == clause and clean_text(listing) == listing
    assert clean_text("比例：１５％；期限：３年！") == "比例：15%；期限：3年！"

    from xinpi.extractors.deals import extract_document

    text = clean_text("“东吴-苏州工业园区知识产权1期资产支持专项计划”发行规模1.25亿元，原始权益人为"
                      "苏州园科商业保理有限公司，" + clause)
    [mention] = extract_document("t", "", text).mentions
    assert mention["managers"] == ["东吴证券股份有限公司"]


def test_clean_line_makes_one_line():
    assert clean_line("  关于\n发行\u00a0结果的公告\ufeff ") == "关于 发行 结果的公告"


def test_document_normalised_and_hashed(run, make_doc):
    r = run(ITEM_PIPELINES={})
    [item] = r.feed(make_doc(1, title=" ＡＢＳ 公告 ", text="第一行　　内容\x00\n\n第二行"))
    assert item["title"] == "ABS 公告"
    assert item["text"] == "第一行  内容\n\n第二行"  # NFKC: two ideographic spaces, two spaces
    expected = hashlib.sha256("ABS 公告\n第一行 内容\n\n第二行".encode()).hexdigest()  # gaps as one
    assert item["content_sha256"] == expected


def test_same_content_in_other_widths_hashes_the_same(run, make_doc):
    r = run()
    a = r.pipelines[0].process_item(make_doc(1, text="规模１２亿元"))
    b = r.pipelines[0].process_item(make_doc(1, text="规模12亿元 "))
    assert a["content_sha256"] == b["content_sha256"]


def test_naive_published_at_taken_as_shanghai_and_aware_kept(run, make_doc, caplog):
    norm: NormalisePipeline = run().pipelines[0]
    naive = norm.process_item(make_doc(1, published_at=dt.datetime(2025, 4, 25, 18, 30)))
    assert naive["published_at"].utcoffset() == dt.timedelta(hours=8)
    assert naive["published_at"].hour == 18
    assert "naive published_at" in caplog.text
    utc = norm.process_item(make_doc(2, published_at=dt.datetime(2025, 4, 25, 10, 30, tzinfo=dt.UTC)))
    assert utc["published_at"].utcoffset() == dt.timedelta(hours=8)
    assert utc["published_at"].hour == 18
    assert norm.process_item(make_doc(3, published_at=None))["published_at"] is None


def test_empty_document_dropped_and_recorded_as_failure_row(run, make_doc, data_dir):
    r = run()
    assert r.feed(make_doc(1, title=" \u200b ", text="\n \x00 \n")) == []
    stats = r.close()
    assert stats["xinpi/failures/normalise"] == 1
    assert "documents/written" not in str(stats)
    failures = ds.dataset(data_dir / "failures", format="parquet").to_table().to_pylist()
    assert [(f["stage"], f["source"]) for f in failures] == [("normalise", "cninfo")]
    assert "cninfo:1" in failures[0]["error"]
    assert not (data_dir / "documents").exists()


def test_failure_and_project_items_pass_through(run):
    norm = run().pipelines[0]
    failure = FailureItem(source="cninfo", url="u", stage="fetch", error="x", at=dt.datetime.now(dt.UTC))
    assert norm.process_item(failure) is failure
    project = norm.process_item(
        ProjectItem(register="sse", project_id="1", name=" 华泰-平安租赁\u3000第5期 ",
                    planned_scale_yuan=Decimal("1900000000.00"), issuer="平安租赁 ")
    )
    assert project["name"] == "华泰-平安租赁 第5期"
    assert project["issuer"] == "平安租赁"
    assert project["planned_scale_yuan"] == Decimal("1900000000.00")
    assert str(project["planned_scale_yuan"]) == "1900000000.00"  # scale kept, not re-rounded
    floaty = norm.process_item(ProjectItem(register="sse", project_id="2", planned_scale_yuan=1.45e8))
    assert floaty["planned_scale_yuan"] == Decimal("145000000")


def test_the_extractor_reads_pipeline_text_as_well_as_the_text_as_published():
    """Normalisation must not cost extraction quality: on the labelled corpus, deals extracted from
    clean_text() score exactly as those extracted from the original text."""
    import json
    import sys
    from pathlib import Path

    from xinpi.extractors.deals import extract_document

    data = Path(__file__).parents[1] / "data"
    sys.path.insert(0, str(data))
    from score import score  # the project's copy of the corpus scorer

    gold = [json.loads(line) for line in (data / "dev.jsonl").read_text("utf-8").splitlines() if line]

    def f1s(title_fn, text_fn) -> dict[str, float]:
        rows = []
        for d in gold:
            found = extract_document(d["doc_id"], title_fn(d.get("title") or ""), text_fn(d["text"]))
            rows += [{**m, "doc_id": d["doc_id"], "scale_yuan": None if m.get("scale_yuan") is None
                      else float(m["scale_yuan"])} for m in found.mentions]
        tallies, _ = score(gold, rows)
        return {k: round(t.prf()[2], 3) for k, t in tallies.items()}

    assert f1s(clean_line, clean_text) == f1s(str, str)


def _news(make_doc, n: int, text: str, **fields):
    """A news document as a spider yields it (no story_id: spiders only parse)."""
    fields = {"extra": {"channel": "jrjg/bank"}, **fields}
    return make_doc(n, text=text, doc_id=f"zqrb:{n}", source="zqrb", kind="news",
                    url=f"http://www.zqrb.cn/{n}.html", title="国家电投发行首单绿色ABS", **fields)


#: A page's text as a spider yields it: full-width digits, ideographic indents, \r\n, and a zero-width
#: space in front of a long 来源 line. clean_text folds all of it; the zero-width space is what keeps
#: that line from reading as boilerplate in the raw text, so an id taken after clean_text differs.
RAW_NEWS = (
    "\u3000\u3000国家电力投资集团有限公司今日在上海证券交易所发行规模为１５．６０亿元的绿色资产支持专项计划，"
    "期限３年，票面利率２．１５％。\r\n"
    "\u200b来源：证券日报网，本报记者就国家电力投资集团有限公司首单绿色资产支持专项计划采访了多位市场人士，"
    "他们都认为该计划对行业意义重大且影响深远\r\n"
)


def test_news_gets_the_story_id_of_its_text_as_the_spider_yielded_it(run, make_doc):
    """Spiders used to compute story_id on their own text; documents they stored must keep matching,
    so the stage hashes the text before normalising it."""
    title = "国家电投发行首单绿色ABS"
    assert story_id(title, RAW_NEWS) != story_id(title, clean_text(RAW_NEWS))  # the test can tell
    norm = run().pipelines[0]
    spider_extra = {"channel": "jrjg/bank"}
    item = norm.process_item(_news(make_doc, 1, RAW_NEWS, extra=spider_extra))
    assert item["text"] == clean_text(RAW_NEWS) != RAW_NEWS
    assert item["extra"] == {"channel": "jrjg/bank", "story_id": story_id(title, RAW_NEWS)}
    assert spider_extra == {"channel": "jrjg/bank"}  # the spider's dict is not changed in place


def test_story_id_kept_when_given_and_only_news_gets_one(run, make_doc):
    norm = run().pipelines[0]
    given = norm.process_item(_news(make_doc, 2, RAW_NEWS, extra={"story_id": "story:feedfacecafebeef"}))
    assert given["extra"] == {"story_id": "story:feedfacecafebeef"}
    announcement = norm.process_item(make_doc(3, text=RAW_NEWS))
    assert announcement["extra"] == {"announcementId": "3"}
    headline_only = norm.process_item(_news(make_doc, 4, ""))  # no body: nothing to tell copies apart by
    assert "story_id" not in headline_only["extra"]


def test_the_story_id_lands_in_the_stored_document(run, make_doc, data_dir):
    """The id set by the first stage is what lands in ``documents.extra`` (flows/deals.py reads it)."""
    r = run()
    [item] = r.feed(_news(make_doc, 5, RAW_NEWS))
    r.close()
    table = ds.dataset(data_dir / "documents", format="parquet").to_table().to_pylist()
    [row] = [d for d in table if d["doc_id"] == "zqrb:5"]
    assert json.loads(row["extra"])["story_id"] == item["extra"]["story_id"]
