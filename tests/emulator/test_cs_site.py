"""The emulated 中证网 answers with the real shapes: channel pages, paging, article pages, charsets."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from bs4 import BeautifulSoup

from xinpi.emulator.fixtures import load
from xinpi.emulator.server import Emulator
from xinpi.emulator.sites.cs import CHANNELS, PAGE_SIZE, article_path


def get(emulator: Emulator, path: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(f"{emulator.url}/www.cs.com.cn{path}") as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def test_every_fixture_can_be_served_in_its_encoding() -> None:
    rows = load("cs")
    assert len(rows) >= 8
    for row in rows:
        for text in (row["title"], row["body"], row["author"], row["source"]):
            text.encode("gbk")  # raises if a GBK page could not carry it
    assert {r["encoding"] for r in rows} == {"gb2312", "gbk", "utf-8", "utf-8-but-gbk"}


def test_channel_page_lists_newest_first_with_relative_links(emulator: Emulator) -> None:
    status, ctype, body = get(emulator, "/gppd/zqxw/")
    assert status == 200 and ctype == "text/html; charset=gb2312"
    tree = BeautifulSoup(body.decode("gbk"), "lxml")
    anchors = tree.select("ul.ch_type3_list li a")
    rows = [r for r in load("cs") if r["channel"] == "gppd/zqxw"]
    assert [a.h3.get_text() for a in anchors] == [r["title"] for r in rows[:PAGE_SIZE]]
    assert [a.em.get_text() for a in anchors] == [r["published"] for r in rows[:PAGE_SIZE]]
    assert all(a["href"].startswith("./20") for a in anchors)
    count = -(-len(rows) // PAGE_SIZE)
    assert f"createPageHTML({count}, 0," in body.decode("gbk")


def test_paging_is_index_n_shtml_and_ends_with_404(emulator: Emulator) -> None:
    rows = [r for r in load("cs") if r["channel"] == "gppd/zqxw"]
    assert get(emulator, "/gppd/zqxw/index.shtml")[2] == get(emulator, "/gppd/zqxw/")[2]
    status, _, body = get(emulator, "/gppd/zqxw/index_1.shtml")
    titles = [h.get_text() for h in BeautifulSoup(body.decode("gbk"), "lxml").select("ul.ch_type3_list h3")]
    assert status == 200 and titles == [r["title"] for r in rows[PAGE_SIZE : 2 * PAGE_SIZE]]
    last = -(-len(rows) // PAGE_SIZE)
    assert get(emulator, f"/gppd/zqxw/index_{last}.shtml")[0] == 404
    assert get(emulator, "/gppd/zqxw/index_0.shtml")[0] == 404
    assert get(emulator, "/nosuchchannel/")[0] == 404


def test_utf8_channel_is_utf8(emulator: Emulator) -> None:
    assert CHANNELS["xwzx"][1] == "utf-8"
    status, ctype, body = get(emulator, "/xwzx/")
    assert status == 200 and "utf-8" in ctype and "要闻" in body.decode("utf-8")


@pytest.mark.parametrize("encoding", ["gb2312", "gbk", "utf-8", "utf-8-but-gbk"])
def test_article_pages_are_served_as_their_fixture_says(emulator: Emulator, encoding: str) -> None:
    row = next(r for r in load("cs") if r["encoding"] == encoding and not r["broken"])
    status, ctype, body = get(emulator, article_path(row))
    assert status == 200
    if encoding == "utf-8-but-gbk":
        assert ctype == "text/html"  # no charset in the header ...
        assert b'charset=utf-8' in body  # ... the meta says UTF-8 ...
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")  # ... and the bytes are not
        text = body.decode("gbk")
    elif encoding in ("gb2312", "gbk"):
        assert ctype == f"text/html; charset={encoding}"
        assert f"charset={encoding}".encode() in body
        text = body.decode("gbk")
    else:
        text = body.decode("utf-8")
    tree = BeautifulSoup(text, "lxml")
    assert tree.select_one("article.cont_article header h1").get_text() == row["title"]
    assert [p.get_text().strip("\u3000") for p in tree.select("article.cont_article section p")] == [
        p for p in row["body"].split("\n") if p.strip()
    ]
    assert tree.select_one(".time[datetime]")["datetime"] == row["published"] + ":00"
    assert [a.get_text() for a in tree.select("div.artc_route div a")][-1] == CHANNELS[row["channel"]][0]
    assert f"来源：{row['source']}" in [em.get_text() for em in tree.select("div.artc_info em")]


def test_gb2312_declared_page_really_needs_gbk(emulator: Emulator) -> None:
    """The trap: a gb2312 label on text with 堃 — decoding by the label alone fails."""
    row = next(r for r in load("cs") if r["encoding"] == "gb2312" and "堃" in r["author"])
    _, _, body = get(emulator, article_path(row))
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")
    assert "堃" in body.decode("gbk")


def test_unknown_article_is_404(emulator: Emulator) -> None:
    row = load("cs")[0]
    wrong_date = re.sub(r"t\d{8}_", "t20000101_", article_path(row))
    assert get(emulator, wrong_date)[0] == 404
    assert get(emulator, "/gppd/zqxw/202511/t20251121_1.html")[0] == 404


def test_broken_fixtures_render_their_faults(emulator: Emulator) -> None:
    no_body = next(r for r in load("cs") if r["broken"] == "no-body")
    tree = BeautifulSoup(get(emulator, article_path(no_body))[2].decode("utf-8"), "lxml")
    assert tree.select_one("article.cont_article section").get_text(strip=True) == ""
    bad_date = next(r for r in load("cs") if r["broken"] == "bad-date")
    tree = BeautifulSoup(get(emulator, article_path(bad_date))[2].decode("utf-8"), "lxml")
    assert tree.select_one(".time")["datetime"] == ""
