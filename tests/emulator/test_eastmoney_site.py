"""The emulated 东方财富 hosts answer like the real ones (sources.md §5.2), over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from bs4 import BeautifulSoup

from xinpi.emulator import fixtures
from xinpi.emulator.fixtures import CLOCK_ENV
from xinpi.emulator.sites import eastmoney

FIELDS = "code,showTime,title,mediaName,summary,image,url,uniqueUrl,Np_dst"


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def columns(emulator, **params: Any) -> tuple[int, str]:
    query = {
        "client": "web", "biz": "web_news_col", "column": 1207, "order": 1, "needInteractData": 0,
        "page_index": 1, "page_size": 200, "req_trace": "1715920201000", "fields": FIELDS,
    }
    query.update(params)
    query = {k: v for k, v in query.items() if v is not None}
    status, body = _fetch(f"{emulator.url}/{eastmoney.API_HOST}/comm/web/getNewsByColumns?"
                          f"{urllib.parse.urlencode(query, safe=',')}")
    return status, body.decode("utf-8")


def test_column_list_envelope_and_rows_newest_first(emulator) -> None:
    status, text = columns(emulator)
    assert status == 200
    payload = json.loads(text)
    assert payload["code"] == "1" and payload["message"] == "success"
    assert payload["req_trace"] == "1715920201000"
    rows = payload["data"]["list"]
    assert len(rows) == payload["data"]["total_hits"] == len(eastmoney.articles()) >= 8
    for row in rows:
        assert set(row) == set(FIELDS.split(","))
        assert row["url"] == f"{emulator.url}/{eastmoney.ARTICLE_HOST}/a/{row['code']}.html"
        assert len(row["code"]) == 18 and row["code"][:8] == row["showTime"][:10].replace("-", "")
    times = [r["showTime"] for r in rows]
    assert times == sorted(times, reverse=True)
    oldest_first = json.loads(columns(emulator, order=2)[1])["data"]["list"]
    assert [r["code"] for r in oldest_first] == [r["code"] for r in rows][::-1]


def test_paging_fields_and_columns(emulator) -> None:
    total = len(eastmoney.articles())
    pages = [json.loads(columns(emulator, page_size=3, page_index=p)[1])["data"] for p in (1, 2, 3, 4, 5)]
    assert [len(p["list"]) for p in pages] == [3, 3, 3, total - 9, 0]
    assert all(p["page_size"] == 3 for p in pages)
    assert len(json.loads(columns(emulator, page_size=1000)[1])["data"]["list"]) == total  # clamped to 200
    narrow = json.loads(columns(emulator, fields="code,title")[1])["data"]["list"]
    assert all(set(r) == {"code", "title"} for r in narrow)
    other = json.loads(columns(emulator, column=350)[1])["data"]["list"]
    assert {r["code"] for r in other} == {a["code"] for a in eastmoney.articles() if 350 in a["columns"]}


def test_bad_parameters_get_an_error_envelope_and_callback_gets_jsonp(emulator) -> None:
    for bad in ({"client": None}, {"biz": "x"}, {"column": "abc"}):
        payload = json.loads(columns(emulator, **bad)[1])
        assert payload["code"] == "-1" and payload["data"] is None
    status, text = columns(emulator, callback="jQuery123_456")
    assert status == 200 and text.startswith("jQuery123_456({") and text.endswith("})")


def test_article_pages_have_content_body_and_the_chosen_header(emulator) -> None:
    rows = json.loads(columns(emulator)[1])["data"]["list"]
    by_code = {a["code"]: a for a in eastmoney.articles()}
    for row in rows:
        article = by_code[row["code"]]
        status, body = _fetch(row["url"])
        assert status == 200
        page = BeautifulSoup(body.decode("utf-8"), "lxml")
        content = page.select_one("div#ContentBody")
        assert content is not None and article["body"].split("\n")[0] in content.get_text()
        printed = f"{article['published_at']:%Y年%m月%d日 %H:%M}"
        if article["layout"] == "infos":
            assert page.select_one("div.title").get_text() == article["title"]
            items = [i.get_text() for i in page.select(".infos .item")]
            assert items[:2] == [printed, f"来源：{row['mediaName']}"]
        elif article["layout"] == "old":
            assert page.select_one(".newsContent h1").get_text() == article["title"]
            assert page.select_one(".time-source .time").get_text() == printed
        else:  # bare: nothing but the body
            assert page.select_one("h1, div.title, .infos, .time-source") is None
            assert "文章来源" not in content.get_text()


def test_unknown_article_is_a_404(emulator) -> None:
    assert _fetch(f"{emulator.url}/{eastmoney.ARTICLE_HOST}/a/202505089999999999.html")[0] == 404


def _fresh_codes() -> dict[str, str]:
    eastmoney.articles.cache_clear()
    try:
        return {a["title"]: a["code"] for a in eastmoney.articles() if "age_minutes" in a}
    finally:
        eastmoney.articles.cache_clear()


def test_fresh_codes_follow_the_pinned_clock_not_the_emulators_start(monkeypatch) -> None:
    """Codes start with the publication date: unpinned, a restart after midnight renames fresh
    stories; pinned (as `xinpi demo` does per data folder), a restart serves the same codes."""
    late, after_midnight = (dt.datetime(2026, 11, 27, 23, 50, tzinfo=fixtures.SHANGHAI),
                            dt.datetime(2026, 11, 28, 4, 0, tzinfo=fixtures.SHANGHAI))
    monkeypatch.setattr(fixtures, "_started", lambda: late)
    unpinned_late = _fresh_codes()
    monkeypatch.setattr(fixtures, "_started", lambda: after_midnight)
    assert _fresh_codes() != unpinned_late  # why the pin exists
    monkeypatch.setenv(CLOCK_ENV, late.isoformat())
    assert _fresh_codes() == unpinned_late and all(c.startswith("20261127") for c in unpinned_late.values())


def test_a_pinned_clock_without_an_offset_is_shanghai_time_and_garbage_is_refused(monkeypatch) -> None:
    monkeypatch.setenv(CLOCK_ENV, "2026-11-27T23:50:00")
    assert fixtures.fresh_now() == dt.datetime(2026, 11, 27, 23, 50, tzinfo=fixtures.SHANGHAI)
    monkeypatch.setenv(CLOCK_ENV, "yesterday")
    with pytest.raises(ValueError, match=CLOCK_ENV):
        fixtures.fresh_now()
