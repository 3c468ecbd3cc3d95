"""The deals table: one row per deal across register, announcements and news; stable rebuilds."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from flowdata import document, project, write_items

from xinpi.flows.dealkey import UnionFind, deal_id, normalise_name, stage
from xinpi.flows.deals import DEALS, assemble, build_deals, deals_flow, read_inputs, rebuild

FULL = "平安证券-福田区-深圳高新投知识产权2025年第1期资产支持专项计划"
ISSUER = "深圳市高新投小额贷款有限公司"
MANAGER = "平安证券股份有限公司"
OTHER = "中金-星河2025年第1期供应链资产支持专项计划"


def mention(name: str, scale: str | None = None, **kw) -> dict:
    out = {"deal_name": name, "name_span": [3, 3 + len(name)], "type": "ABS"}
    if scale is not None:
        out.update(scale_yuan=Decimal(scale), scale_text=f"{Decimal(scale) / 100000000}亿元",
                   scale_span=[50, 57])
    out.update(kw)
    return out


def write_corpus(data_dir: Path) -> None:
    """Register rows, an announcement, a news story (three syndicated copies), an alias-only story."""
    write_items(data_dir, "run-a", [
        project("P1", FULL, "已受理", dt.date(2025, 2, 10), planned_scale_yuan=Decimal("315000000"),
                planned_scale_text="3.15", issuer=ISSUER, manager=MANAGER),
        project("P1", FULL, "通过", dt.date(2025, 3, 1), planned_scale_yuan=Decimal("315000000"),
                planned_scale_text="3.15", issuer=ISSUER, manager=MANAGER),
        # announcement: em dashes, a short alias, the same scale
        document("cninfo:1", "announcement", [
            mention("平安证券—福田区—深圳高新投知识产权2025年第1期资产支持专项计划", "315000000",
                    aliases=["福田区知识产权ABS"], event="设立", event_date=dt.date(2025, 3, 27),
                    issuers=["深圳高新投小额贷款"], managers=[MANAGER], asset_class="知识产权"),
        ], day=28),
        # one news story in three outlets: counted once
        *[document(f"{src}:9", "news", [
            mention("平安证券－福田区－深圳高新投知识产权2025年第1期 资产支持专项计划", "315000000",
                    event="挂牌", asset_class="知识产权"),
        ], day=29, story="story:abc") for src in ("sina", "eastmoney", "zqrb")],
        # names the deal only by its alias
        document("stcn:5", "news", [mention("福田区知识产权ABS", event="发行")], day=30),
        # a second deal, no register row, two announcements that disagree on the scale and issuer
        document("cninfo:2", "announcement", [mention(OTHER, "500000000", issuers=["星河商业保理有限公司"])],
                 day=11),
        document("cninfo:3", "announcement", [mention(OTHER, "600000000", issuers=["银河融资租赁有限公司"])],
                 day=12),
    ])


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def corpus(data_dir: Path) -> Path:
    write_corpus(data_dir)
    return data_dir


def by_name(table) -> dict[str, dict]:
    return {r["name"]: r for r in table.to_pylist()}


def test_name_normalisation_follows_the_labelling_rule():
    assert normalise_name("“平安证券—福田区”\n 2025年第1期") == normalise_name("平安证券-福田区2025年第1期")
    assert normalise_name("《A－B》") == normalise_name("「A‐B」") == "A-B"
    assert normalise_name("Ａ　B") == "AB"  # NFKC full-width letters, ideographic space
    assert normalise_name("甲计划") != normalise_name("乙计划")
    assert deal_id("A—B") == deal_id("《A-B》") != deal_id("A-C")


def test_union_find_merges_transitively_and_deterministically():
    uf = UnionFind()
    uf.union("c", "b")
    uf.union("x", "y")
    uf.union("b", "a")
    assert uf.find("c") == uf.find("a") == "a"
    assert uf.find("x") == "x" and uf.find("x") != uf.find("a")


def test_statuses_order_register_before_market_events():
    ranks = [stage(s)[1] for s in ("已申报", "已受理", "已反馈", "通过", "注册生效", "设立", "挂牌")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 7
    assert stage("获批")[0] == "通过" and stage("某未知状态") == ("某未知状态", stage(None)[1])


def test_one_deal_from_register_announcement_and_news(corpus: Path):
    table = build_deals(corpus)
    assert table.schema == DEALS
    rows = by_name(table)
    assert set(rows) == {FULL, OTHER}
    deal = rows[FULL]
    assert deal["deal_id"] == deal_id(FULL)
    assert deal["name_source"] == "register"
    assert deal["scale_yuan"] == Decimal("315000000.00") and deal["scale_source"] == "register"
    assert deal["scale_sources"] == ["cninfo:1", "eastmoney:9", "register:szse:P1"]
    assert not deal["conflict"], deal["conflicts"]
    cited = {(p["kind"], p["doc_id"] or p["project_id"]) for p in deal["provenance"]}
    assert {("register", "P1"), ("announcement", "cninfo:1"), ("news", "sina:9"), ("news", "stcn:5")} <= cited
    # syndicated copies are cited but count once (the earliest copy; same time -> smallest doc id)
    copies = {p["doc_id"]: p["counted"] for p in deal["provenance"] if p["story_id"] == "story:abc"}
    assert copies == {"eastmoney:9": True, "sina:9": False, "zqrb:9": False}
    assert deal["n_documents"] == 5 and deal["n_stories"] == 3 and deal["n_register_rows"] == 2
    assert deal["project_ids"] == ["szse:P1"]
    # the announcement's short form 深圳高新投小额贷款 abbreviates the register's issuer: no conflict
    assert deal["issuers"] == [ISSUER] and deal["managers"] == [MANAGER]
    assert (deal["exchange"], deal["type"], deal["asset_class"]) == ("深圳证券交易所", "ABS", "知识产权")
    # stage order first (申报 → 受理 → … → 挂牌), dates within a stage; one entry per story
    assert [(h["stage"], h["date"], h["source"]) for h in deal["status_history"]] == [
        ("受理", dt.date(2025, 2, 10), "register:szse:P1"), ("通过", dt.date(2025, 3, 1), "register:szse:P1"),
        ("设立", dt.date(2025, 3, 27), "cninfo:1"), ("发行", dt.date(2025, 3, 30), "stcn:5"),
        ("挂牌", dt.date(2025, 3, 29), "eastmoney:9"),
    ]
    assert deal["status"] == "挂牌"
    assert deal["first_seen"] == dt.datetime(2025, 2, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert deal["last_seen"] == dt.datetime(2025, 3, 30, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_aliases_merge_into_one_row(corpus: Path):
    deal = by_name(build_deals(corpus))[FULL]
    assert "福田区知识产权ABS" in deal["aliases"]
    assert "平安证券—福田区—深圳高新投知识产权2025年第1期资产支持专项计划" in deal["aliases"]
    assert FULL not in deal["aliases"]
    assert any(p["doc_id"] == "stcn:5" for p in deal["provenance"])  # the alias-only story joined


def test_conflicting_scales_and_issuers_are_flagged(corpus: Path):
    deal = by_name(build_deals(corpus))[OTHER]
    assert deal["conflict"] is True
    scales = {(c["value"], c["source"]) for c in deal["conflicts"] if c["field"] == "scale_yuan"}
    assert scales == {("500000000.00", "cninfo:2"), ("600000000.00", "cninfo:3")}
    issuers = {c["value"] for c in deal["conflicts"] if c["field"] == "issuers"}
    assert issuers == {"星河商业保理有限公司", "银河融资租赁有限公司"}
    # one story each: the later statement wins the tie
    assert deal["scale_source"] == "mentions" and deal["scale_yuan"] == Decimal("600000000")
    assert deal["scale_sources"] == ["cninfo:3"]


def test_scales_within_half_a_percent_agree(data_dir: Path):
    write_items(data_dir, "r", [
        document("cninfo:7", "announcement", [mention(OTHER, "100000000")]),
        document("stcn:7", "news", [mention(OTHER, "100400000")]),
        document("cs:7", "news", [mention(OTHER, "100000000")]),
    ])
    deal = by_name(build_deals(data_dir))[OTHER]
    assert not deal["conflict"] and deal["scale_yuan"] == Decimal("100000000")
    assert deal["scale_sources"] == ["cninfo:7", "cs:7", "stcn:7"]


def test_only_the_latest_document_version_counts(data_dir: Path):
    write_items(data_dir, "r1", [document("cninfo:8", "announcement", [mention(OTHER, "100000000")])])
    write_items(data_dir, "r2", [document("cninfo:8", "announcement", [mention(OTHER, "200000000")],
                                          version=2)])
    deal = by_name(build_deals(data_dir))[OTHER]
    assert deal["scale_yuan"] == Decimal("200000000") and not deal["conflict"]
    assert [p["version"] for p in deal["provenance"]] == [2]


def test_same_rows_in_any_order_give_the_same_table(corpus: Path):
    mentions, projects, docs = read_inputs(corpus)
    first = assemble(mentions, projects, docs)
    rng = random.Random(7)
    for _ in range(3):
        for rows in (mentions, projects, docs):
            rng.shuffle(rows)
        assert assemble(mentions, projects, docs).equals(first)


def test_double_fired_run_changes_nothing(corpus: Path):
    before = build_deals(corpus)
    write_corpus(corpus)  # the same rows again under the same run ids -> new files, same facts
    assert build_deals(corpus).equals(before)


def test_flow_rebuilds_once_then_skips_unchanged_and_replaces_on_change(corpus: Path):
    result = deals_flow(str(corpus))
    assert result["rows"] == 2 and result["conflicts"] == 1 and result["written"] is True
    files = sorted((corpus / "deals").glob("*.parquet"))
    assert len(files) == 1
    path = files[0]
    content, mtime = path.read_bytes(), path.stat().st_mtime_ns
    assert pq.read_table(path).schema.remove_metadata() == DEALS

    again = rebuild(corpus)  # nothing changed: same file name, same bytes, not rewritten
    assert again["written"] is False and Path(again["path"]) == path
    assert path.read_bytes() == content and path.stat().st_mtime_ns == mtime
    assert sorted((corpus / "deals").glob("*.parquet")) == [path]

    new = mention("一个新的2025年第2期资产支持专项计划", "1e8")
    write_items(corpus, "run-b", [document("cs:1", "news", [new])])
    changed = rebuild(corpus)
    assert changed["written"] is True and changed["rows"] == 3
    files = sorted((corpus / "deals").glob("*.parquet"))
    assert files == [Path(changed["path"])] and not path.exists()
    assert pq.read_table(files[0]).num_rows == 3
    assert not list((corpus / ".staging").glob("*/*"))
