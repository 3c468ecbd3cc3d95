"""The eastmoney spider over real HTTP against the emulated column list: fields, fallbacks, paging,
window, faults, and story ids shared with the sina copies of the same stories."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from crawlkit import CrawlResult, run_crawl
from xinpi.emulator.server import Emulator
from xinpi.emulator.sites import eastmoney as site
from xinpi.emulator.sites import sina as sina_site
from xinpi.items import DocumentItem
from xinpi.pipelines.normalise import NormalisePipeline
from xinpi.spiders.eastmoney import load_list_json

# all=1: no topic filter, so every fixture row counts; until = today: the fresh (age_minutes) rows are in too
FULL = {"since": "2025-01-01", "all": "1"}
SMALL_PAGES = {"XINPI_EASTMONEY_PAGE_SIZE": 4}
API, ARTICLES = site.API_HOST, site.ARTICLE_HOST


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def _list_pages(requests: list[Any]) -> list[int]:
    return [int(r.query["page_index"][0]) for r in requests if r.host == API]


def _expected(since: str, until: str) -> dict[str, dict[str, Any]]:
    start = dt.datetime.fromisoformat(since).replace(tzinfo=site.SHANGHAI)
    end = dt.datetime.fromisoformat(until).replace(tzinfo=site.SHANGHAI) + dt.timedelta(days=1)
    return {f"eastmoney:{a['code']}": a for a in site.articles() if start <= a["published_at"] < end}


@pytest.fixture(scope="module")
def full(emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlResult, list]:
    """One crawl over every fixture row with 4 rows per list page, shared by the field tests."""
    emulator_server.clear()
    result = run_crawl("eastmoney", emulator_server.url, tmp_path_factory.mktemp("em-full"), args=FULL,
                       settings=SMALL_PAGES)
    return result, list(emulator_server.requests)


def test_every_fixture_article_arrives_once_with_its_fields(full) -> None:
    result, _ = full
    assert result.returncode == 0, result.log[-2000:]
    assert result.failures() == []
    docs = {d["doc_id"]: d for d in result.documents()}
    assert len(docs) == len(result.documents()) == len(site.articles()) >= 8
    for doc_id, row in _expected("2025-01-01", "2100-01-01").items():
        doc = docs[doc_id]
        assert doc["source"] == "eastmoney" and doc["kind"] == "news"
        assert doc["title"] == row["title"]
        # the 文章来源/责任编辑 lines are metadata, not story text
        assert _paragraphs(doc["text"]) == [*row["lead"], *_paragraphs(row["body"])]
        published = dt.datetime.fromisoformat(doc["published_at"])
        assert published.utcoffset() == dt.timedelta(hours=8)
        if row["layout"] == "bare":  # nothing on the page: the list's showTime, to the second
            assert published == row["published_at"]
            assert doc["published_at_raw"] == f"{row['published_at']:%Y-%m-%d %H:%M:%S}"
        else:  # the page's printed minute wins
            assert published == row["published_at"].replace(second=0)
            assert doc["published_at_raw"] == f"{row['published_at']:%Y年%m月%d日 %H:%M}"
        assert doc["media_name"] == row["mediaName"]
        assert doc["author"] == (row["author"] or None)
        assert doc["extra"]["editor"] == (row["editor"] or None)
        assert doc["extra"]["code"] == row["code"] and doc["extra"]["column"] == 1207
        assert doc["url"].endswith(f"/{ARTICLES}/a/{row['code']}.html")


def test_paging_asks_each_page_once_until_a_short_page(full) -> None:
    _, requests = full
    lists = [r for r in requests if r.host == API]
    assert len(site.articles()) == 10  # 4 + 4 + 2
    assert sorted(_list_pages(lists)) == [1, 2, 3]
    for r in lists:
        assert r.query["page_size"] == ["4"] and r.query["column"] == ["1207"] and r.query["order"] == ["1"]
        assert r.query["client"] == ["web"] and r.query["biz"] == ["web_news_col"]
        assert r.query["fields"] == ["code,showTime,title,mediaName,summary,image,url,uniqueUrl,Np_dst"]
        assert r.query["req_trace"][0].isdigit()


def test_window_keeps_its_documents_and_stops_at_the_first_all_older_page(crawl, emulator) -> None:
    window = {"since": "2025-05-13", "until": "2025-05-15", "all": "1"}
    result = crawl("eastmoney", args=window, settings=SMALL_PAGES)
    assert result.returncode == 0
    expected = _expected("2025-05-13", "2025-05-15")
    assert {d["doc_id"] for d in result.documents()} == set(expected) and len(expected) == 2
    # newest first: page 2 (05-10 … 04-27) is all older than 05-13, so page 3 is never asked for
    assert sorted(_list_pages(emulator.requests)) == [1, 2]
    assert emulator.count(ARTICLES) == 2


def test_faults_are_retried_or_recorded_and_the_crawl_goes_on(crawl, emulator) -> None:
    """One crawl, three faults: garbage for the first list page (recorded, asked again), a 500 on
    one article (retried) and a 404 on another (recorded)."""
    window = _expected("2025-05-01", "2025-05-31")
    codes = sorted(a["code"] for a in window.values())
    emulator.add_fault("garbage", host=API, times=1)
    emulator.add_fault("status", host=ARTICLES, path_regex=codes[0], status=500, times=1)
    emulator.add_fault("status", host=ARTICLES, path_regex=codes[1], status=404, times=-1)
    result = crawl("eastmoney", args={"since": "2025-05-01", "until": "2025-05-31", "all": "1"})
    assert result.returncode == 0
    assert {d["doc_id"] for d in result.documents()} == set(window) - {f"eastmoney:{codes[1]}"}
    failures = sorted(result.failures(), key=lambda f: f["stage"])
    assert [(f["stage"], f["http_status"]) for f in failures] == [("fetch", 404), ("parse", 200)]
    assert failures[0]["url"].endswith(f"/a/{codes[1]}.html")
    assert "column 1207 page 1" in failures[1]["error"]
    assert [r.status for r in emulator.requests if codes[0] in r.path] == [500, 200]


def test_syndicated_copies_share_a_story_id_with_sina(full, emulator_server, tmp_path) -> None:
    """The normalise pipeline stage (which sets ``extra.story_id``), run on what each spider
    yielded, gives every copy of a story one id and different stories different ids."""
    result, _ = full
    sina = run_crawl("sina", emulator_server.url, tmp_path, args=FULL)
    stage = NormalisePipeline(get_crawler())
    by_corpus: dict[str, set[str]] = {}
    for docs, rows in (
        (result.documents(), {f"eastmoney:{a['code']}": a for a in site.articles()}),
        (sina.documents(), {f"sina:{a['docid']}": a for a in sina_site.articles()}),
    ):
        assert docs and all("story_id" not in d["extra"] for d in docs)  # spiders only parse
        for doc in map(stage.process_item, (DocumentItem(**d) for d in docs)):
            key = rows[doc["doc_id"]].get("corpus_id") or doc["doc_id"]  # own stories stand alone
            by_corpus.setdefault(key, set()).add(doc["extra"]["story_id"])
    shared = {k for k in by_corpus if k.startswith("dev-")}
    both = {a.get("corpus_id") for a in site.articles()} & {a.get("corpus_id") for a in sina_site.articles()}
    assert len(both - {None}) >= 4
    for key, ids in by_corpus.items():
        assert len(ids) == 1, key  # every copy of a story: one id
    all_ids = [next(iter(ids)) for ids in by_corpus.values()]
    assert len(all_ids) == len(set(all_ids))  # different stories: different ids
    assert shared >= both - {None}


def test_jsonp_answers_are_read_like_json(emulator) -> None:
    import urllib.request

    url = (f"{emulator.url}/{API}/comm/web/getNewsByColumns?client=web&biz=web_news_col&column=1207"
           "&order=1&page_index=1&page_size=2&callback=jQuery3510_1715920201")
    text = urllib.request.urlopen(url, timeout=10).read().decode("utf-8")
    assert text.startswith("jQuery3510_1715920201(")
    assert load_list_json(text) == json.loads(text[text.index("(") + 1 : text.rindex(")")])
    assert load_list_json(text + ";")["data"]["list"][0]["code"] == site.articles()[0]["code"]


def test_topic_filter_skips_off_topic_rows_without_fetching_them(crawl, emulator) -> None:
    result = crawl("eastmoney", args={"since": "2025-05-01", "until": "2025-05-31"})
    titles = {d["title"] for d in result.documents()}
    assert any("科技创新债券" in t for t in titles)
    window = _expected("2025-05-01", "2025-05-31")
    off_topic = [a for a in window.values() if "美联储" in a["title"]]
    assert len(off_topic) == 1 and not any("美联储" in t for t in titles)
    assert emulator.count(ARTICLES, off_topic[0]["code"]) == 0  # not even fetched
    assert result.stats.get("xinpi/topic/skipped", 0) >= 1
    assert len(titles) < len(window)  # with all=1 the same window yields every row (see above)
