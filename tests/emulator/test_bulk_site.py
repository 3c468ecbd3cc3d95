"""The synthetic bulk channel: N zqrb-shaped documents, paged, each article page parseable and stable."""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.request

import pytest
from bs4 import BeautifulSoup

from xinpi.emulator.server import Emulator
from xinpi.emulator.sites import bulk


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, ""


def crawl_listing(emu: Emulator, channel: str) -> tuple[list[str], list[str], int]:
    """Follow 下一页 from index.html; returns (article URLs, list dates, pages seen)."""
    url = f"{emu.url}/{bulk.HOST}/{channel}/index.html"
    links: list[str] = []
    dates: list[str] = []
    pages = 0
    while url:
        status, text = get(url)
        assert status == 200, url
        pages += 1
        soup = BeautifulSoup(text, "lxml")
        items = soup.select("div.news_content ul li")
        links += [li.select_one("a.lista")["href"] for li in items]
        dates += [li.select_one("span.date").get_text() for li in items]
        more = next((a for a in soup.select("div.page a[href]") if "下一页" in a.get_text()), None)
        url = url.rsplit("/", 1)[0] + "/" + more["href"] if more else ""
    return links, dates, pages


@pytest.mark.parametrize("n", [45, 60])
def test_listing_serves_n_distinct_documents_newest_first(emulator: Emulator, n: int) -> None:
    links, dates, pages = crawl_listing(emulator, bulk.channel(n))
    assert len(links) == len(set(links)) == n
    assert pages == -(-n // bulk.PAGE_SIZE)
    assert dates == sorted(dates, reverse=True)
    since, until = bulk.window(n)
    assert dates[0] == until.isoformat() and dates[-1] == since.isoformat()
    assert all(re.search(r"/bulk/n\d+/\d{4}-\d{2}-\d{2}/A\d{13}\.html$", u) for u in links)
    status, _ = get(f"{emulator.url}/{bulk.HOST}/{bulk.channel(n)}/index_p{pages + 1}.html")
    assert status == 404


def test_article_pages_have_the_zqrb_shape_and_realistic_size(emulator: Emulator) -> None:
    links, _, _ = crawl_listing(emulator, bulk.channel(24))
    sizes, deals = [], 0
    for url in links[:8]:
        status, text = get(url)
        assert status == 200
        soup = BeautifulSoup(text, "lxml")
        title = soup.select_one("div.news_content > h1").get_text()
        body = soup.select_one("div.content-lcq")
        info = soup.select_one("div.info_news").get_text()
        assert title and len(body.find_all("p")) >= 2
        assert re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} 来源：证券日报网 \S", info)
        assert info[:10] in url  # the URL's date folder is the info line's date
        text_bytes = len(body.get_text().encode("utf-8"))
        sizes.append(text_bytes)
        deals += "亿元" in body.get_text() and ("专项计划" in body.get_text() or "票据" in body.get_text()
                                              or "公司债券" in body.get_text())
        assert get(url)[1] == text  # generated from the index alone: the same page every time
    assert all(1200 <= s <= 3500 for s in sizes), sizes
    assert deals >= 2  # every fourth article carries a deal


def test_articles_beyond_n_or_with_a_wrong_date_folder_are_404(emulator: Emulator) -> None:
    base = f"{emulator.url}/{bulk.HOST}"
    assert get(base + bulk.article_path(10, 9))[0] == 200
    assert get(base + bulk.article_path(10, 10))[0] == 404  # the 11th of a 10-document channel
    wrong_day = re.sub(r"/\d{4}-\d{2}-\d{2}/", "/2020-01-01/", bulk.article_path(10, 3))
    assert get(base + wrong_day)[0] == 404
    off_grid = re.sub(r"A(\d{13})", lambda m: f"A{int(m[1]) + 1:013d}", bulk.article_path(10, 3))
    assert get(base + off_grid)[0] == 404


def test_default_channel_size_comes_from_the_environment(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(bulk.ENV_DOCS, "30")
    links, _, pages = crawl_listing(emulator, "bulk/default")
    assert len(links) == 30 and pages == 2
    assert get(links[-1])[0] == 200


def test_the_real_zqrb_spider_crawls_the_bulk_channel(crawl) -> None:
    n = 30
    since, until = bulk.window(n)
    result = crawl("zqrb", args={"channels": bulk.channel(n), "since": str(since), "until": str(until),
                                 "all": "1"})
    assert result.returncode == 0, result.log[-2000:]
    docs = result.documents()
    assert len({d["doc_id"] for d in docs}) == n and not result.failures()
    published = sorted(dt.datetime.fromisoformat(d["published_at"]) for d in docs)
    assert published[-1] == bulk.NEWEST and published[0] == bulk.published(n - 1)
    assert all(d["extra"]["channel"] == bulk.channel(n) for d in docs)
