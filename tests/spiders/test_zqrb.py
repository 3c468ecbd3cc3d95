"""The zqrb spider against the emulated 证券日报 site: real Scrapy crawls in a subprocess."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from crawlkit import CrawlResult, run_crawl
from xinpi.emulator import fixtures
from xinpi.emulator.server import Emulator
from xinpi.emulator.sites import zqrb as site
from xinpi.extractors.story import story_id
from xinpi.items import DocumentItem
from xinpi.pipelines.normalise import NormalisePipeline
from xinpi.spiders.base import DEFAULT_TOPIC_WORDS
from xinpi.spiders.zqrb import DEFAULT_CHANNELS, split_info

TODAY = dt.datetime.now(site.SHANGHAI).date().isoformat()
WINDOW = {"since": "2020-01-01", "until": TODAY}


def doc_id(article: dict[str, Any]) -> str:
    return f"zqrb:{article['id']}"


def readable(article: dict[str, Any]) -> bool:
    return bool(article.get("body")) and not article.get("missing")


def on_topic(article: dict[str, Any]) -> bool:
    return any(w.upper() in article["title"].upper() for w in DEFAULT_TOPIC_WORDS)


def by_id(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ids = [d["doc_id"] for d in docs]
    assert len(ids) == len(set(ids)), "a document was yielded twice"
    return {d["doc_id"]: d for d in docs}


@pytest.fixture(scope="module")
def full_crawl(emulator_server: Emulator, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    emulator_server.clear()
    # every fixture channel, no topic filter: the awkward pages live outside the default channel
    args = {**WINDOW, "channels": ",".join(site.channels()), "all": "1"}
    result = run_crawl("zqrb", emulator_server.url, tmp_path_factory.mktemp("zqrb"), args=args)
    emulator_server.clear()
    return result


def test_every_readable_article_is_a_document(full_crawl: CrawlResult) -> None:
    assert full_crawl.returncode == 0, full_crawl.log[-2000:]
    docs = by_id(full_crawl.documents())
    assert set(docs) == {doc_id(a) for a in site.articles() if readable(a)}
    assert len(docs) >= 14
    for art in site.articles():
        if not readable(art):
            continue
        doc = docs[doc_id(art)]
        assert doc["source"] == "zqrb" and doc["kind"] == "news"
        assert doc["url"].endswith(f"/www.zqrb.cn{art['path']}")
        assert doc["title"] == art["title"]
        assert doc["text"] == "\n".join(p for p in art["body"].split("\n") if p.strip())
        assert doc["media_name"] == art["source"] and doc["author"] == art["author"]
        assert doc["extra"]["channel"] == art["channel"]
        assert "story_id" not in doc["extra"]  # the normalise pipeline stage adds it, not the spider


def test_dates_in_every_printed_form(full_crawl: CrawlResult) -> None:
    docs = by_id(full_crawl.documents())
    for art in site.articles():
        if not readable(art):
            continue
        doc, published = docs[doc_id(art)], art["published_at"]
        got = dt.datetime.fromisoformat(doc["published_at"])
        assert got.utcoffset() == dt.timedelta(hours=8)
        if "age_minutes" in art:  # "3小时前" (or "昨天 HH:MM" after midnight), counted back from the crawl
            assert re.fullmatch(r"\d+小时前|\d+分钟前|昨天 \d\d:\d\d", doc["published_at_raw"])
            assert abs(got - published) <= dt.timedelta(hours=1)
        elif art.get("info_date") in ("二〇二五年九月三日", "更新于：待定"):  # no time of day printed
            assert got == dt.datetime.combine(published.date(), dt.time(0), site.SHANGHAI)
        else:  # absolute, month-day (year from the URL folder), full-width, 昨天 HH:MM
            assert got == published, (art["title"], doc["published_at_raw"])
    raws = {docs[doc_id(a)]["published_at_raw"] for a in site.articles() if readable(a)}
    printed = {"3月12日 下午2点", "２０２５－１０－１０ １５：００", "二〇二五年九月三日", "2025/1/16 16:00"}
    assert printed <= raws


def test_gbk_page_keeps_characters_outside_gb2312(full_crawl: CrawlResult) -> None:
    art = next(a for a in site.articles() if a.get("encoding") == "gbk")
    doc = by_id(full_crawl.documents())[doc_id(art)]
    assert "镕" in doc["title"] and "镕" in doc["text"] and "喆" in doc["text"]
    assert doc["author"] == "记者 陈喆"
    assert "\ufffd" not in doc["text"] and "?" not in doc["text"]


def test_bad_articles_are_recorded_failures(full_crawl: CrawlResult) -> None:
    failures = {(f["stage"], f["url"].split("/www.zqrb.cn", 1)[1]): f for f in full_crawl.failures()}
    missing = next(a for a in site.articles() if a.get("missing"))
    no_body = next(a for a in site.articles() if a.get("body") is None)
    undated = next(a for a in site.articles() if a.get("info_date") == "更新于：待定")
    assert set(failures) == {("fetch", missing["path"]), ("body", no_body["path"]), ("date", undated["path"])}
    assert failures[("fetch", missing["path"])]["http_status"] == 404
    assert "更新于：待定" in failures[("date", undated["path"])]["error"]
    # the undated article is still a document, dated by its URL folder
    doc = by_id(full_crawl.documents())[doc_id(undated)]
    assert doc["extra"]["date_from"] == "url_folder"
    assert full_crawl.stats["xinpi/failures/body"] == 1
    assert f"{no_body['path']} failed at body" in full_crawl.log


def test_default_channel_holds_the_bond_and_abs_news_and_the_filter_drops_the_rest(
    crawl, emulator: Emulator
) -> None:
    assert DEFAULT_CHANNELS == ["jrjg/bank"]
    deals = [a for a in site.articles() if a.get("corpus_id") and on_topic(a)]
    assert len(deals) >= 8 and {a["channel"] for a in deals} == {"jrjg/bank"}
    # the default channel plus an off-topic one: only on-topic titles are fetched
    result = crawl("zqrb", args={**WINDOW, "channels": "jrjg/bank,gscy/qiyexinxi"})
    listed = [a for a in site.articles() if a["channel"] in ("jrjg/bank", "gscy/qiyexinxi")]
    dropped = [a for a in listed if not on_topic(a)]
    assert len(dropped) >= 4
    assert set(by_id(result.documents())) == {doc_id(a) for a in listed if on_topic(a) and readable(a)}
    assert result.stats["xinpi/topic/skipped"] == len(dropped)
    assert emulator.count("www.zqrb.cn", r"/A\d{13}\.html$") == len(listed) - len(dropped)
    fetched = {r.path for r in emulator.requests}
    assert not fetched & {a["path"] for a in dropped}


def test_a_syndicated_copy_shares_the_story_id(full_crawl: CrawlResult) -> None:
    """The normalise stage, on what the spider yielded, gives a zqrb story the id of its sina copy."""
    # sina's copies of zqrb stories carry an 原标题/byline lead and a 来源 footer around the body
    sina = {r["corpus_id"]: r for r in fixtures.load("sina") if r.get("corpus_id")}
    stage = NormalisePipeline(get_crawler())
    docs = {d["doc_id"]: stage.process_item(DocumentItem(**d)) for d in full_crawl.documents()}
    shared = [a for a in site.articles() if readable(a) and a.get("corpus_id") in sina]
    assert len(shared) >= 2, "the zqrb and sina fixtures share too few stories"
    ids = set()
    for art in shared:
        copy = sina[art["corpus_id"]]
        text = "\n".join([*copy["lead"], copy["body"], *copy["footer"]])
        assert docs[doc_id(art)]["extra"]["story_id"] == story_id(copy["title"], text)
        ids.add(docs[doc_id(art)]["extra"]["story_id"])
    assert len(ids) == len(shared)  # different stories, different ids


def test_paging_stops_at_the_first_page_older_than_the_window(crawl, emulator: Emulator) -> None:
    channel = "jrjg/bank"
    listed = [a for a in site.articles() if a["channel"] == channel]
    assert len(listed) > 2 * site.LIST_PAGE_SIZE  # three list pages
    since = listed[site.LIST_PAGE_SIZE - 1]["published_at"].date()  # last item of page 1
    result = crawl("zqrb", args={"since": since.isoformat(), "until": TODAY, "channels": channel})
    expected = {doc_id(a) for a in listed if readable(a) and a["published_at"].date() >= since}
    assert set(by_id(result.documents())) == expected and expected
    assert emulator.count("www.zqrb.cn", r"/index\.html$") == 1
    assert emulator.count("www.zqrb.cn", r"/index_p2\.html$") == 1  # page 2 is all older: the last one
    assert emulator.count("www.zqrb.cn", r"/index_p3\.html$") == 0
    # only in-window articles are fetched
    assert emulator.count("www.zqrb.cn", r"/A\d{13}\.html$") == len(
        [a for a in listed if a["published_at"].date() >= since]
    )


def test_default_window_is_the_last_days(crawl, emulator: Emulator) -> None:
    result = crawl("zqrb", args={"channels": "jrjg/bank,finance/hongguanjingji", "all": "1"})
    fresh = {doc_id(a) for a in site.articles() if "age_minutes" in a or "yesterday_at" in a}
    assert set(by_id(result.documents())) == fresh and len(fresh) == 2


def test_http_errors_and_broken_pages(crawl, emulator: Emulator) -> None:
    gbk = next(a for a in site.articles() if a.get("encoding") == "gbk")
    bank = [a for a in site.articles() if a["channel"] == "jrjg/bank" and readable(a)]
    garbage, empty = bank[1], bank[2]
    emulator.add_fault("status", host="www.zqrb.cn", path_regex=gbk["path"], times=1, status=500)
    emulator.add_fault("status", host="www.zqrb.cn", path_regex=r"^/gscy/qiyexinxi/index_p2\.html$",
                       times=-1, status=404)
    emulator.add_fault("garbage", host="www.zqrb.cn", path_regex=garbage["path"], times=-1)
    emulator.add_fault("empty", host="www.zqrb.cn", path_regex=empty["path"], times=-1)
    result = crawl("zqrb", args={**WINDOW, "all": "1"},
                   settings={"XINPI_ZQRB_CHANNELS": ["jrjg/bank", "gscy/qiyexinxi"]})
    assert result.returncode == 0
    docs = by_id(result.documents())
    page1 = [a for a in site.articles() if a["channel"] == "gscy/qiyexinxi"][: site.LIST_PAGE_SIZE]
    expected = {doc_id(a) for a in bank + page1 if readable(a)} - {doc_id(garbage), doc_id(empty)}
    assert set(docs) == expected
    assert doc_id(gbk) in docs and result.stats["retry/count"] == 1  # the 500 was retried
    stages = sorted((f["stage"], f["url"].split("/www.zqrb.cn", 1)[1]) for f in result.failures())
    no_body = [a for a in page1 if a.get("body") is None]
    assert stages == sorted(
        [("fetch", "/gscy/qiyexinxi/index_p2.html"), ("parse", garbage["path"]), ("parse", empty["path"])]
        + [("body", a["path"]) for a in no_body]
    )


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ("2025-04-25 18:30 来源：证券日报网 记者 王丽", ("2025-04-25 18:30", "证券日报网", "记者 王丽")),
        (
            "二〇二五年九月三日　来源：证券日报  本报记者 张晓",
            ("二〇二五年九月三日", "证券日报", "本报记者 张晓"),
        ),
        ("3小时前 来源：证券日报网", ("3小时前", "证券日报网", None)),
        ("2025-04-25 18:30", ("2025-04-25 18:30", None, None)),
        ("", ("", None, None)),
    ],
)
def test_split_info(info: str, expected: tuple[str, str | None, str | None]) -> None:
    assert split_info(info) == expected
