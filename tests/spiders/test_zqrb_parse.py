"""zqrb page parsing on hand-written pages, no crawl: the text comes out as BeautifulSoup's did.

The spider reads pages with compiled XPath on the lxml tree (see its module docstring); these pin the bs4
``get_text`` behaviour it keeps: text nodes stripped and joined with a space, comments and
script/style/template/ruby-annotation text left out, one line per paragraph.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.http.response.json import JsonResponse
from scrapy.utils.test import get_crawler

from xinpi.items import DocumentItem, FailureItem
from xinpi.spiders.zqrb import ZqrbSpider

ARTICLE_URL = "http://zqrb.invalid/www.zqrb.cn/jrjg/bank/2025-04-25/A2025042518301.html"
LIST_URL = "http://zqrb.invalid/www.zqrb.cn/jrjg/bank/index.html"
INFO = '<div class="info_news">2025-04-25 18:30 来源：证券日报网 记者 王丽</div>'


@pytest.fixture
def spider(tmp_path: Path) -> ZqrbSpider:
    crawler = get_crawler(ZqrbSpider, {"DATA_DIR": str(tmp_path), "XINPI_LOCK_ENABLED": False})
    crawler._apply_settings()
    spider = ZqrbSpider.from_crawler(crawler, since="2020-01-01", until="2030-01-01", all="1")
    crawler.spider = spider
    spider._since, spider._until = spider.window()  # what start() does
    return spider


def page(inner: str, head: str = "") -> str:
    return (f"<!DOCTYPE html><html><head>{head}<title>t</title></head><body>"
            f"<div class='nav'><a href='/'>首页</a></div>{inner}<div class='footer'>版权</div></body></html>")


def article(spider: ZqrbSpider, html: str | bytes, cls: type[TextResponse] = HtmlResponse,
            **kwargs: Any) -> list[Any]:
    if isinstance(html, str):
        html, kwargs["encoding"] = html.encode("utf-8"), "utf-8"
    response = cls(ARTICLE_URL, body=html, request=Request(ARTICLE_URL), **kwargs)
    return spider.parse_article(response)


def the_document(out: list[Any]) -> DocumentItem:
    assert len(out) == 1 and isinstance(out[0], DocumentItem), out
    return out[0]


def test_title_and_paragraphs_read_like_get_text(spider: ZqrbSpider) -> None:
    doc = the_document(article(spider, page(
        "<div class='news_content'><h1>债券<b>发行</b> 新闻<!-- c --><script>var a=1</script> <i>ABS</i></h1>"
        f"{INFO}<div class='content-lcq'>loose text<p>一<span>二</span>三</p>"
        "<p> <b>x</b>\n y &nbsp; z\u3000</p><p>  </p><p> 甲 \t 乙\u3000丙&nbsp;</p>"
        "<p>a<br>b<!-- x --><style>.a{}</style></p>"
        "<p><ruby>字<rp>(</rp><rt>zi</rt><rp>)</rp></ruby>a<template><b>tpl</b></template>b</p>"
        "<template><p>a paragraph inside a template is not text</p></template></div></div>"
    )))
    assert doc["title"] == "债券 发行 新闻 ABS"
    # text outside the p's is not read; nodes joined by a space; whitespace runs squashed
    # a paragraph of bare text (read without XPath) squashes its whitespace the same way
    assert doc["text"] == "一 二 三\nx y z\n甲 乙 丙\na b\n字 a b"
    assert doc["published_at_raw"] == "2025-04-25 18:30"
    assert (doc["media_name"], doc["author"]) == ("证券日报网", "记者 王丽")


def test_a_body_without_paragraphs_is_one_line_and_div_content_is_the_fallback(spider: ZqrbSpider) -> None:
    doc = the_document(article(spider, page(
        f"<div class='news_content'><h1>T</h1>{INFO}<span class='content-lcq'><p>not a div</p></span>"
        "<div class='main content'>  line one <b>bold</b><br>line two<div>inner</div></div></div>"
    )))
    assert doc["text"] == "line one bold line two inner"


def test_the_title_is_the_h1_directly_under_news_content_else_the_first(spider: ZqrbSpider) -> None:
    body = f"{INFO}<div class='content'><p>b</p></div>"
    doc = the_document(article(spider, page(
        f"<h1>site banner</h1><div class='news_content x'><div><h1>nested</h1></div><h1>real</h1>{body}</div>"
    )))
    assert doc["title"] == "real"
    doc = the_document(article(spider, page(
        f"<h1>first</h1><div class='news_content'><div><h1>deep</h1></div>{body}</div>"
    )))
    assert doc["title"] == "first"


def test_info_line_text_nodes_are_joined_with_a_space(spider: ZqrbSpider) -> None:
    doc = the_document(article(spider, page(
        "<div class='news_content'><h1>T</h1><div class='info_news'><span>2025-04-25 18:30</span>"
        "<span>来源：证券日报网</span><em>记者</em><script>x</script> <b>王丽</b></div>"
        "<div class='content'><p>b</p></div></div>"
    )))
    assert doc["published_at"] == dt.datetime(2025, 4, 25, 18, 30, tzinfo=doc["published_at"].tzinfo)
    assert (doc["media_name"], doc["author"]) == ("证券日报网", "记者 王丽")


def test_text_under_a_hidden_element_at_any_depth_is_not_read(spider: ZqrbSpider) -> None:
    """bs4 reads no text inside script/style/template/rt/rp, however deep the paragraph sits below it,
    and a body or info line that is itself inside one reads as empty."""
    doc = the_document(article(spider, page(
        f"<div class='news_content'><h1>T</h1>{INFO}<div class='content-lcq'><p>seen</p>"
        "<template><div><section><p>two levels under a template</p></section></div></template>"
        "<div><p>nested but seen</p></div></div></div>"
    )))
    assert doc["text"] == "seen\nnested but seen"
    out = article(spider, page(
        f"<div class='news_content'><h1>T</h1>{INFO}<template><div class='content-lcq'><p>hidden</p>"
        "</div></template><div class='content'><p>not the first body</p></div></div>"
    ))
    assert [(type(o).__name__, o.get("stage")) for o in out] == [("FailureItem", "body")]
    out = article(spider, page(
        "<div class='news_content'><h1>T</h1><template><div class='info_news'>2025-04-25 18:30"
        " 来源：证券日报网</div></template><div class='content'><p>b</p></div></div>"
    ))
    doc = the_document([o for o in out if isinstance(o, DocumentItem)])
    assert doc["media_name"] is None and doc["extra"]["date_from"] == "url_folder"


def test_a_gb2312_page_keeps_its_gbk_characters(spider: ZqrbSpider) -> None:
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    html = page(f"<div class='news_content'><h1>朱镕基</h1>{INFO}"
                "<div class='content'><p>陈喆 镕</p></div></div>", meta)
    doc = the_document(article(spider, html.encode("gbk")))  # no header charset: the meta tag decides
    assert (doc["title"], doc["text"]) == ("朱镕基", "陈喆 镕")


def test_a_utf8_page_with_nuls_or_bad_bytes_reads_as_its_decoded_text(spider: ZqrbSpider) -> None:
    """UTF-8 pages are parsed from their bytes unless those would read differently from the text."""
    head, tail = (part.encode() for part in page(
        f"<div class='news_content'><h1>T</h1>{INFO}<div class='content'><p>|</p></div></div>").split("|"))

    def text_of(paragraph: bytes, before: bytes = b"") -> str:
        return the_document(article(spider, before + head + paragraph + tail, encoding="utf-8"))["text"]

    # NULs are dropped after decoding, as parsel does (lxml would read each as U+FFFD, silently) ...
    assert text_of(b"A\x00B") == "AB"
    # ... so one inside a multi-byte character breaks it (dropped from the bytes, it would make 支)
    assert text_of(b"A\xe6\x00\x94\xafB") == "A\ufffd\ufffd\ufffdB"
    assert text_of(b"A\xff\xe4\xb8B") == "A\ufffd\ufffdB"
    assert text_of("A资产B".encode(), before=b"\xef\xbb\xbf ") == "A资产B"  # a BOM and a leading space


@pytest.mark.parametrize(
    ("html", "cls", "stage"),
    [
        (b"\x00\xff<<not json{{", JsonResponse, "parse"),  # served as JSON: still read as HTML
        (b"", HtmlResponse, "parse"),
        (page("<div class='news_content'><h1> <b> </b></h1><div class='content'><p>b</p></div></div>"),
         HtmlResponse, "parse"),
        (page(f"<div class='news_content'><h1>T</h1>{INFO}<div class='content-lcq'><p> </p></div>"
              "<div class='content'><p>not read</p></div></div>"), HtmlResponse, "body"),
    ],
)
def test_broken_articles_are_failures(spider: ZqrbSpider, html: str | bytes, cls: type[TextResponse],
                                      stage: str) -> None:
    out = article(spider, html, cls)
    assert len(out) == 1 and isinstance(out[0], FailureItem) and out[0]["stage"] == stage


def listing(spider: ZqrbSpider, inner: str) -> list[Any]:
    html = f"<html><body><div class='nav'><a href='/x'>首页</a></div>{inner}</body></html>"
    response = HtmlResponse(LIST_URL, body=html.encode("utf-8"), encoding="utf-8", request=Request(LIST_URL))
    return spider.parse_list(response, channel="jrjg/bank")


def requested(out: list[Any]) -> list[tuple[str, str]]:
    assert all(isinstance(r, Request) for r in out), out
    return [(r.url.removeprefix("http://zqrb.invalid"), r.callback.__name__) for r in out]


def test_list_links_dates_and_the_next_page(spider: ZqrbSpider) -> None:
    out = listing(spider, (
        "<div class='news_content'><ul>"
        "<li><a name='n'>x</a><a href='/a/2025-01-02/A1234567890123.html'>first a[href]</a></li>"
        "<li><a class='lista'>a.lista without href: skipped</a><a href='/c'>c</a></li>"
        "<li><a href=''>empty href: skipped</a><a href='/d'>d</a></li>"
        "<li><a href='/e'>e</a><a class='lista' href='/f'>a.lista wins</a>"
        "<span class='date'> 2025-04-25 </span></li>"
        "<li><a class='lista' href='/old'>old</a><span class='date'><b>2019-01-01</b></span></li>"
        "<li>no link</li></ul></div>"
        "<a href='p9'><script>'下一页'</script>script text is not text</a>"
        "<a>下一页 without href</a><a href='index_p2.html'><span>下一</span>页</a><a href='p3'>下一页</a>"
    ))
    assert requested(out) == [
        ("/a/2025-01-02/A1234567890123.html", "parse_article"),
        ("/f", "parse_article"),
        ("/www.zqrb.cn/jrjg/bank/index_p2.html", "parse_list"),
    ]


def test_list_items_fall_back_to_div_listmain(spider: ZqrbSpider) -> None:
    out = listing(spider, "<div class='news_content'><li><a href='/not-in-ul'>x</a></li></div>"
                          "<div class='listMain'><li><a class='lista' href='/a'>a</a></li></div>")
    assert requested(out) == [("/a", "parse_article")]
    out = listing(spider, "<div class='news_content'><p>none</p></div>")
    assert len(out) == 1 and isinstance(out[0], FailureItem) and out[0]["stage"] == "parse"
