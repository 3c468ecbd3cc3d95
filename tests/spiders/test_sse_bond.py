"""sse_bond over real HTTP against the emulator: fields, paging, window, Referer, faults, PDFs."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from xinpi.emulator.fixtures import load
from xinpi.spiders.base import SHANGHAI
from xinpi.spiders.sse_bond import (
    DEFAULT_BOND_TYPES,
    GatewayError,
    SseBondSpider,
    check_page,
    parse_jsonp,
    rows_of,
)

WINDOW = {"since": "2025-08-01", "until": "2025-08-15"}
ABS = "CORPORATE_ASSET_BOND_BULLETIN"
CORPORATE = "CORPORATE_BOND_BULLETIN,COMPANY_BOND_BULLETIN"
QUERY = "query.sse.com.cn"


def expected_rows(bond_types: list[str], since: str = WINDOW["since"], until: str = WINDOW["until"]):
    wanted = {t for group in bond_types for t in group.split(",")}
    return {
        r["bulletinId"]: r
        for r in load("sse_bond")
        if r["bondType"] in wanted and since <= r["sseDate"] <= until
    }


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_window_crawl_yields_every_row_once_with_its_fields(crawl, emulator):
    result = crawl("sse_bond", args=WINDOW, settings={"XINPI_SSE_PAGE_SIZE": 3})
    assert result.returncode == 0, result.log[-2000:]
    docs = {d["doc_id"]: d for d in result.documents()}
    expected = expected_rows(DEFAULT_BOND_TYPES)
    assert len(expected) >= 10
    urls = Counter(r["url"] for r in expected.values())
    assert max(urls.values()) > 1  # one PDF shared by two rows: both documents must land
    assert sorted(docs) == sorted(f"sse_bond:{bid}" for bid in expected)
    assert len(result.documents()) == len(docs)  # no duplicates
    # one request chain for ABS and corporate bonds together (bondType is a comma list); every page
    # of it was asked for, no more
    assert DEFAULT_BOND_TYPES == [f"{ABS},{CORPORATE}"]
    assert {r["bondType"] for r in expected.values()} == {ABS, *CORPORATE.split(",")}
    listing = [r for r in emulator.requests if r.host == QUERY]
    assert sorted(int(r.query["pageHelp.pageNo"][0]) for r in listing) == list(
        range(1, math.ceil(len(expected) / 3) + 1)
    )
    assert {r.query["bondType"][0] for r in listing} == set(DEFAULT_BOND_TYPES)
    assert "xinpi/topic/skipped" not in result.stats  # the listing is topical: no filter
    for req in listing:
        assert req.query["sseDate"] == ["2025-08-01 00:00:00"] and req.query["sseDateEnd"] == [
            "2025-08-15 23:59:59"
        ]
        assert req.query["jsonCallBack"][0].startswith("jsonpCallback")  # so the answers were JSONP
    for bid, row in expected.items():
        doc = docs[f"sse_bond:{bid}"]
        assert doc["source"] == "sse_bond" and doc["kind"] == "announcement"
        assert doc["title"] == row["title"]
        assert doc["sec_code"] == row["securityCode"] and doc["sec_name"] == row["securityAbbr"]
        assert dt.datetime.fromisoformat(doc["published_at"]) == dt.datetime.fromisoformat(
            row["sseDate"] + "T00:00:00+08:00"
        )
        assert doc["published_at_raw"] == row["sseDate"]
        parts = urlsplit(doc["attachment_url"])
        assert parts.path == "/www.sse.com.cn" + row["url"]  # the static host, never the query host
        assert doc["url"] == doc["attachment_url"]
        assert doc["extra"]["bondType"] == row["bondType"]
        assert doc["extra"]["orgBulletinType"] == row["orgBulletinType"]
        if row["_pdf"] == "ok":
            assert squash(doc["text"]) == squash(row["_body"])
        else:  # the PDF is missing or broken: the row still lands, with its title as text
            assert doc["text"] == row["title"]
    failures = {f["url"].rsplit("/", 1)[-1]: f for f in result.failures()}
    broken = {r["fileName"]: r["_pdf"] for r in expected.values() if r["_pdf"] != "ok"}
    assert set(failures) == set(broken)
    for name, kind in broken.items():
        assert (failures[name]["stage"], failures[name]["http_status"]) == (
            ("fetch", 404) if kind == "missing" else ("pdf", 200)
        )


def test_bond_types_setting_selects_the_lists(crawl, emulator):
    types = ["LOCAL_GOVERNMENT_BOND_BULLETIN", "NON_PUBLIC_COMPANY_BOND_BULLETIN"]
    settings = {
        "XINPI_SSE_BOND_TYPES": types,
        "XINPI_SSE_FETCH_PDF": False,
        "XINPI_SSE_PDF_HOST": "static.sse.com.cn",
    }
    result = crawl("sse_bond", args=WINDOW, settings=settings)
    assert result.returncode == 0
    docs = result.documents()
    want = expected_rows(types)
    assert sorted(d["doc_id"] for d in docs) == sorted(f"sse_bond:{b}" for b in want)
    assert sorted(r.query["bondType"][0] for r in emulator.requests if r.host == QUERY) == sorted(types)
    assert emulator.count("www.sse.com.cn") == emulator.count("static.sse.com.cn") == 0  # no PDF fetches
    for doc in docs:
        row = want[doc["doc_id"].split(":")[1]]
        assert urlsplit(doc["attachment_url"]).path == "/static.sse.com.cn" + row["url"]
        assert doc["text"] == row["title"]


def test_a_foreign_referer_is_refused_and_recorded(crawl, emulator):
    result = crawl("sse_bond", args=WINDOW, settings={"XINPI_SSE_REFERER": "https://www.example.com/"})
    assert result.returncode == 0
    assert result.documents() == []
    failures = result.failures()
    assert len(failures) == len(DEFAULT_BOND_TYPES)
    assert all(
        f["stage"] == "fetch" and "系统繁忙" in f["error"] and f["http_status"] == 200 for f in failures
    )
    assert {parse_qs(urlsplit(f["url"]).query)["bondType"][0] for f in failures} == set(DEFAULT_BOND_TYPES)


def test_http_500_and_a_truncated_answer_are_retried_and_the_data_is_complete(crawl, emulator):
    # two lists, so each fault hits the first request of its own chain (one chain would spend its
    # single answer retry on the second fault: see test_garbage_answers...)
    emulator.add_fault("status", host=QUERY, status=500, times=1)
    emulator.add_fault("truncate", host=QUERY, times=1)
    result = crawl("sse_bond", args=WINDOW, settings={"XINPI_SSE_FETCH_PDF": False, "XINPI_SSE_PAGE_SIZE": 4,
                                                      "XINPI_SSE_BOND_TYPES": [ABS, CORPORATE]})
    assert result.returncode == 0
    assert [r.status for r in emulator.requests if r.host == QUERY].count(500) == 1
    assert all(f.times == 0 for f in emulator.faults)  # both faults were served
    assert sorted(d["doc_id"] for d in result.documents()) == sorted(
        f"sse_bond:{b}" for b in expected_rows(DEFAULT_BOND_TYPES)
    )
    assert result.failures() == []


def test_garbage_answers_are_recorded_and_the_crawl_goes_on(crawl, emulator):
    # two lists, one attempt plus one retry each: three garbage answers sink exactly one list
    emulator.add_fault("garbage", host=QUERY, times=3)
    lists = [ABS, CORPORATE]
    result = crawl("sse_bond", args=WINDOW, settings={"XINPI_SSE_FETCH_PDF": False,
                                                      "XINPI_SSE_BOND_TYPES": lists})
    assert result.returncode == 0
    failures = result.failures()
    assert len(failures) == 1 and failures[0]["stage"] == "parse"
    failed_type = parse_qs(urlsplit(failures[0]["url"]).query)["bondType"][0]
    other = next(t for t in lists if t != failed_type)
    assert sorted(d["doc_id"] for d in result.documents()) == sorted(
        f"sse_bond:{b}" for b in expected_rows([other])
    )


def test_a_lasting_http_500_is_recorded_per_list(crawl, emulator):
    emulator.add_fault("status", host=QUERY, status=500, times=-1)
    result = crawl("sse_bond", args=WINDOW)
    assert result.returncode == 0 and result.documents() == []
    failures = result.failures()
    assert sorted((f["stage"], f["http_status"]) for f in failures) == [("fetch", 500)] * len(
        DEFAULT_BOND_TYPES
    )
    # RETRY_TIMES=2 in the test crawls: three attempts per list
    assert [r.status for r in emulator.requests if r.host == QUERY] == [500] * 3 * len(DEFAULT_BOND_TYPES)


def test_window_outside_the_fixtures_yields_nothing(crawl, emulator):
    result = crawl("sse_bond", args={"since": "2024-01-01", "until": "2024-01-31"})
    assert result.returncode == 0 and result.items == []
    assert len([r for r in emulator.requests if r.host == QUERY]) == len(DEFAULT_BOND_TYPES)


@pytest.mark.parametrize(
    "body",
    [
        'jsonpCallback123({"pageHelp": {"total": 1}, "result": [{"a": 1}]})',
        'jsonpCallback123({"pageHelp": {"total": 1}, "result": [{"a": 1}]});\n',
        '\ufeff  {"pageHelp": {"total": 1}, "result": [{"a": 1}]}  ',
        'cb({"pageHelp": {"total": 1, "data": [[{"a": 1}]]}, "result": []})',
    ],
)
def test_parse_jsonp_and_rows(body):
    assert rows_of(check_page(parse_jsonp(body))) == [{"a": 1}]


@pytest.mark.parametrize(
    "body",
    [
        '{"success":"false","error":"系统繁忙...","errorType":"ExceptionInterceptor"}',
        'cb({"pageHelp": {"total": 1}, "result": [{"a": 1}',
        "<html>busy</html>",
        "[]",
        '{"result": []}',
    ],
)
def test_bad_answers_raise_gateway_error(body):
    with pytest.raises(GatewayError):
        check_page(parse_jsonp(body))


def test_parse_date_is_beijing_time():
    assert SseBondSpider.parse_date("2025-08-06") == dt.datetime(2025, 8, 6, tzinfo=SHANGHAI)
    assert SseBondSpider.parse_date("2025-08-06 17:30:00") == dt.datetime(2025, 8, 6, 17, 30, tzinfo=SHANGHAI)
    assert SseBondSpider.parse_date("20250806") is None and SseBondSpider.parse_date("") is None
