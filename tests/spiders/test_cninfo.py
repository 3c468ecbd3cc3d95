"""The cninfo spider against the emulated API and PDFs: real Scrapy crawls in a subprocess."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pytest

from crawlkit import CrawlResult, run_crawl
from xinpi.emulator.server import Emulator
from xinpi.emulator.sites import cninfo as site
from xinpi.spiders.base import DEFAULT_TOPIC_WORDS
from xinpi.spiders.cninfo import DEFAULT_CATEGORY, DEFAULT_SEARCHKEYS, clean_title, day_slices, month_slices

WINDOW = {"since": "2025-01-01", "until": "2026-12-31"}
QUERY = r"^/new/hisAnnouncement/query$"
KEYS = DEFAULT_SEARCHKEYS.split(";")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def matching(*keys: str) -> dict[str, dict[str, Any]]:
    return {f"cninfo:{r['announcementId']}": r for r in site.rows() if any(k in r["title"] for k in keys)}


def in_categories(*codes: str) -> dict[str, dict[str, Any]]:
    return {f"cninfo:{r['announcementId']}": r for r in site.rows() if r["category"] in codes}


def on_topic(row: dict[str, Any]) -> bool:
    return any(w.upper() in row["title"].upper() for w in DEFAULT_TOPIC_WORDS)


def by_id(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ids = [d["doc_id"] for d in docs]
    assert len(ids) == len(set(ids)), "a document was yielded twice"
    return {d["doc_id"]: d for d in docs}


@pytest.fixture(scope="module")
def default_crawl(emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    """One crawl in the default (category) mode, shared by the tests that only read its output."""
    emulator_server.clear()
    result = run_crawl("cninfo", emulator_server.url, tmp_path_factory.mktemp("cninfo"), args=WINDOW)
    result.stats["_queries"] = emulator_server.count("www.cninfo.com.cn", QUERY)
    emulator_server.clear()
    return result


def test_default_is_one_category_query_finding_every_bond_and_abs_announcement(
    default_crawl: CrawlResult, emulator: Emulator
) -> None:
    result = default_crawl
    assert result.returncode == 0, result.log[-2000:]
    docs = by_id(result.documents())
    expected = in_categories(*DEFAULT_CATEGORY.split(";"))
    assert set(docs) == set(expected) and len(expected) >= 12
    assert expected == matching(*KEYS)  # the same announcements the three keyword queries find
    assert result.stats["_queries"] == 1

    for doc_id, row in expected.items():
        doc = docs[doc_id]
        assert doc["source"] == "cninfo" and doc["kind"] == "announcement"
        assert doc["title"] == row["title"] and "<em>" not in doc["title"]
        clock = row.get("time", "00:00")
        assert doc["published_at"] == f"{row['date']}T{clock}:00+08:00"
        assert doc["published_at_raw"] == str(site.announcement_time_ms(row))
        assert doc["sec_code"] == row["secCode"] and doc["sec_name"] == row["secName"]
        assert doc["attachment_url"] == f"{emulator.url}/static.cninfo.com.cn/{site.adjunct_url(row)}"
        assert doc["url"].startswith(f"{emulator.url}/www.cninfo.com.cn/new/disclosure/detail?")
        assert f"announcementId={row['announcementId']}" in doc["url"]
        assert f"announcementTime={row['date']}" in doc["url"]
        assert doc["extra"]["orgId"] == row["orgId"] and doc["extra"]["columnId"] == row["columnId"]
        assert doc["extra"]["adjunctSize"] > 0 or row["pdf"] == "missing"
        if row["pdf"] == "ok":
            assert squash(doc["text"]) == squash(row["title"] + row["body"])
        else:  # the listing data survives a bad attachment, with the title as text
            assert doc["text"] == row["title"] and "pdf_error" in doc["extra"]


def test_bad_and_missing_pdfs_are_recorded_failures(default_crawl: CrawlResult) -> None:
    result = default_crawl
    failures = result.failures()
    assert {f["stage"] for f in failures} == {"pdf"}
    by_url = {f["url"].rsplit("/", 1)[1]: f for f in failures}
    corrupt = next(r for r in site.rows() if r["pdf"] == "corrupt")
    missing = next(r for r in site.rows() if r["pdf"] == "missing")
    assert set(by_url) == {f"{corrupt['announcementId']}.PDF", f"{missing['announcementId']}.PDF"}
    assert "not a PDF" in by_url[f"{corrupt['announcementId']}.PDF"]["error"]
    assert by_url[f"{missing['announcementId']}.PDF"]["http_status"] == 404
    assert result.stats["xinpi/failures/pdf"] == 2
    assert f"{corrupt['announcementId']}.PDF failed at pdf: not a PDF" in result.log


def test_empty_searchkey_with_all_pages_through_everything(crawl, emulator: Emulator) -> None:
    result = crawl("cninfo", args={**WINDOW, "searchkey": "", "all": "1"},
                   settings={"XINPI_CNINFO_PAGE_SIZE": 3})
    docs = by_id(result.documents())
    assert set(docs) == {f"cninfo:{r['announcementId']}" for r in site.rows()}
    assert emulator.count("www.cninfo.com.cn", QUERY) == math.ceil(len(site.rows()) / 3)


def test_topic_filter_drops_off_topic_titles_before_their_pdf(crawl, emulator: Emulator) -> None:
    # every category, no keyword: only titles holding a topic word are fetched and yielded
    result = crawl("cninfo", args={**WINDOW, "searchkey": ""})
    kept = {f"cninfo:{r['announcementId']}" for r in site.rows() if on_topic(r)}
    dropped = [r for r in site.rows() if not on_topic(r)]
    assert set(by_id(result.documents())) == kept and kept and len(dropped) >= 5
    assert result.stats["xinpi/topic/skipped"] == len(dropped)
    pdfs = {r.path.rsplit("/", 1)[1] for r in emulator.requests if r.host == "static.cninfo.com.cn"}
    assert not pdfs & {f"{r['announcementId']}.PDF" for r in dropped}


def test_three_keyword_queries_on_request_yield_each_row_once(crawl, emulator: Emulator) -> None:
    result = crawl("cninfo", args={**WINDOW, "searchkey": DEFAULT_SEARCHKEYS},
)
    assert set(by_id(result.documents())) == set(matching(*KEYS))
    assert result.stats["xinpi/cninfo/duplicate_rows"] > 0  # 资产支持 and 专项计划 overlap
    assert emulator.count("www.cninfo.com.cn", QUERY) == len(KEYS)
    assert "xinpi/topic/skipped" not in result.stats  # a keyword query is topical already


def test_keyword_and_window_arguments(crawl) -> None:
    result = crawl("cninfo", args={"since": "2025-06-01", "until": "2025-12-31", "searchkey": "公司债"})
    expected = {k for k, r in matching("公司债").items() if "2025-06-01" <= r["date"] <= "2025-12-31"}
    assert set(by_id(result.documents())) == expected and expected


def test_keywords_from_the_setting_and_category_argument(crawl) -> None:
    categories = {"category_rcjy_szsh", "category_dshgg_szsh"}
    result = crawl("cninfo", args={**WINDOW, "category": ";".join(sorted(categories))},
                   settings={"XINPI_CNINFO_SEARCHKEYS": "合同;决议"})
    expected = {k for k, r in matching("合同", "决议").items() if r["category"] in categories}
    assert set(by_id(result.documents())) == expected
    assert len(expected) == 2  # 决议 alone would also match a 股东大会 row outside the categories


def test_window_past_the_page_cap_is_sliced_by_month_then_by_day(crawl, emulator: Emulator) -> None:
    # one row on one page reachable per query: the window is cut into months, and months holding
    # more than one row into days
    window = {"since": "2025-04-01", "until": "2025-06-30"}
    result = crawl("cninfo", args={**window, "searchkey": "", "all": "1"},
                   settings={"XINPI_CNINFO_PAGE_SIZE": 1, "XINPI_CNINFO_MAX_PAGES": 1})
    in_window = [r for r in site.rows() if window["since"] <= r["date"] <= window["until"]]
    assert set(by_id(result.documents())) == {f"cninfo:{r['announcementId']}" for r in in_window}
    per_month = _rows_per_month(in_window)
    crowded = [m for m, n in per_month.items() if n > 1]
    assert crowded, "the fixture needs a month with several rows for this test"
    assert result.stats["xinpi/cninfo/sliced"] == 1 + len(crowded)
    days_in_crowded = sum(
        (dt.date.fromisoformat(f"{m}-01") + dt.timedelta(days=32)).replace(day=1).toordinal()
        - dt.date.fromisoformat(f"{m}-01").toordinal()
        for m in crowded
    )
    assert emulator.count("www.cninfo.com.cn", QUERY) == 1 + 3 + days_in_crowded
    assert "xinpi/cninfo/capped" not in result.stats  # no single day holds two rows


def _rows_per_month(rows: list[dict[str, Any]]) -> dict[str, int]:
    months: dict[str, int] = {}
    for r in rows:
        months[r["date"][:7]] = months.get(r["date"][:7], 0) + 1
    assert len({r["date"] for r in site.rows()}) == len(site.rows())  # one row per day
    return months


def test_slices_cover_the_window_exactly() -> None:
    slices = month_slices(dt.date(2025, 1, 15), dt.date(2025, 3, 2))
    assert slices == [
        (dt.date(2025, 1, 15), dt.date(2025, 1, 31)),
        (dt.date(2025, 2, 1), dt.date(2025, 2, 28)),
        (dt.date(2025, 3, 1), dt.date(2025, 3, 2)),
    ]
    across_new_year = month_slices(dt.date(2025, 12, 5), dt.date(2026, 1, 3))
    assert across_new_year[-1] == (dt.date(2026, 1, 1), dt.date(2026, 1, 3))
    days = day_slices(dt.date(2024, 2, 27), dt.date(2024, 3, 1))
    expected_days = [dt.date(2024, 2, d) for d in (27, 28, 29)] + [dt.date(2024, 3, 1)]
    assert [d for d, e in days if d == e] == expected_days


def test_clean_title_strips_highlighting_and_entities() -> None:
    assert clean_title("关于<em>资产支持</em>专项计划&amp;公告 ") == "关于资产支持专项计划&公告"
    assert clean_title(None) == ""


def test_http_500_and_a_truncated_answer_are_retried_then_succeed(crawl, emulator: Emulator) -> None:
    # first answer 500, the retry a truncated JSON, the third one good; a PDF also fails once
    emulator.add_fault("status", host="www.cninfo.com.cn", path_regex=QUERY, times=1, status=500)
    emulator.add_fault("truncate", host="www.cninfo.com.cn", path_regex=QUERY, times=1)
    emulator.add_fault("status", host="static.cninfo.com.cn", times=1, status=500)
    result = crawl("cninfo", args={**WINDOW, "searchkey": "公司债"})
    docs = by_id(result.documents())
    assert set(docs) == set(matching("公司债"))
    assert [f["stage"] for f in result.failures()] == ["pdf"]  # only the fixture's missing PDF
    assert sum(d["text"] != d["title"] for d in docs.values()) == len(docs) - 1  # every real PDF read
    assert result.stats["retry/count"] == 3
    assert emulator.count("www.cninfo.com.cn", QUERY) == 3


def test_garbage_answers_give_up_with_a_failure_per_query(crawl, emulator: Emulator) -> None:
    emulator.add_fault("garbage", host="www.cninfo.com.cn", path_regex=QUERY, times=-1)
    result = crawl("cninfo", args={**WINDOW, "searchkey": "资产支持;公司债"})
    assert result.returncode == 0
    assert result.documents() == []
    parse = [f for f in result.failures() if f["stage"] == "parse"]
    assert len(parse) == 2
    assert {re.search(r"searchkey=([^&]+)", f["url"]).group(1) for f in parse} == {
        "%E8%B5%84%E4%BA%A7%E6%94%AF%E6%8C%81", "%E5%85%AC%E5%8F%B8%E5%80%BA"
    }
    assert all("JSONDecodeError" in f["error"] for f in parse)
    assert emulator.count("www.cninfo.com.cn", QUERY) == 2 * 3  # first try + RETRY_TIMES=2 each


def test_http_404_on_the_api_and_oversized_pdfs(crawl, emulator: Emulator) -> None:
    emulator.add_fault("status", host="www.cninfo.com.cn", path_regex=QUERY, times=1, status=404)
    result = crawl("cninfo", args={**WINDOW, "searchkey": "董事会;股东大会"},
                   settings={"XINPI_PDF_MAX_BYTES": 1000})
    assert result.returncode == 0
    fetch = [f for f in result.failures() if f["stage"] == "fetch"]
    assert len(fetch) == 1 and fetch[0]["http_status"] == 404
    # one of the two single-row queries was lost, the other still delivered its document
    docs = result.documents()
    assert len(docs) == 1 and set(by_id(docs)) < set(matching("董事会", "股东大会"))
    # its ~2.6 KB PDF is over the 1000-byte cap: a pdf failure, the document kept with its title
    pdf = [f for f in result.failures() if f["stage"] == "pdf"]
    assert len(pdf) == 1 and pdf[0]["url"] == docs[0]["attachment_url"]
    assert docs[0]["text"] == docs[0]["title"]
