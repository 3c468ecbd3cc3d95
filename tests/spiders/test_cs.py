"""The cs spider over real HTTP against the emulated 中证网: fields, encodings, paging, window, faults."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from crawlkit import CrawlResult, run_crawl
from xinpi.emulator.fixtures import load
from xinpi.emulator.server import Emulator

FULL = {"since": "2025-01-01", "until": "2025-12-31", "all": "1"}  # all=1: no topic filter
BOTH = {"XINPI_CS_CHANNELS": ["gppd/zqxw", "xwzx"]}  # the default reads 债市研究 only


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def _fixture_id(doc_id: str) -> str:
    return doc_id.split(":", 1)[1]


@pytest.fixture(scope="module")
def full(emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlResult, list]:
    """One crawl over the whole fixture year, shared by the field tests (crawls cost seconds)."""
    emulator_server.clear()
    result = run_crawl("cs", emulator_server.url, tmp_path_factory.mktemp("cs-full"), args=FULL,
                       settings=BOTH)
    return result, list(emulator_server.requests)


def test_every_readable_fixture_article_arrives_once_with_its_fields(full) -> None:
    result, _ = full
    assert result.returncode == 0, result.log[-2000:]
    docs = {_fixture_id(d["doc_id"]): d for d in result.documents()}
    assert len(docs) == len(result.documents())  # no duplicates
    readable = [r for r in load("cs") if not r["broken"]]
    assert set(docs) == {r["id"] for r in readable}
    for row in readable:
        doc = docs[row["id"]]
        assert doc["source"] == "cs" and doc["kind"] == "news"
        assert doc["title"] == row["title"]
        assert _paragraphs(doc["text"]) == _paragraphs(row["body"])
        assert "\u3000" not in doc["text"] and "\ufffd" not in doc["text"]
        published = dt.datetime.fromisoformat(doc["published_at"])
        assert published.utcoffset() == dt.timedelta(hours=8)
        assert published.strftime("%Y-%m-%d %H:%M") == row["published"]
        assert doc["media_name"] == row["source"]
        assert (doc["author"] or "") == row["author"]
        assert doc["extra"]["channel"] == row["channel"]
        assert re.search(rf"/{row['channel']}/\d{{6}}/t\d{{8}}_{row['id']}\.html$", doc["url"])


def test_rare_characters_survive_gb2312_gbk_and_mislabelled_pages(full) -> None:
    result, _ = full
    docs = {_fixture_id(d["doc_id"]): d for d in result.documents()}
    by_encoding = {}
    for row in load("cs"):
        by_encoding.setdefault(row["encoding"], []).append(row)
    # gb2312-declared page whose author is 黄堃 (堃 is GBK-only)
    gb2312 = next(r for r in by_encoding["gb2312"] if "堃" in r["author"])
    assert "堃" in docs[gb2312["id"]]["author"]
    # the page that declares UTF-8 but is GBK: body, title and byline all intact
    mislabelled = by_encoding["utf-8-but-gbk"][0]
    doc = docs[mislabelled["id"]]
    assert "李镕" in doc["text"] and "堃" in doc["author"]
    assert doc["title"] == mislabelled["title"]


def test_story_syndicated_from_zqrb_keeps_its_outlet(full) -> None:
    result, _ = full
    syndicated = [d for d in result.documents() if d["media_name"] == "证券日报"]
    assert len(syndicated) == 1
    assert "中建三局" in syndicated[0]["text"]


def test_broken_articles_are_failures_and_the_crawl_goes_on(full) -> None:
    result, _ = full
    failures = {f["url"].rsplit("_", 1)[-1].split(".")[0]: f for f in result.failures()}
    broken = {r["id"]: r["broken"] for r in load("cs") if r["broken"]}
    assert set(failures) == set(broken)
    stage = {"no-body": "body", "bad-date": "date"}
    for id_, kind in broken.items():
        assert failures[id_]["stage"] == stage[kind]
    assert result.stats.get("xinpi/failures/body") == 1
    assert result.stats.get("xinpi/failures/date") == 1


def test_full_window_walks_every_page(full) -> None:
    _, requests = full
    listed = sorted(r.path for r in requests if r.path.endswith(("/", ".shtml")))
    assert listed == sorted([
        "/gppd/zqxw/", "/gppd/zqxw/index_1.shtml", "/gppd/zqxw/index_2.shtml",
        "/xwzx/", "/xwzx/index_1.shtml",
    ])


def test_window_keeps_only_its_dates_and_stops_paging(crawl, emulator: Emulator) -> None:
    result = crawl("cs", args={"since": "2025-10-01", "until": "2025-11-19", "all": "1"}, settings=BOTH)
    assert result.returncode == 0
    since, until = dt.date(2025, 10, 1), dt.date(2025, 11, 19)
    expected = {
        r["id"] for r in load("cs")
        if not r["broken"] and since <= dt.date.fromisoformat(r["published"][:10]) <= until
    }
    assert {_fixture_id(d["doc_id"]) for d in result.documents()} == expected
    # page 2 of 债市研究 ends with a March item, so page 3 is never asked for
    assert emulator.count("www.cs.com.cn", r"^/gppd/zqxw/index_1\.shtml$") == 1
    assert emulator.count("www.cs.com.cn", r"^/gppd/zqxw/index_2\.shtml$") == 0
    # articles outside the window are not fetched either
    assert emulator.count("www.cs.com.cn", r"t20250312_") == 0


def test_channels_setting_limits_the_crawl(crawl, emulator: Emulator) -> None:
    result = crawl("cs", args=FULL, settings={"XINPI_CS_CHANNELS": ["xwzx"]})
    assert result.documents() and all(d["extra"]["channel"] == "xwzx" for d in result.documents())
    assert emulator.count("www.cs.com.cn", r"^/gppd/") == 0


def test_server_error_on_a_channel_page_is_retried(crawl, emulator: Emulator, tmp_path: Path) -> None:
    emulator.add_fault("status", host="www.cs.com.cn", path_regex=r"^/xwzx/$", status=500, times=1)
    result = crawl("cs", args=FULL, settings={"XINPI_CS_CHANNELS": ["xwzx"]})
    assert emulator.count("www.cs.com.cn", r"^/xwzx/$") == 2
    assert result.failures() and all(f["stage"] != "fetch" for f in result.failures())
    assert "cs:7605512" in {d["doc_id"] for d in result.documents()}


def test_empty_article_page_is_a_failure_not_a_document(crawl, emulator: Emulator) -> None:
    emulator.add_fault("empty", host="www.cs.com.cn", path_regex=r"_7605512\.html$", times=1)
    result = crawl("cs", args=FULL, settings={"XINPI_CS_CHANNELS": ["xwzx"]})
    assert "cs:7605512" not in {d["doc_id"] for d in result.documents()}
    failed = [f for f in result.failures() if f["url"].endswith("_7605512.html")]
    assert len(failed) == 1 and failed[0]["stage"] == "parse"
    assert "cs:7590030" in {d["doc_id"] for d in result.documents()}  # the crawl went on


def test_missing_article_is_a_fetch_failure(crawl, emulator: Emulator) -> None:
    emulator.add_fault("status", host="www.cs.com.cn", path_regex=r"_7590030\.html$", status=404, times=-1)
    result = crawl("cs", args=FULL, settings={"XINPI_CS_CHANNELS": ["xwzx"]})
    failed = [f for f in result.failures() if f["url"].endswith("_7590030.html")]
    assert len(failed) == 1 and failed[0]["stage"] == "fetch" and failed[0]["http_status"] == 404
    assert "cs:7605512" in {d["doc_id"] for d in result.documents()}


def test_default_reads_the_bond_channel_only(crawl, emulator: Emulator) -> None:
    result = crawl("cs", args={"since": "2025-11-01", "until": "2025-11-30"})
    assert result.returncode == 0
    assert emulator.count("www.cs.com.cn", r"^/gppd/zqxw/$") == 1
    assert emulator.count("www.cs.com.cn", r"^/xwzx/") == 0
    assert {d["extra"]["channel"] for d in result.documents()} == {"gppd/zqxw"}


def test_topic_filter_skips_off_topic_entries_without_fetching_them(crawl, emulator: Emulator) -> None:
    window = {"since": "2025-11-01", "until": "2025-11-30"}
    result = crawl("cs", args=window, settings={"XINPI_CS_CHANNELS": ["xwzx"]})
    ids = {d["doc_id"] for d in result.documents()}
    assert "cs:7590030" in ids  # 科技创新债券: on topic
    assert "cs:7605512" not in ids  # 央行逆回购: no topic word in title or summary
    assert emulator.count("www.cs.com.cn", r"_7605512\.html$") == 0  # not even fetched
    assert emulator.count("www.cs.com.cn", r"_7588101\.html$") == 0  # the video page neither
    assert emulator.count("www.cs.com.cn", r"_7575246\.html$") == 0  # undated entry, also off topic
    assert result.stats.get("xinpi/topic/skipped") == 3
    # all=1 turns the filter off: the same window then yields the off-topic article too
    emulator.clear()
    unfiltered = crawl("cs", args={**window, "all": "1"}, settings={"XINPI_CS_CHANNELS": ["xwzx"]},
                       workdir=Path(str(result.data_dir.parent)) / "all")
    assert "cs:7605512" in {d["doc_id"] for d in unfiltered.documents()}
    assert "xinpi/topic/skipped" not in unfiltered.stats
