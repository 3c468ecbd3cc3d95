"""The stcn spider over real HTTP against the emulated 证券时报网: XHR JSON list, articles, window, faults."""

from __future__ import annotations

import datetime as dt

import pytest

from crawlkit import CrawlResult, run_crawl
from xinpi.emulator.fixtures import load
from xinpi.emulator.server import Emulator

FULL = {"since": "2025-01-01", "until": "2025-12-31", "all": "1"}  # all=1: no topic filter
DEFAULT_TYPES = {"finance", "kx"}  # what these tests read (the spider's own default is finance only)
BOTH = {"XINPI_STCN_TYPES": ["finance", "kx"]}


def _pages(requests: list) -> list[tuple[str, int]]:
    """(type, page) of every list request in the emulator's log."""
    return [(r.query["type"][0], int(r.query["page"][0])) for r in requests if r.path == "/article/list.html"]


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


@pytest.fixture(scope="module")
def full(emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlResult, list]:
    emulator_server.clear()
    result = run_crawl("stcn", emulator_server.url, tmp_path_factory.mktemp("stcn-full"), args=FULL,
                       settings=BOTH)
    return result, list(emulator_server.requests)


def test_every_readable_article_of_the_default_types_arrives_with_its_fields(full) -> None:
    result, _ = full
    assert result.returncode == 0, result.log[-2000:]
    docs = {d["doc_id"]: d for d in result.documents()}
    assert len(docs) == len(result.documents())
    readable = [r for r in load("stcn") if r["type"] in DEFAULT_TYPES and r["broken"] != "no-body"]
    assert set(docs) == {f"stcn:{r['id']}" for r in readable}
    for row in readable:
        doc = docs[f"stcn:{row['id']}"]
        assert doc["source"] == "stcn" and doc["kind"] == "news"
        assert doc["url"].endswith(f"/www.stcn.com/article/detail/{row['id']}.html")
        assert doc["title"] == row["title"]
        assert _paragraphs(doc["text"]) == _paragraphs(row["body"])
        published = dt.datetime.fromisoformat(doc["published_at"])
        assert published.utcoffset() == dt.timedelta(hours=8)
        assert published.strftime("%Y-%m-%d %H:%M") == row["published"]
        assert doc["media_name"] == row["source"]
        assert (doc["author"] or "") == row["author"]
        assert doc["extra"]["type"] == row["type"]
        assert doc["extra"]["tags"] == row["tags"]
        assert doc["extra"]["keywords"] == row["keywords"]


def test_rare_characters_and_the_syndicated_outlet(full) -> None:
    result, _ = full
    docs = {d["doc_id"]: d for d in result.documents()}
    authors = {d["author"] for d in docs.values() if d["author"]}
    assert {"张喆", "王堃", "陈镕"} <= authors
    syndicated = [d for d in docs.values() if d["media_name"] == "证券日报"]
    assert len(syndicated) == 1 and "中建三局" in syndicated[0]["text"]


def test_unparseable_page_time_falls_back_to_the_list_time(full) -> None:
    result, _ = full
    row = next(r for r in load("stcn") if r["broken"] == "bad-date")
    doc = next(d for d in result.documents() if d["doc_id"] == f"stcn:{row['id']}")
    assert doc["extra"]["time_from"] == "list"
    assert dt.datetime.fromisoformat(doc["published_at"]).strftime("%Y-%m-%d %H:%M") == row["published"]


def test_article_without_body_is_a_failure(full) -> None:
    result, _ = full
    row = next(r for r in load("stcn") if r["broken"] == "no-body")
    failed = [f for f in result.failures() if f["url"].endswith(f"/{row['id']}.html")]
    assert len(failed) == 1 and failed[0]["stage"] == "body"
    assert len(result.failures()) == 1


def test_list_is_asked_as_xhr_and_paged_to_the_end(full) -> None:
    _, requests = full
    pages = sorted(_pages(requests))
    # finance has 8 items (2 full pages), so page 3 answers empty; kx has 4 (1 page)
    assert pages == [("finance", 1), ("finance", 2), ("finance", 3), ("kx", 1), ("kx", 2)]


