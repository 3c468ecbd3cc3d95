"""The emulated 证券时报网: JSON list with the XHR header, HTML without it, paging, article pages."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup

from xinpi.emulator.fixtures import load
from xinpi.emulator.server import Emulator
from xinpi.emulator.sites.stcn import PAGE_SIZE

XHR = {"X-Requested-With": "XMLHttpRequest"}


def get(emulator: Emulator, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    req = urllib.request.Request(f"{emulator.url}/www.stcn.com{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def rows_of(type_: str) -> list[dict]:
    rows = [r for r in load("stcn") if r["type"] == type_]
    return sorted(rows, key=lambda r: r["published"], reverse=True)


def test_fixture_size() -> None:
    assert len(load("stcn")) >= 8
    assert any(r["source"] == "证券日报" for r in load("stcn"))


def test_xhr_header_gives_json_with_the_real_fields(emulator: Emulator) -> None:
    status, ctype, body = get(emulator, "/article/list.html?type=finance", XHR)
    assert status == 200 and "json" in ctype
    payload = json.loads(body)
    items = payload["data"]
    rows = rows_of("finance")[:PAGE_SIZE]
    assert [i["title"] for i in items] == [r["title"] for r in rows]
    for item, row in zip(items, rows, strict=True):
        assert set(item) == {"title", "content", "time", "url", "tags", "source", "share"}
        assert isinstance(item["time"], int)
        shown = dt.datetime.fromtimestamp(item["time"], ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
        assert shown == row["published"]
        assert item["url"] == f"/article/detail/{row['id']}.html"
        assert item["tags"] == [{"name": t} for t in row["tags"]]
        assert item["source"] == row["source"] and "image" in item["share"]


def test_without_the_header_the_same_url_is_an_html_list(emulator: Emulator) -> None:
    status, ctype, body = get(emulator, "/article/list.html?type=finance")
    assert status == 200 and ctype.startswith("text/html")
    tree = BeautifulSoup(body.decode("utf-8"), "lxml")
    anchors = [a for box in tree.select(".t, .tt, .title") for a in box.select("a")]
    assert [a.get_text() for a in anchors] == [r["title"] for r in rows_of("finance")[:PAGE_SIZE]]
    assert all(a["href"].startswith("/article/detail/") for a in anchors)
    try:
        json.loads(body)
        raise AssertionError("the HTML list must not parse as JSON")
    except ValueError:
        pass


def test_paging_by_page_param_until_an_empty_page(emulator: Emulator) -> None:
    rows = rows_of("finance")
    seen: list[str] = []
    page = 1
    while True:
        items = json.loads(get(emulator, f"/article/list.html?type=finance&page={page}", XHR)[2])["data"]
        if not items:
            break
        seen += [i["title"] for i in items]
        page += 1
    assert seen == [r["title"] for r in rows] and page == -(-len(rows) // PAGE_SIZE) + 1
    assert json.loads(get(emulator, "/article/list.html?type=nosuch", XHR)[2])["data"] == []


def test_article_page_shape(emulator: Emulator) -> None:
    row = next(r for r in load("stcn") if r["author"] and r["tags"] and not r["broken"])
    status, _, body = get(emulator, f"/article/detail/{row['id']}.html")
    assert status == 200
    tree = BeautifulSoup(body.decode("utf-8"), "lxml")
    assert tree.select_one("div.detail-title").get_text() == row["title"]
    spans = [s.get_text() for s in tree.select("div.detail-info span")]
    assert spans == [f"来源：{row['source']}", f"作者：{row['author']}", row["published"]]
    assert [d.get_text() for d in tree.select(".detail-content-tags div")] == row["tags"]
    assert [p.get_text() for p in tree.select("div.detail-content p")] == [
        p for p in row["body"].split("\n") if p.strip()
    ]
    assert tree.select_one('meta[name="keywords"]')["content"] == ",".join(row["keywords"])
    assert get(emulator, "/article/detail/1.html")[0] == 404


def test_bad_date_page_prints_no_time_but_the_list_has_it(emulator: Emulator) -> None:
    row = next(r for r in load("stcn") if r["broken"] == "bad-date")
    tree = BeautifulSoup(get(emulator, f"/article/detail/{row['id']}.html")[2].decode("utf-8"), "lxml")
    assert not any(ch.isdigit() for ch in tree.select("div.detail-info span")[-1].get_text())
