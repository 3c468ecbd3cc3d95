"""The emulated 新浪财经 hosts answer like the real ones (sources.md §5.1), over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from bs4 import BeautifulSoup

from xinpi.emulator.sites import sina

REFERER = "https://news.sina.com.cn/"
ROW_KEYS = {"docid", "title", "intro", "url", "wapurl", "media_name", "ctime", "intime", "mtime"}


def _fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def roll(emulator, referer: str | None = REFERER, **params: Any) -> tuple[int, Any]:
    query = {"pageid": 153, "lid": 2516, "k": "", "num": 50, "page": 1, "r": "0.5", "_": "1715920201000"}
    query.update(params)
    headers = {"Referer": referer} if referer is not None else {}
    status, body, _ = _fetch(f"{emulator.url}/{sina.API_HOST}/api/roll/get?{urllib.parse.urlencode(query)}",
                             headers)
    return status, (json.loads(body) if status == 200 else body)


def test_roll_answers_the_documented_envelope_newest_first(emulator) -> None:
    status, payload = roll(emulator)
    assert status == 200
    assert payload["result"]["status"] == {"code": 0, "msg": ""}
    rows = payload["result"]["data"]
    assert len(rows) == len([a for a in sina.articles() if 2516 in a["lids"]]) >= 8
    for row in rows:
        assert ROW_KEYS <= set(row)
        assert all(isinstance(row[k], str) and row[k].isdigit() for k in ("ctime", "intime", "mtime"))
        assert row["url"].startswith(f"{emulator.url}/{sina.ARTICLE_HOST}/")
    ctimes = [int(r["ctime"]) for r in rows]
    assert ctimes == sorted(ctimes, reverse=True)
    first = sina.articles()[0]
    assert rows[0]["docid"] == first["docid"]
    assert int(rows[0]["ctime"]) == int(first["published_at"].timestamp())


def test_num_page_and_the_page_cap(emulator) -> None:
    total = len(roll(emulator)[1]["result"]["data"])
    pages = [roll(emulator, num=4, page=p)[1]["result"]["data"] for p in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [4, 4, total - 8, 0]
    assert [r["docid"] for p in pages for r in p] == [r["docid"] for r in roll(emulator)[1]["result"]["data"]]
    assert len(roll(emulator, num=500)[1]["result"]["data"]) == total  # num is clamped to 50, not an error
    assert roll(emulator, num=1, page=51)[1]["result"]["data"] == []  # past the 50-page cap


def test_keyword_and_lid_filters(emulator) -> None:
    rows = roll(emulator, k="ABS")[1]["result"]["data"]
    assert rows and all("ABS" in r["title"] or "ABS" in r["intro"] for r in rows)
    assert len(rows) < len(roll(emulator)[1]["result"]["data"])
    stock = roll(emulator, lid=2517)[1]["result"]["data"]
    assert {r["docid"] for r in stock} == {a["docid"] for a in sina.articles() if 2517 in a["lids"]}
    assert roll(emulator, lid=9999)[1]["result"]["data"] == []


def test_referer_must_be_a_sina_page(emulator) -> None:
    for referer in (None, "https://www.example.com/", "https://sina.com.cn.evil.example/"):
        status, body = roll(emulator, referer=referer)
        assert status == 403 and b"Forbidden" in body
    assert roll(emulator, referer="https://finance.sina.com.cn/roll/")[0] == 200


def test_article_pages_carry_the_documented_selectors(emulator) -> None:
    rows = {r["docid"]: r for r in roll(emulator)[1]["result"]["data"]}
    for article in sina.articles():
        status, body, ctype = _fetch(rows[article["docid"]]["url"])
        assert status == 200 and "utf-8" in ctype
        page = BeautifulSoup(body.decode("utf-8"), "lxml")
        assert page.select_one("h1.main-title").get_text() == article["title"]
        assert page.select_one("#artibody") is not None
        meta = page.select_one('meta[property="article:published_time"]')
        printed = page.select_one("#pub_date") or page.select_one(".date-source .date")
        assert printed.get_text() == f"{article['published_at']:%Y年%m月%d日 %H:%M}"
        if article["layout"] == "pub_date":
            assert meta is None
        else:
            assert dt.datetime.fromisoformat(meta["content"]) == article["published_at"]
            assert page.select_one('meta[property="article:author"]')["content"]
        if article.get("junk"):
            assert page.select("#artibody #left_hzh_ad, #artibody .appendQr_wrap, #artibody .app-kaihu-qr")
        if article.get("video"):  # nothing but the player and the ad blocks
            body = page.select_one("#artibody")
            for junk in body.select("#left_hzh_ad, .appendQr_wrap, .app-kaihu-qr"):
                junk.decompose()
            assert body.get_text(strip=True) == "" and body.select_one("#video-player") is not None


def test_unknown_article_is_a_404(emulator) -> None:
    status, _, _ = _fetch(f"{emulator.url}/{sina.ARTICLE_HOST}/roll/2025-05-08/doc-inevzzzz0000000.shtml")
    assert status == 404