def test_window_keeps_only_its_dates_and_stops_paging(crawl, emulator: Emulator) -> None:
    since, until = dt.date(2025, 10, 1), dt.date(2025, 11, 20)
    result = crawl("stcn", args={"since": since.isoformat(), "until": until.isoformat(), "all": "1"},
                   settings=BOTH)
    expected = {
        f"stcn:{r['id']}" for r in load("stcn")
        if r["type"] in DEFAULT_TYPES and r["broken"] != "no-body"
        and since <= dt.date.fromisoformat(r["published"][:10]) <= until
    }
    assert {d["doc_id"] for d in result.documents()} == expected
    # finance page 2 ends in April, kx page 1 ends in March: no further list pages
    assert sorted(_pages(emulator.requests)) == [("finance", 1), ("finance", 2), ("kx", 1)]
    assert emulator.count("www.stcn.com", r"/3313001\.html$") == 0  # 2025-11-21, after `until`


def test_types_setting_selects_the_lists(crawl, emulator: Emulator) -> None:
    since_2021 = {"since": "2021-01-01", "until": "2025-12-31"}
    result = crawl("stcn", args=since_2021, settings={"XINPI_STCN_TYPES": ["company"]})
    assert [d["extra"]["type"] for d in result.documents()] == ["company"]
    assert {r.query["type"][0] for r in emulator.requests if r.path == "/article/list.html"} == {"company"}


def test_list_server_error_is_retried_and_documents_still_arrive(crawl, emulator: Emulator) -> None:
    emulator.add_fault("status", host="www.stcn.com", path_regex=r"^/article/list", status=500, times=1)
    result = crawl("stcn", args=FULL, settings={"XINPI_STCN_TYPES": ["kx"]})
    assert emulator.count("www.stcn.com", r"^/article/list\.html$") == 3  # 500, page 1 again, page 2
    assert {d["doc_id"] for d in result.documents()} == {
        f"stcn:{r['id']}" for r in load("stcn") if r["type"] == "kx"
    }
    assert result.failures() == []


def test_a_list_that_is_not_json_is_a_failure(crawl, emulator: Emulator) -> None:
    emulator.add_fault("garbage", host="www.stcn.com", path_regex=r"^/article/list\.html$", times=1)
    result = crawl("stcn", args=FULL, settings={"XINPI_STCN_TYPES": ["kx"]})
    assert result.returncode == 0
    assert [f["stage"] for f in result.failures()] == ["parse"]
    assert result.documents() == []


def test_empty_article_page_is_a_failure_and_the_crawl_goes_on(crawl, emulator: Emulator) -> None:
    emulator.add_fault("empty", host="www.stcn.com", path_regex=r"/3309876\.html$", times=1)
    result = crawl("stcn", args=FULL, settings={"XINPI_STCN_TYPES": ["kx"]})
    failed = result.failures()
    assert len(failed) == 1 and failed[0]["url"].endswith("/3309876.html") and failed[0]["stage"] == "parse"
    assert len(result.documents()) == len([r for r in load("stcn") if r["type"] == "kx"]) - 1


def test_default_reads_finance_and_skips_off_topic_items_unfetched(crawl, emulator: Emulator) -> None:
    result = crawl("stcn", args={"since": "2025-10-01", "until": "2025-11-30"})
    assert result.returncode == 0
    assert {t for t, _ in _pages(emulator.requests)} == {"finance"}
    ids = {d["doc_id"] for d in result.documents()}
    assert {"stcn:3311207", "stcn:3278403"} <= ids  # 资产支持专项计划, ABS
    assert "stcn:3312880" not in ids  # 银行理财: no topic word in title or summary
    assert emulator.count("www.stcn.com", r"/(3312880|3296615)\.html$") == 0  # not fetched at all
    assert result.stats.get("xinpi/topic/skipped") == 2
