"""The emulated zqrb.cn: list pages, article pages, charsets and the awkward fixture cases (§5.7)."""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.request

import pytest
from bs4 import BeautifulSoup

from xinpi.emulator.fixtures import CLOCK_ENV, fresh_now
from xinpi.emulator.server import Emulator
from xinpi.emulator.sites import zqrb as site


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "test"})) as resp:
            return resp.status, resp.read(), resp.headers["Content-Type"]
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers["Content-Type"]


def list_page(emu: Emulator, channel: str, page: int) -> tuple[int, BeautifulSoup]:
    name = "index.html" if page == 1 else f"index_p{page}.html"
    status, body, _ = get(f"{emu.url}/www.zqrb.cn/{channel}/{name}")
    return status, BeautifulSoup(body.decode("utf-8"), "lxml")


def test_fixture_corpus_covers_the_awkward_cases() -> None:
    arts = site.articles()
    assert len(arts) >= 16
    assert {a["published_at"].year for a in arts} >= {2025, 2026}
    assert any(a.get("encoding") == "gbk" and "喆" in a["author"] for a in arts)
    assert any(a.get("body") is None for a in arts)
    assert any(a.get("missing") for a in arts)
    assert any("age_minutes" in a for a in arts) and any("yesterday_at" in a for a in arts)
    assert all(re.fullmatch(r"A\d{13}", a["id"]) for a in arts)


def test_list_pages_walk_every_article_of_a_channel_newest_first(emulator: Emulator) -> None:
    for channel in site.channels():
        expected = [a["path"] for a in site.articles() if a["channel"] == channel]
        seen, page = [], 1
        while True:
            status, soup = list_page(emulator, channel, page)
            assert status == 200
            items = soup.select("div.news_content ul li")
            assert 0 < len(items) <= site.LIST_PAGE_SIZE
            for li in items:
                link, date = li.select_one("a.lista"), li.select_one("span.date")
                assert link.get_text() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date.get_text())
                seen.append(link["href"].split("/www.zqrb.cn", 1)[1])
            nxt = [a for a in soup.select("div.page a") if "下一页" in a.get_text()]
            if not nxt:
                break
            assert nxt[0]["href"] == f"index_p{page + 1}.html"
            page += 1
        assert seen == expected
        assert list_page(emulator, channel, page + 1)[0] == 404
    biggest = max(len([a for a in site.articles() if a["channel"] == c]) for c in site.channels())
    assert biggest > site.LIST_PAGE_SIZE  # some channel really needs a second page


def test_article_url_carries_date_folder_and_epoch_ms_id() -> None:
    for a in site.articles():
        m = re.fullmatch(r"/([a-z]+/[a-z]+)/(\d{4}-\d{2}-\d{2})/A(\d{13})\.html", a["path"])
        assert m and m.group(1) == a["channel"]
        assert m.group(2) == a["published_at"].date().isoformat()
        if "published" in a:  # fixed-date articles: the id is the publication time in epoch ms
            assert dt.datetime.fromtimestamp(int(m.group(3)) / 1000, site.SHANGHAI) == a["published_at"]


def test_fresh_article_ids_do_not_depend_on_when_the_emulator_started() -> None:
    """A live site's article keeps its id; a "3小时前" fixture must not mint a new one per start."""
    fresh = [a for a in site.articles() if "published" not in a]
    assert fresh
    site.articles.cache_clear()
    later = fresh_now() + dt.timedelta(hours=5)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(CLOCK_ENV, later.isoformat())
            again = {a["title"]: a["id"] for a in site.articles() if "published" not in a}
    finally:
        site.articles.cache_clear()
    assert again == {a["title"]: a["id"] for a in fresh}


def test_article_page_structure(emulator: Emulator) -> None:
    art = next(
        a for a in site.articles()
        if a.get("body") and "info_date" not in a and "published" in a and not a.get("missing")
        and a.get("encoding", "utf-8") == "utf-8" and a.get("layout") != "old"
    )
    status, body, ctype = get(f"{emulator.url}/www.zqrb.cn{art['path']}")
    assert status == 200 and "charset=utf-8" in ctype
    soup = BeautifulSoup(body.decode("utf-8"), "lxml")
    assert soup.select_one("div.news_content > h1").get_text() == art["title"]
    info = soup.select_one("div.info_news").get_text()
    assert info == f"{art['published_at']:%Y-%m-%d %H:%M} 来源：{art['source']} {art['author']}"
    paragraphs = [p.get_text() for p in soup.select("div.content-lcq p")]
    assert paragraphs == [p for p in art["body"].split("\n") if p.strip()]


