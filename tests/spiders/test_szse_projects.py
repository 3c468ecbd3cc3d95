"""szse_projects: real Scrapy crawls against the emulated bond.szse.cn project register."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from xinpi.emulator import fixtures
from xinpi.emulator.sites import szse
from xinpi.spiders.szse_projects import html_text, scale_yuan

API = r"/api/report/ShowReport/data$"


def projects(result) -> dict[str, dict[str, Any]]:
    rows = [i for i in result.items if i.get("register") == "szse"]
    by_id = {r["project_id"]: r for r in rows}
    assert len(by_id) == len(rows), "a project was yielded twice"
    return by_id


def fixture(name_part: str) -> dict[str, Any]:
    return next(p for p in fixtures.load("szse_projects") if name_part in p["zqmc"])


def test_helpers_scale_and_html_text():
    assert scale_yuan("2.85") == Decimal("285000000")
    assert scale_yuan("0.123456789") == Decimal("12345678.9")
    assert scale_yuan("1,000") == Decimal("100000000000")
    for empty in ("", "-", "--", "n/a", "-3"):
        assert scale_yuan(empty) is None
    assert html_text('<span title="x">招商&amp;资管</span>\n ') == "招商&资管"


def test_crawl_yields_every_project_with_detail_fields(crawl, emulator):
    per_category = ["2", "0", "1", "3"]  # the default asks once for all; this test pages each category
    result = crawl("szse_projects", settings={"XINPI_SZSE_PROJECT_PAGE_SIZE": 3,
                                              "XINPI_SZSE_PROJECT_CATEGORIES": per_category})
    assert result.returncode == 0, result.log[-2000:]
    got = projects(result)
    fx = fixtures.load("szse_projects")
    assert set(got) == {p["xmbh"] for p in fx} and len(got) >= 8
    assert result.failures() == []
    # one list page per 3 rows of each category, plus one detail per project
    pages = sum(-(-sum(1 for p in fx if p["zqlb"] == c) // 3) for c in "0123")
    assert emulator.count("bond.szse.cn", API) == pages + len(fx)

    p = fixture("蛇口产业园")
    row = got[p["xmbh"]]
    assert row["register"] == "szse" and row["type"] == "ABS"
    assert row["name"] == "招商创融-蛇口产业园租金收益权资产支持专项计划"
    assert (row["planned_scale_yuan"], row["planned_scale_text"]) == ("2250000000", "22.5")
    assert row["issuer"] == "招商局蛇口工业区控股股份有限公司"
    assert row["manager"] == "招商证券资产管理有限公司"
    assert row["extra"]["manager_short"] == "招商资管"  # the list cell is HTML
    assert (row["status"], row["accepted_date"], row["updated_date"]) == ("中止", "2025-10-29", "2025-11-20")
    page = f"/bond.szse.cn/disclosure/progressinfo/detail/index.html?xmbh={p['xmbh']}&type=2"
    assert row["url"].endswith(page)
    types = {got[q["xmbh"]]["type"] for q in fx}
    assert types == {"ABS", "小公募", "私募", "大公募"}
    # a "-" or empty amount and an empty accept date (old ABS) are None, the text is kept as written
    old = got[fixture("阿里巴巴")["xmbh"]]
    assert (old["planned_scale_yuan"], old["planned_scale_text"], old["accepted_date"]) == (None, "-", None)
    blank = got[fixture("深圳市投资控股")["xmbh"]]
    assert (blank["planned_scale_yuan"], blank["planned_scale_text"]) == (None, None)


def test_a_status_change_shows_up_as_a_new_row(crawl, tmp_path):
    p = fixture("2025年第12期")
    szse.set_register_date(dt.date(2025, 10, 20))
    try:
        before = projects(crawl("szse_projects", workdir=tmp_path / "before",
                                settings={"XINPI_SZSE_PROJECT_CATEGORIES": ["2"]}))
    finally:
        szse.set_register_date(None)
    after = projects(crawl("szse_projects", workdir=tmp_path / "after",
                           settings={"XINPI_SZSE_PROJECT_CATEGORIES": ["2"]}))
    old, new = before[p["xmbh"]], after[p["xmbh"]]
    assert (old["status"], old["updated_date"]) == ("已反馈", "2025-10-15")
    assert (new["status"], new["updated_date"]) == ("通过", "2025-10-30")
    assert old["name"] == new["name"] and old["accepted_date"] == new["accepted_date"] == "2025-09-26"
    # projects filed after the earlier day are not in the earlier register at all
    later = fixture("华泰-东莞松山湖知识产权4期")
    assert later["xmbh"] in after and later["xmbh"] not in before


def test_category_status_and_keyword_settings_filter_the_register(crawl, emulator):
    result = crawl("szse_projects", settings={
        "XINPI_SZSE_PROJECT_STATUSES": "终止,中止", "XINPI_SZSE_PROJECT_CATEGORIES": ["2", "3"],
    })
    got = projects(result).values()
    assert {r["status"] for r in got} == {"终止", "中止"} and {r["type"] for r in got} == {"ABS", "大公募"}
    result = crawl("szse_projects", settings={"XINPI_SZSE_PROJECT_KEYWORD": "小米小贷"})
    assert [r["name"] for r in projects(result).values()] == ["华泰-小米小贷2025年第3期资产支持专项计划"]


def test_wrong_referer_is_refused_and_recorded(crawl):
    result = crawl("szse_projects", settings={"XINPI_SZSE_PROJECT_REFERER_PATH": "/index.html"})
    assert result.returncode == 0
    assert projects(result) == {}
    failures = result.failures()
    assert len(failures) == 1 and {f["http_status"] for f in failures} == {403}  # one list: all categories


def test_a_500_on_the_list_is_retried_and_nothing_is_lost(crawl, emulator):
    emulator.add_fault("status", host="bond.szse.cn", status=500, times=1)
    result = crawl("szse_projects", settings={"XINPI_SZSE_PROJECT_CATEGORIES": ["2"]})
    abs_ids = {p["xmbh"] for p in fixtures.load("szse_projects") if p["zqlb"] == "2"}
    assert set(projects(result)) == abs_ids
    assert result.failures() == []


def test_a_failed_detail_keeps_the_project_from_the_list(crawl, emulator):
    # request 1 is the only list page (skipped by a zero "slow"); the first detail then gets a 404
    emulator.add_fault("slow", host="bond.szse.cn", delay=0, times=1)
    emulator.add_fault("status", host="bond.szse.cn", status=404, times=1)
    result = crawl("szse_projects", settings={"XINPI_SZSE_PROJECT_CATEGORIES": ["2"]})
    got = projects(result)
    assert len(got) == sum(1 for p in fixtures.load("szse_projects") if p["zqlb"] == "2")
    failures = result.failures()
    assert len(failures) == 1 and failures[0]["http_status"] == 404 and "xmjdxx_xq" in failures[0]["url"]
    bare = [r for r in got.values() if not r["extra"]["detail"]]
    assert len(bare) == 1 and bare[0]["issuer"] is None
    assert bare[0]["manager"] == bare[0]["extra"]["manager_short"] and bare[0]["manager"]


def test_a_truncated_list_page_is_a_failure_and_the_other_pages_still_yield(crawl, emulator):
    # one request at a time, list pages first: page 1 passes, the next list page is cut in half
    emulator.add_fault("slow", host="bond.szse.cn", delay=0, times=1)
    emulator.add_fault("truncate", host="bond.szse.cn", times=1)
    result = crawl("szse_projects", settings={
        "XINPI_SZSE_PROJECT_CATEGORIES": ["2"], "XINPI_SZSE_PROJECT_PAGE_SIZE": 3, "CONCURRENT_REQUESTS": 1,
    })
    assert result.returncode == 0
    abs_ids = {p["xmbh"] for p in fixtures.load("szse_projects") if p["zqlb"] == "2"}
    got = projects(result)
    failures = result.failures()
    assert [f["stage"] for f in failures] == ["parse"] and "xmjdxx" in failures[0]["url"]
    assert set(got) < abs_ids and len(abs_ids) - 3 <= len(got)
    assert all(r["extra"]["detail"] for r in got.values())


def test_default_reads_every_category_in_one_list_query(crawl, emulator):
    result = crawl("szse_projects")
    assert result.returncode == 0, result.log[-2000:]
    got = projects(result)
    fx = fixtures.load("szse_projects")
    assert set(got) == {p["xmbh"] for p in fx}
    lists = [r for r in emulator.requests if r.query.get("CATALOGID") == ["xmjdxx"]]
    assert len(lists) == 1 and "zqlb" not in lists[0].query  # 14 rows fit one 20-row page
    # without a zqlb filter the category code still comes back, from the row's category text
    assert {r["extra"]["zqlb_code"] for r in got.values()} == {p["zqlb"] for p in fx}
