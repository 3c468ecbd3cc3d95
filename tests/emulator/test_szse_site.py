"""The emulated SZSE hosts answer like the real ones (sources.md §3.1, §3.2), over real HTTP."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from pypdf import PdfReader

from xinpi.emulator import fixtures
from xinpi.emulator.sites import szse

REAL_NOTICE_PAGE = "https://www.szse.cn/disclosure/listed/notice/index.html"
REAL_REGISTER_PAGE = "https://bond.szse.cn/disclosure/progressinfo/index.html"
ITEM_KEYS = [
    "id", "annId", "title", "content", "publishTime", "attachPath", "attachFormat", "attachSize", "secCode",
    "secName", "bondType", "bigIndustryCode", "bigCategoryId", "smallCategoryId", "channelCode", "_index",
]


def _fetch(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def ann_list(emulator, body: dict[str, Any], referer: str | None = REAL_NOTICE_PAGE) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if referer is not None:
        headers["Referer"] = referer
    status, data = _fetch(
        f"{emulator.url}/www.szse.cn/api/disc/announcement/annList?random=0.123",
        json.dumps(body, ensure_ascii=False).encode(), headers,
    )
    return status, (json.loads(data) if status == 200 else data)


def register(emulator, referer: str | None = REAL_REGISTER_PAGE, **params: Any) -> tuple[int, Any]:
    query = "&".join(f"{k}={urllib.parse.quote(str(v))}" for k, v in params.items())
    url = f"{emulator.url}/bond.szse.cn/api/report/ShowReport/data?SHOWTYPE=JSON&TABKEY=tab1&{query}"
    status, data = _fetch(url, headers={"Referer": referer} if referer else {})
    return status, (json.loads(data) if status == 200 else data)


def fixture_rows(channel: str, since: str, until: str) -> list[dict[str, Any]]:
    return [
        f["row"] for f in fixtures.load("szse_ann")
        if f["row"]["channelCode"] == channel and since <= f["row"]["publishTime"][:10] <= until
    ]


# --- fixtures themselves ---------------------------------------------------------------------------
def test_fixtures_hold_enough_bond_notices_and_projects():
    bond = [f for f in fixtures.load("szse_ann") if f["row"]["channelCode"] == "bondinfoNotice_disc"]
    assert len(bond) >= 10
    assert len({f["row"]["id"] for f in fixtures.load("szse_ann")}) == len(fixtures.load("szse_ann"))
    projects = fixtures.load("szse_projects")
    assert len(projects) >= 8
    assert all(re.fullmatch(r"[0-9A-F]{32}", p["xmbh"]) for p in projects)
    assert any(len(p["history"]) > 1 for p in projects)


def test_register_projects_are_named_in_announcements():
    """The deals table joins register rows to notices by name; at least a few names must meet."""
    texts = " ".join(f["row"]["title"] + f["pdf_text"] for f in fixtures.load("szse_ann"))
    named = [p["zqmc"] for p in fixtures.load("szse_projects") if p["zqmc"] in texts]
    assert len(named) >= 5


# --- annList -------------------------------------------------------------------------------------
def test_annlist_filters_by_window_and_channel_with_real_item_shape(emulator):
    status, got = ann_list(emulator, {
        "seDate": ["2025-11-01", "2025-11-30"], "channelCode": ["bondinfoNotice_disc"], "stock": [],
        "searchKey": [""], "bigCategoryId": [], "smallCategoryId": [], "pageSize": 50, "pageNum": 1,
    })
    assert status == 200
    expected = fixture_rows("bondinfoNotice_disc", "2025-11-01", "2025-11-30")
    assert got["announceCount"] == len(expected) > 0
    assert {d["id"] for d in got["data"]} == {r["id"] for r in expected}
    first = got["data"][0]
    assert list(first) == ITEM_KEYS
    assert isinstance(first["secCode"], list) and isinstance(first["secName"], list)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", first["publishTime"])
    assert re.fullmatch(r"/disc/disk03/finalpage/\d{4}-\d{2}-\d{2}/[0-9a-f-]{36}\.PDF", first["attachPath"])
    times = [d["publishTime"] for d in got["data"]]
    assert times == sorted(times, reverse=True)


def test_annlist_pages_cover_everything_once(emulator):
    body = {"seDate": ["", ""], "channelCode": ["bondinfoNotice_disc"], "pageSize": 4}
    total = len(fixture_rows("bondinfoNotice_disc", "0000", "9999"))
    seen: list[str] = []
    for page in range(1, math.ceil(total / 4) + 2):
        status, got = ann_list(emulator, {**body, "pageNum": page})
        assert status == 200 and got["announceCount"] == total
        seen += [d["id"] for d in got["data"]]
    assert len(seen) == len(set(seen)) == total


def test_annlist_stock_searchkey_and_category_filters(emulator):
    _, by_stock = ann_list(emulator, {"seDate": ["", ""], "channelCode": ["listedNotice_disc"],
                                      "stock": ["002917"], "pageSize": 30, "pageNum": 1})
    assert [d["secName"] for d in by_stock["data"]] == [["中环物联"]]
    _, by_key = ann_list(emulator, {"seDate": ["", ""], "channelCode": ["bondinfoNotice_disc"],
                                    "searchKey": ["收益分配"], "pageSize": 30, "pageNum": 1})
    assert by_key["announceCount"] >= 2 and all("收益分配" in d["title"] for d in by_key["data"])
    _, by_cat = ann_list(emulator, {"seDate": ["", ""], "smallCategoryId": ["013904"], "pageSize": 30,
                                    "pageNum": 1})
    assert by_cat["data"] and all(d["smallCategoryId"] == "013904" for d in by_cat["data"])


@pytest.mark.parametrize("referer", [None, "https://www.example.com/disclosure/x.html", "https://www.szse.cn/"])
def test_annlist_refuses_a_missing_or_foreign_referer(emulator, referer):
    status, _ = ann_list(emulator, {"seDate": ["", ""], "pageSize": 5, "pageNum": 1}, referer=referer)
    assert status == 403


def test_annlist_accepts_the_emulated_referer_and_refuses_a_form_body(emulator):
    base = f"{emulator.url}/www.szse.cn"
    fixed_page = base + "/disclosure/listed/fixed/index.html"
    status, _ = ann_list(emulator, {"pageSize": 5, "pageNum": 1}, referer=fixed_page)
    assert status == 200
    status, _ = _fetch(f"{base}/api/disc/announcement/annList", b"pageSize=5&pageNum=1",
                       {"Referer": REAL_NOTICE_PAGE, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400


def test_pdf_download_has_the_notice_text(emulator):
    fx = next(f for f in fixtures.load("szse_ann") if "中环物联应收账款1期" in f["row"]["title"])
    status, data = _fetch(f"{emulator.url}/disc.static.szse.cn/download{fx['row']['attachPath']}")
    assert status == 200 and data.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).replace("\n", "")
    assert "实际募集资金6.00亿元" in text
    missing = fx["row"]["attachPath"].replace(fx["row"]["id"][:8], "00000000")
    assert _fetch(f"{emulator.url}/disc.static.szse.cn/download{missing}")[0] == 404


# --- project register ----------------------------------------------------------------------------
def test_register_list_shape_pagination_and_category(emulator):
    abs_total = sum(1 for p in fixtures.load("szse_projects") if p["zqlb"] == "2")
    status, got = register(emulator, CATALOGID="xmjdxx", PAGENO=1, zqlb=2, pageSize=4)
    assert status == 200 and isinstance(got, list) and len(got) == 1
    meta = got[0]["metadata"]
    assert (meta["recordcount"], meta["pagesize"]) == (abs_total, 4)
    assert meta["pagecount"] == math.ceil(abs_total / 4)
    row = got[0]["data"][0]
    assert set(row) >= {"zqmc", "cxsjc", "zqlb", "nfxje", "xmzt", "xmztgxrq", "xmslrq", "rowid"}
    assert re.search(r'<a a-param="[^"]*xmbh=[0-9A-F]{32}', row["zqmc"])
    ids = []
    for page in range(1, meta["pagecount"] + 1):
        _, got = register(emulator, CATALOGID="xmjdxx", PAGENO=page, zqlb=2, pageSize=4)
        ids += [re.search(r"xmbh=(\w{32})", r["zqmc"]).group(1) for r in got[0]["data"]]
        assert all(r["zqlb"] == "ABS" for r in got[0]["data"])
    assert len(ids) == len(set(ids)) == abs_total


def test_register_status_and_name_filters(emulator):
    _, got = register(emulator, CATALOGID="xmjdxx", PAGENO=1, selectXmzt="终止,中止", pageSize=50)
    assert {r["xmzt"] for r in got[0]["data"]} == {"终止", "中止"}
    _, got = register(emulator, CATALOGID="xmjdxx", PAGENO=1, txtZqmc="小米小贷", pageSize=50)
    assert [r["nfxje"] for r in got[0]["data"]] == ["20.00"]


def test_register_detail_gives_issuer_and_manager_full_name(emulator):
    project = next(p for p in fixtures.load("szse_projects") if "蛇口产业园" in p["zqmc"])
    status, got = register(emulator, CATALOGID="xmjdxx_xq", xmbh=project["xmbh"], type=2)
    assert status == 200
    detail = got[0]["data"][0]
    assert detail["fxr"] == "招商局蛇口工业区控股股份有限公司"
    assert detail["cxsqc"] == "招商证券资产管理有限公司"
    _, none = register(emulator, CATALOGID="xmjdxx_xq", xmbh="0" * 32, type=2)
    assert none[0]["data"] == []


def test_register_refuses_without_its_referer(emulator):
    assert register(emulator, referer=None, CATALOGID="xmjdxx", PAGENO=1)[0] == 403
    assert register(emulator, referer=REAL_NOTICE_PAGE, CATALOGID="xmjdxx", PAGENO=1)[0] == 403


def test_register_shows_the_status_of_its_day(emulator):
    project = next(p for p in fixtures.load("szse_projects") if "2025年第12期" in p["zqmc"])

    def status_on(day: dt.date | None) -> str | None:
        szse.set_register_date(day)
        try:
            _, got = register(emulator, CATALOGID="xmjdxx", PAGENO=1, txtZqmc=project["zqmc"], pageSize=5)
        finally:
            szse.set_register_date(None)
        rows = got[0]["data"]
        return rows[0]["xmzt"] if rows else None

    assert status_on(dt.date(2025, 9, 1)) is None  # not filed yet
    assert status_on(dt.date(2025, 10, 20)) == "已反馈"
    assert status_on(None) == "通过"
