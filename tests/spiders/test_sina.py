"""The sina spider over real HTTP against the emulated roll feed: fields, paging, window, faults."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crawlkit import CrawlResult, run_crawl
from xinpi.emulator.server import Emulator
from xinpi.emulator.sites import sina as site

# all=1: no topic filter, so every fixture row counts; until = today: the fresh (age_minutes) rows are in too
FULL = {"since": "2025-01-01", "all": "1"}
MID_MAY = {"since": "2025-05-10", "until": "2025-05-14", "all": "1"}
SMALL_PAGES = {"XINPI_SINA_PAGE_SIZE": 3}
API, ARTICLES = site.API_HOST, site.ARTICLE_HOST


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def _list_pages(requests: list[Any]) -> list[int]:
    return [int(r.query["page"][0]) for r in requests if r.host == API]


def _expected(since: str, until: str) -> dict[str, dict[str, Any]]:
    start = dt.datetime.fromisoformat(since).replace(tzinfo=site.SHANGHAI)
    end = dt.datetime.fromisoformat(until).replace(tzinfo=site.SHANGHAI) + dt.timedelta(days=1)
    return {f"sina:{a['docid']}": a for a in site.articles() if start <= a["published_at"] < end}


@pytest.fixture(scope="module")
def full(emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlResult, list]:
    """One crawl over every fixture row with 3 rows per list page, shared by the field tests."""
    emulator_server.clear()
    result = run_crawl("sina", emulator_server.url, tmp_path_factory.mktemp("sina-full"), args=FULL,
                       settings=SMALL_PAGES)
    return result, list(emulator_server.requests)


def test_every_readable_fixture_article_arrives_once_with_its_fields(full) -> None:
    result, _ = full
    assert result.returncode == 0, result.log[-2000:]
    docs = {d["doc_id"]: d for d in result.documents()}
    assert len(docs) == len(result.documents())  # no duplicates
    readable = {f"sina:{a['docid']}": a for a in site.articles() if not a.get("video")}
    assert set(docs) == set(readable) and len(docs) >= 8
    for doc_id, row in readable.items():
        doc = docs[doc_id]
        assert doc["source"] == "sina" and doc["kind"] == "news"
        assert doc["title"] == row["title"]
        assert _paragraphs(doc["text"]) == [*row["lead"], *_paragraphs(row["body"])]
        published = dt.datetime.fromisoformat(doc["published_at"])
        assert published.utcoffset() == dt.timedelta(hours=8)
        if row["layout"] == "pub_date":  # old layout: only the printed minute-precision date
            assert published == row["published_at"].replace(second=0)
            assert doc["published_at_raw"] == f"{row['published_at']:%Y年%m月%d日 %H:%M}"
        else:  # the meta tag wins
            assert published == row["published_at"]
            assert doc["published_at_raw"] == row["published_at"].isoformat()
        assert doc["media_name"] == row["media_name"]
        # article:author, but not when it only names the desk (新浪财经): then the feed's author
        assert doc["author"] == (row["author"] or None)
        assert doc["extra"]["docid"] == row["docid"] and doc["extra"]["lid"] == 2516
        assert doc["extra"]["ctime"] == str(int(row["published_at"].timestamp()))
        assert doc["url"].endswith(row["path"])
        assert "story_id" not in doc["extra"]  # the normalise pipeline stage adds it, not the spider


def test_ads_and_qr_blocks_are_not_text(full) -> None:
    result, _ = full
    junk_rows = {f"sina:{a['docid']}" for a in site.articles() if a.get("junk") and not a.get("video")}
    junk_docs = [d for d in result.documents() if d["doc_id"] in junk_rows]
    assert len(junk_docs) >= 4
    for doc in junk_docs:
        assert "滚动播报" not in doc["text"] and "扫码" not in doc["text"] and "开户" not in doc["text"]
        assert "\u3000" not in doc["text"]


def test_video_page_without_text_is_a_recorded_body_failure(full) -> None:
    result, _ = full
    video = next(a for a in site.articles() if a.get("video"))
    failures = result.failures()
    assert [(f["stage"], f["url"].endswith(video["path"])) for f in failures] == [("body", True)]
    assert result.stats.get("xinpi/failures/body") == 1


def test_paging_asks_each_page_once_until_a_short_page(full) -> None:
    _, requests = full
    lists = [r for r in requests if r.host == API]
    assert len(site.articles()) == 11  # 3 + 3 + 3 + 2
    assert _list_pages(lists) and sorted(_list_pages(lists)) == [1, 2, 3, 4]
    for r in lists:
        assert r.query["num"] == ["3"] and r.query["pageid"] == ["153"] and r.query["lid"] == ["2516"]
        assert r.query["k"] == [""] and r.query["r"][0] and r.query["_"][0].isdigit()
        assert r.status == 200


def test_window_keeps_its_documents_and_stops_at_the_first_all_older_page(crawl, emulator) -> None:
    result = crawl("sina", args=MID_MAY, settings=SMALL_PAGES)
    assert result.returncode == 0
    expected = _expected("2025-05-10", "2025-05-14")
    assert {d["doc_id"] for d in result.documents()} == set(expected) and len(expected) == 3
    # newest first: page 3 (05-08, 05-06, 04-27) is all older than 05-10, so page 4 is never asked for
    assert sorted(_list_pages(emulator.requests)) == [1, 2, 3]
    assert emulator.count(ARTICLES) == 3


def test_syndicated_channels_are_read_once_each(crawl, emulator) -> None:
    result = crawl("sina", args={"since": "2025-05-01", "until": "2025-05-14", "all": "1"},
                   settings={"XINPI_SINA_LIDS": [2516, 2517]})
    docs = result.documents()
    window = _expected("2025-05-01", "2025-05-14")
    in_2517 = {doc_id for doc_id, a in window.items() if 2517 in a["lids"]}
    assert len(docs) == len({d["doc_id"] for d in docs}) == 5  # articles listed in both lids fetched once
    assert in_2517 <= {d["doc_id"] for d in docs} and len(in_2517) == 3
    assert {r.query["lid"][0] for r in emulator.requests if r.host == API} == {"2516", "2517"}


def test_a_wrong_referer_is_refused_and_recorded(crawl, emulator) -> None:
    result = crawl("sina", args=FULL, settings={"XINPI_SINA_REFERER": "https://www.example.com/"})
    assert result.returncode == 0
    assert result.documents() == []
    [failure] = result.failures()
    assert failure["stage"] == "fetch" and failure["http_status"] == 403
    assert [r.status for r in emulator.requests if r.host == API] == [403]


def test_faults_are_retried_or_recorded_and_the_crawl_goes_on(crawl, emulator) -> None:
    """One crawl, three faults (crawls cost seconds): a 500 on one article (retried), a 404 on another
    (recorded), and a truncated first list page (recorded, then asked again)."""
    emulator.add_fault("status", host=ARTICLES, path_regex="doc-inevqhax0837152", status=500, times=1)
    emulator.add_fault("status", host=ARTICLES, path_regex="doc-inevmtyc5518209", status=404, times=-1)
    emulator.add_fault("truncate", host=API, times=1)
    result = crawl("sina", args=MID_MAY)
    assert result.returncode == 0
    expected = set(_expected("2025-05-10", "2025-05-14")) - {"sina:comos:inevmtyc5518209"}
    assert {d["doc_id"] for d in result.documents()} == expected and "sina:comos:inevqhax0837152" in expected
    failures = sorted(result.failures(), key=lambda f: f["stage"])
    assert [(f["stage"], f["http_status"]) for f in failures] == [("fetch", 404), ("parse", 200)]
    assert failures[0]["url"].endswith("doc-inevmtyc5518209.shtml")
    assert "lid=2516 page=1" in failures[1]["error"]
    assert _list_pages(emulator.requests) == [1, 1]
    retried = [r.status for r in emulator.requests if r.path.endswith("doc-inevqhax0837152.shtml")]
    assert retried == [500, 200]


def test_a_list_page_broken_twice_is_skipped_and_the_next_page_read(crawl, emulator) -> None:
    emulator.add_fault("garbage", host=API, times=2)
    result = crawl("sina", args=MID_MAY, settings=SMALL_PAGES)
    assert result.returncode == 0
    # page 1 (the fresh rows and 05-14) is lost and recorded twice; pages 2 and 3 are still read
    expected = set(_expected("2025-05-10", "2025-05-14")) - {"sina:comos:inevrxkw6153708"}
    assert {d["doc_id"] for d in result.documents()} == expected
    assert [f["stage"] for f in result.failures()] == ["parse", "parse"]
    assert sorted(_list_pages(emulator.requests)) == [1, 1, 2, 3]


def test_scrapy_list_shows_the_news_portal_spiders() -> None:
    import subprocess
    import sys

    from crawlkit import ROOT

    out = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert {"sina", "eastmoney"} <= set(out.stdout.split())


def test_topic_filter_skips_off_topic_rows_without_fetching_them(crawl, emulator) -> None:
    result = crawl("sina", args={"since": "2025-05-10", "until": "2025-05-14"})
    ids = {d["doc_id"] for d in result.documents()}
    on_topic = {"sina:comos:inevrxkw6153708", "sina:comos:inevmtyc5518209"}  # 国债期货, 科创债
    assert on_topic <= ids
    assert "sina:comos:inevqhax0837152" not in ids  # 离岸人民币: no topic word
    assert emulator.count(ARTICLES, r"doc-inevqhax0837152") == 0  # not even fetched
    assert result.stats.get("xinpi/topic/skipped", 0) >= 1
    assert len(ids) < len(_expected("2025-05-10", "2025-05-14"))  # all=1 (MID_MAY) keeps every one
