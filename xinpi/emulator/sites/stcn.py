"""证券时报网 (www.stcn.com): the ``article/list.html`` list (JSON or HTML by header) and article pages.

Shapes follow sources.md §5.4:

* ``GET /article/list.html?type={id}&page={n}``. With ``X-Requested-With: XMLHttpRequest`` the
  answer is JSON ``{"state": 1, "msg": "操作成功", "data": [{title, content, time, url, tags[{name}],
  source, share{image}}]}`` where ``time`` is epoch seconds and ``url`` a site-relative path. Without
  the header the same URL answers an HTML fragment of the list (anchors under ``div.tt``), which
  carries no times. ``page`` is 1-based (missing = 1); a page past the end has ``"data": []``. The
  real site shows 20 items a page; :data:`PAGE_SIZE` is small so a dozen fixtures span pages. The
  list is newest first and takes no date filter, so a client stops paging by itself. An unknown
  ``type`` answers an empty list, as a channel with no articles would.
* Article ``/article/detail/{id}.html``: ``div.detail-title``, ``div.detail-info span`` (``来源：…``,
  optional ``作者：…``, last = ``YYYY-MM-DD HH:MM``), ``div.detail-content-tags div``,
  ``div.detail-content`` (paragraphs), ``meta[name=keywords]``. Always UTF-8.

Fixture ``broken``: ``no-body`` (empty ``div.detail-content``, e.g. a video), ``bad-date`` (the
article page prints no usable time; the list still has the epoch time).
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any
from zoneinfo import ZoneInfo

from xinpi.emulator.fixtures import load
from xinpi.emulator.server import Request, Response, route

HOST = "www.stcn.com"
PAGE_SIZE = 4
SHANGHAI = ZoneInfo("Asia/Shanghai")


def epoch(row: dict[str, Any]) -> int:
    """The fixture's Beijing publish time as epoch seconds (what the JSON ``time`` field holds)."""
    local = dt.datetime.strptime(row["published"], "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    return int(local.timestamp())


def detail_path(row: dict[str, Any]) -> str:
    return f"/article/detail/{row['id']}.html"


def _page_rows(req: Request) -> list[dict[str, Any]]:
    rows = [r for r in load("stcn") if r["type"] == req.arg("type")]
    rows.sort(key=epoch, reverse=True)
    try:
        page = max(1, int(req.arg("page", "1") or 1))
    except ValueError:
        page = 1
    return rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]


def _json_item(row: dict[str, Any]) -> dict[str, Any]:
    first = next((p for p in row["body"].split("\n") if p.strip()), "")
    return {
        "title": row["title"],
        "content": first if row["type"] != "kx" else row["body"],
        "time": epoch(row),
        "url": detail_path(row),
        "tags": [{"name": t} for t in row["tags"]],
        "source": row["source"],
        "share": {"image": row["image"] or ""},
    }


@route(HOST, r"/article/list\.html")
def article_list(req: Request) -> Response:
    rows = _page_rows(req)
    if req.headers.get("x-requested-with", "").lower() == "xmlhttprequest":
        return Response.json({"state": 1, "msg": "操作成功", "data": [_json_item(r) for r in rows]})
    items = "\n".join(
        f'<li><div class="content"><div class="tt"><a href="{detail_path(r)}" target="_blank">'
        f"{html.escape(r['title'])}</a></div><div class=\"text ellipsis-2\">"
        f"{html.escape(r['body'][:40])}</div></div></li>"
        for r in rows
    )
    return Response.html(f'<ul class="list infinite-list">\n{items}\n</ul>')


@route(HOST, r"/article/detail/(?P<id>\d+)\.html")
def article_page(req: Request) -> Response:
    assert req.match is not None
    row = next((r for r in load("stcn") if str(r["id"]) == req.match["id"]), None)
    if row is None:
        return Response.html("<html><body><div class=\"error\">页面不存在</div></body></html>", 404)
    spans = [f"<span>来源：{html.escape(row['source'])}</span>"]
    if row["author"]:
        spans.append(f"<span>作者：{html.escape(row['author'])}</span>")
    shown = "时间待定" if row["broken"] == "bad-date" else row["published"]
    spans.append(f"<span>{shown}</span>")
    body = "" if row["broken"] == "no-body" else "\n".join(
        f"<p>{html.escape(p)}</p>" for p in row["body"].split("\n") if p.strip()
    )
    tags = "".join(f"<div>{html.escape(t)}</div>" for t in row["tags"])
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{html.escape(row["title"])}_证券时报网</title>
<meta name="keywords" content="{html.escape(",".join(row["keywords"]))}">
<meta name="description" content="{html.escape(row["body"][:60])}">
</head><body>
<div class="breadcrumb"><a href="/">首页</a><a href="/article/list/{row["type"]}.html">{row["type"]}</a></div>
<div class="detail-title">{html.escape(row["title"])}</div>
<div class="detail-info">{"".join(spans)}</div>
<div class="detail-content">
{body}
</div>
<div class="detail-content-tags">{tags}</div>
<div class="social-bar">分享</div>
</body></html>"""
    return Response.html(page)