def test_gbk_article_is_gbk_bytes_with_a_gb2312_meta_tag(emulator: Emulator) -> None:
    art = next(a for a in site.articles() if a.get("encoding") == "gbk")
    status, body, ctype = get(f"{emulator.url}/www.zqrb.cn{art['path']}")
    assert status == 200 and ctype == "text/html; charset=gbk"
    text = body.decode("gbk")
    assert "charset=gb2312" in text and "喆" in text and "镕" in text
    assert "镕".encode("gbk") in body
    try:
        "镕".encode("gb2312")
        raise AssertionError("the rare character must lie outside gb2312 for this case to mean anything")
    except UnicodeEncodeError:
        pass


def test_special_articles(emulator: Emulator) -> None:
    arts = site.articles()
    missing = next(a for a in arts if a.get("missing"))
    assert get(f"{emulator.url}/www.zqrb.cn{missing['path']}")[0] == 404
    no_body = next(a for a in arts if a.get("body") is None)
    soup = BeautifulSoup(get(f"{emulator.url}/www.zqrb.cn{no_body['path']}")[1].decode(), "lxml")
    assert soup.select_one("h1") and not soup.select("div.content-lcq, div.content")
    old = next(a for a in arts if a.get("layout") == "old")
    soup = BeautifulSoup(get(f"{emulator.url}/www.zqrb.cn{old['path']}")[1].decode(), "lxml")
    assert soup.select("div.content p") and not soup.select("div.content-lcq")
    odd = next(a for a in arts if a.get("info_date") == "二〇二五年九月三日")
    soup = BeautifulSoup(get(f"{emulator.url}/www.zqrb.cn{odd['path']}")[1].decode(), "lxml")
    assert soup.select_one("div.info_news").get_text().startswith("二〇二五年九月三日 来源：")


def test_fresh_articles_print_relative_dates(emulator: Emulator) -> None:
    now = dt.datetime.now(site.SHANGHAI)
    for art in site.articles():
        if "age_minutes" not in art and "yesterday_at" not in art:
            continue
        soup = BeautifulSoup(get(f"{emulator.url}/www.zqrb.cn{art['path']}")[1].decode(), "lxml")
        shown = soup.select_one("div.info_news").get_text().split(" 来源：")[0]
        assert shown == site._info_date(art, now)
        assert re.fullmatch(r"\d+分钟前|\d+小时前|昨天 \d{2}:\d{2}|\d{4}-\d{2}-\d{2} \d{2}:\d{2}", shown)
    # the renderer itself, at fixed instants
    fresh = {"age_minutes": 185, "published_at": dt.datetime(2026, 5, 1, 9, 0, tzinfo=site.SHANGHAI)}
    assert site._info_date(fresh, dt.datetime(2026, 5, 1, 12, 5, tzinfo=site.SHANGHAI)) == "3小时前"
    assert site._info_date(fresh, dt.datetime(2026, 5, 1, 9, 10, tzinfo=site.SHANGHAI)) == "10分钟前"
    assert site._info_date(fresh, dt.datetime(2026, 5, 2, 8, 0, tzinfo=site.SHANGHAI)) == "昨天 09:00"
    assert site._info_date(fresh, dt.datetime(2026, 5, 9, 8, 0, tzinfo=site.SHANGHAI)) == "2026-05-01 09:00"


def test_unknown_pages_are_404(emulator: Emulator) -> None:
    assert get(f"{emulator.url}/www.zqrb.cn/nosuch/channel/index.html")[0] == 404
    assert get(f"{emulator.url}/www.zqrb.cn/jrjg/bank/2025-01-01/A0000000000000.html")[0] == 404
    assert get(f"{emulator.url}/www.zqrb.cn/jrjg/bank/index_p0.html")[0] == 404
