"""szse_ann: real Scrapy crawls against the emulated www.szse.cn annList and its PDFs."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from xinpi.emulator import fixtures
from xinpi.spiders.szse_ann import parse_publish_time, settings_list

WINDOW = {"since": "2025-09-01", "until": "2025-11-30"}
LIST_PATH = r"/api/disc/announcement/annList$"


def expected(channel: str = "bondinfoNotice_disc", since: str = WINDOW["since"],
             until: str = WINDOW["until"]) -> dict[str, dict[str, Any]]:
    return {
        f"szse_ann:{f['row']['id']}": f for f in fixtures.load("szse_ann")
        if f["row"]["channelCode"] == channel and since <= f["row"]["publishTime"][:10] <= until
    }


def test_helpers_parse_times_and_list_settings():
    assert parse_publish_time("2025-11-13 17:00:00").isoformat() == "2025-11-13T17:00:00+08:00"
    assert parse_publish_time("2025-11-13").isoformat() == "2025-11-13T00:00:00+08:00"
    assert parse_publish_time("13/11/2025") is None
    assert settings_list('["a", "b"]', []) == settings_list("a, b", []) == ["a", "b"]
    assert settings_list("", ["x"]) == ["x"]


def test_crawl_yields_every_bond_notice_of_the_window_with_its_fields(crawl, emulator):
    want = expected()
    result = crawl("szse_ann", args=WINDOW, settings={"XINPI_SZSE_PAGE_SIZE": 4})
    assert result.returncode == 0, result.log[-2000:]
    docs = {d["doc_id"]: d for d in result.documents()}
    assert set(docs) == set(want) and len(result.documents()) == len(want) >= 10
    assert result.failures() == []
    # pagination: exactly the pages the count calls for, and one PDF per notice
    assert emulator.count("www.szse.cn", LIST_PATH) == math.ceil(len(want) / 4)
    assert emulator.count("disc.static.szse.cn", r"\.PDF$") == len(want)

    fx = next(f for f in want.values() if "中环物联应收账款1期" in f["row"]["title"])
    doc = docs[f"szse_ann:{fx['row']['id']}"]
    assert doc["source"] == "szse_ann" and doc["kind"] == "announcement"
    assert doc["url"].endswith(f"/www.szse.cn/disclosure/listed/bulletinDetail/index.html?{fx['row']['id']}")
    assert doc["attachment_url"].endswith("/disc.static.szse.cn/download" + fx["row"]["attachPath"])
    assert doc["published_at"] == "2025-09-16T17:30:00+08:00"
    assert doc["published_at_raw"] == "2025-09-16 17:30:00"
    assert (doc["sec_code"], doc["sec_name"]) == ("134820", "中环1优")
    assert doc["extra"]["sec_codes"] == ["134820", "134821"]
    assert doc["extra"]["channel_code"] == "bondinfoNotice_disc"
    assert doc["extra"]["ann_id"] == fx["row"]["annId"]
    # the text is the PDF's, which says more than the list's one-line summary
    assert "实际募集资金6.00亿元" in doc["text"].replace("\n", "")
    assert "实际募集资金" not in fx["row"]["content"]
    no_code = [d for d in docs.values() if not want[d["doc_id"]]["row"]["secCode"]]
    assert no_code and all(d["sec_code"] is None for d in no_code)


def test_window_limits_the_notices(crawl):
    want = expected(since="2025-11-01", until="2025-11-15")
    result = crawl("szse_ann", args={"since": "2025-11-01", "until": "2025-11-15"},
                   settings={"XINPI_SZSE_FETCH_PDF": False})
    assert 0 < len(want) < len(expected())
    assert {d["doc_id"] for d in result.documents()} == set(want)
    assert all("2025-11-01" <= d["published_at"][:10] <= "2025-11-15" for d in result.documents())


def test_channels_setting_adds_listed_company_notices(crawl):
    result = crawl("szse_ann", args=WINDOW, settings={
        "XINPI_SZSE_CHANNELS": ["bondinfoNotice_disc", "listedNotice_disc"], "XINPI_SZSE_FETCH_PDF": False,
    })
    want = {**expected(), **expected("listedNotice_disc")}
    assert {d["doc_id"] for d in result.documents()} == set(want)
    listed = [d for d in result.documents() if d["extra"]["channel_code"] == "listedNotice_disc"]
    assert {d["sec_code"] for d in listed} == {"002917", "000027"}


def test_wrong_referer_is_refused_and_recorded(crawl):
    result = crawl("szse_ann", args=WINDOW, settings={"XINPI_SZSE_REFERER_PATH": "/market/index.html"})
    assert result.returncode == 0
    assert result.documents() == []
    failures = result.failures()
    assert len(failures) == 1 and failures[0]["http_status"] == 403 and failures[0]["stage"] == "fetch"
    assert result.stats.get("xinpi/failures/fetch") == 1


def test_a_500_is_retried_and_nothing_is_lost(crawl, emulator):
    emulator.add_fault("status", host="www.szse.cn", status=500, times=1)
    no_pdf = {"XINPI_SZSE_PAGE_SIZE": 4, "XINPI_SZSE_FETCH_PDF": False}
    result = crawl("szse_ann", args=WINDOW, settings=no_pdf)
    assert {d["doc_id"] for d in result.documents()} == set(expected())
    assert result.failures() == []
    assert emulator.count("www.szse.cn", LIST_PATH) == math.ceil(len(expected()) / 4) + 1


def test_a_truncated_page_is_a_failure_and_the_other_pages_still_yield(crawl, emulator):
    # The first annList request (page 1) passes untouched ("slow" with no delay), the next page is cut.
    emulator.add_fault("slow", host="www.szse.cn", delay=0, times=1)
    emulator.add_fault("truncate", host="www.szse.cn", times=1)
    want = expected()
    no_pdf = {"XINPI_SZSE_PAGE_SIZE": 4, "XINPI_SZSE_FETCH_PDF": False}
    result = crawl("szse_ann", args=WINDOW, settings=no_pdf)
    assert result.returncode == 0
    failures = result.failures()
    assert [f["stage"] for f in failures] == ["parse"]
    ids = [d["doc_id"] for d in result.documents()]
    assert len(ids) == len(set(ids))
    assert set(ids) < set(want)
    assert len(want) - 4 <= len(ids) < len(want)


def test_an_unreadable_pdf_keeps_the_notice_with_list_text(crawl, emulator):
    emulator.add_fault("status", host="disc.static.szse.cn", status=404, times=1)
    emulator.add_fault("garbage", host="disc.static.szse.cn", times=1)
    want = expected()
    result = crawl("szse_ann", args=WINDOW)
    assert {d["doc_id"] for d in result.documents()} == set(want)
    assert Counter(f["stage"] for f in result.failures()) == {"pdf": 2}
    broken = [d for d in result.documents() if "pdf_error" in d["extra"]]
    assert len(broken) == 2
    for doc in broken:
        assert doc["text"].startswith(doc["title"])
        assert doc["text"] == "\n".join(p for p in (doc["title"], doc["extra"]["content"]) if p)
