"""html_text: element → text with paragraph breaks, charset repair, printed dates."""

from __future__ import annotations

import datetime as dt

import pytest
from bs4 import BeautifulSoup
from scrapy.http import HtmlResponse

from xinpi.spiders.html_text import (
    clean_line,
    element_text,
    parse_local_datetime,
    repair_mislabelled,
    response_text,
    soup,
)

PAGE = (
    "<html><head><meta charset='{cs}'><title>标题</title></head>"
    "<body><div id='b'>{body}</div></body></html>"
)


def _el(html: str):
    return BeautifulSoup(f"<div id='x'>{html}</div>", "lxml").select_one("#x")


def test_paragraphs_become_lines_and_indentation_goes() -> None:
    el = _el("<p>\u3000\u3000第一段，  有空格。</p>\n  <p>第二段<br>换行后</p><div><span>第三</span>段</div>")
    assert element_text(el) == "第一段， 有空格。\n第二段\n换行后\n第三段"


def test_scripts_styles_and_comments_are_not_text() -> None:
    el = _el("<p>正文</p><script>var a='广告';</script><style>p{}</style><!-- 注释 --><p>&nbsp;</p>")
    assert element_text(el) == "正文"


def test_inline_elements_do_not_break_lines() -> None:
    assert element_text(_el("<p>发行<b>规模</b><a href='#'>10亿元</a></p>")) == "发行规模10亿元"


def test_missing_element_is_empty() -> None:
    assert element_text(None) == ""
    assert element_text(_el("<section>  \n </section>")) == ""


def test_clean_line() -> None:
    assert clean_line("  作者：\u3000王喆 \n") == "作者： 王喆"
    assert clean_line(None) == ""


def test_mislabelled_gbk_page_is_repaired() -> None:
    body = PAGE.format(cs="utf-8", body="<p>分析师李镕、黄堃与张喆表示</p>").encode("gbk")
    response = HtmlResponse("http://example.invalid/a.html", body=body)  # no header charset
    assert response.encoding == "utf-8" and "\ufffd" in response.text  # what Scrapy alone gives
    text = response_text(response)
    assert "李镕、黄堃与张喆" in text
    assert element_text(soup(response).select_one("#b")) == "分析师李镕、黄堃与张喆表示"


def test_gb2312_label_with_gbk_only_characters_decodes_through_response_text() -> None:
    body = PAGE.format(cs="gb2312", body="<p>朱镕基</p>").encode("gbk")
    response = HtmlResponse(
        "http://example.invalid/a.html", body=body, headers={"Content-Type": "text/html; charset=gb2312"}
    )
    assert element_text(soup(response).select_one("#b")) == "朱镕基"


def test_real_utf8_and_declared_gbk_pages_are_left_alone() -> None:
    text = "<p>镕喆堃</p>"
    utf8 = PAGE.format(cs="utf-8", body=text).encode("utf-8")
    assert repair_mislabelled(utf8, "utf-8", utf8.decode("utf-8")) == (utf8.decode("utf-8"), False)
    gbk = PAGE.format(cs="gbk", body=text).encode("gbk")
    assert repair_mislabelled(gbk, "gbk", gbk.decode("gbk")) == (gbk.decode("gbk"), False)


def test_bytes_that_are_neither_keep_the_scrapy_text() -> None:
    junk = b"\xff\xfe\x80\x80 not text \x81"
    given = junk.decode("utf-8", "replace")
    text, repaired = repair_mislabelled(junk, "utf-8", given)
    assert text.count("\ufffd") <= given.count("\ufffd")
    if not repaired:
        assert text == given


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-08-06 10:15", dt.datetime(2025, 8, 6, 10, 15)),
        ("2025-08-06 10:15:30", dt.datetime(2025, 8, 6, 10, 15, 30)),
        ("2025/8/6 9:05", dt.datetime(2025, 8, 6, 9, 5)),
        ("2025年08月06日 10:15", dt.datetime(2025, 8, 6, 10, 15)),
        ("发布时间：2025-08-06", dt.datetime(2025, 8, 6)),
    ],
)
def test_local_datetimes_are_beijing(raw: str, expected: dt.datetime) -> None:
    parsed = parse_local_datetime(raw)
    assert parsed is not None
    assert parsed.utcoffset() == dt.timedelta(hours=8)
    assert parsed.replace(tzinfo=None) == expected


def test_iso_with_offset_is_converted_to_beijing() -> None:
    parsed = parse_local_datetime("2025-08-06T02:15:00+00:00")
    assert parsed is not None and (parsed.hour, parsed.utcoffset()) == (10, dt.timedelta(hours=8))


@pytest.mark.parametrize("raw", ["", None, "时间待定", "2025-13-45 10:15", "昨天"])
def test_unparseable_dates_are_none(raw: str | None) -> None:
    assert parse_local_datetime(raw) is None
