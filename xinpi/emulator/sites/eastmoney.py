"""东方财富: the news column list API and finance.eastmoney.com article pages (sources.md §5.2).

List ``GET np-listapi.eastmoney.com/comm/web/getNewsByColumns?client=web&biz=web_news_col&column=1207
&order=1&needInteractData=0&page_index=1&page_size=200&req_trace=<ms>&fields=…`` answers
``{"req_trace": …, "code": "1", "message": "success", "data": {"list": [...], "page_index": n,
"page_size": n, "total_hits": n}}``, newest first (``order=1``; ``order=2`` is oldest first). Only
``data.list[]`` is documented; the envelope keys and ``code: "1"`` are our realistic guess
[inferred]. ``fields`` selects the row keys (``code, showTime, title, mediaName, summary, image, url,
uniqueUrl, Np_dst``; without it all of them). ``page_size`` is clamped to 1…200. A ``callback``
parameter wraps the answer as JSONP (``cb({...})``), as the real host does for jQuery callers.
A missing ``client``/``biz`` or non-numeric ``column`` gets ``code: "-1"`` and ``data: null``.

Articles ``finance.eastmoney.com/a/{code}.html`` (``code`` = ``YYYYMMDD`` + 10 digits): the body is
``div#ContentBody`` (documented); the title ``div.title``/``h1`` and the info line are our choice.
Fixture ``layout``: ``infos`` (``div.infos > div.item``: time "YYYY年MM月DD日 HH:mm", ``来源：<a>``,
``作者：``) or ``old`` (``div.newsContent h1`` and ``div.time-source`` with ``div.time`` /
``div.source``) or ``bare`` (no title, time or source on the page at all, as on some mobile
renderings), so a spider must be tolerant about everything but ``#ContentBody``. The body ends with
the ``（文章来源：…）`` and ``（责任编辑：…）`` lines the real pages add. Rows with ``age_minutes`` are
fresh news, timed from :func:`~xinpi.emulator.fixtures.fresh_now`.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from xinpi.emulator.fixtures import fresh_now, load
from xinpi.emulator.server import Request, Response, route

SHANGHAI = ZoneInfo("Asia/Shanghai")
API_HOST = "np-listapi.eastmoney.com"
ARTICLE_HOST = "finance.eastmoney.com"
MAX_PAGE_SIZE = 200
ALL_FIELDS = ("code", "showTime", "title", "mediaName", "summary", "image", "url", "uniqueUrl", "Np_dst")


@cache
def articles() -> list[dict[str, Any]]:
    """Fixture rows with publication time and ``code`` resolved; newest first."""
    out = []
    now = fresh_now().replace(microsecond=0)
    for row in load("eastmoney"):
        if "age_minutes" in row:
            published = now - dt.timedelta(minutes=row["age_minutes"])
        else:
            published = dt.datetime.fromisoformat(row["published"]).replace(tzinfo=SHANGHAI)
        code = f"{published:%Y%m%d}{row['code_suffix']}"
        out.append({**row, "published_at": published, "code": code})
    return sorted(out, key=lambda a: a["published_at"], reverse=True)


def _other_host(req: Request, host: str) -> str:
    """This emulator's base URL for another host (req.base is for the host that was asked)."""
    return req.base[: -len(req.host)] + host


def _int_arg(req: Request, name: str, default: int) -> int:
    try:
        return int(req.arg(name, str(default)) or default)
    except ValueError:
        return default


def _row(a: dict[str, Any], article_base: str) -> dict[str, Any]:
    url = f"{article_base}/a/{a['code']}.html"
    first = a["body"].split("\n")[0]
    return {
        "code": a["code"],
        "showTime": f"{a['published_at']:%Y-%m-%d %H:%M:%S}",
        "title": a["title"],
        "mediaName": a["mediaName"],
        "summary": first[:110],
        "image": a.get("image", ""),
        "url": url,
        "uniqueUrl": url,
        "Np_dst": "",
    }


def _answer(req: Request, payload: dict[str, Any]) -> Response:
    text = json.dumps(payload, ensure_ascii=False)
    callback = req.arg("callback")
    if callback:
        return Response(200, f"{callback}({text})", "application/javascript; charset=utf-8")
    return Response(200, text, "application/json; charset=utf-8")


@route(API_HOST, r"/comm/web/getNewsByColumns")
def news_by_columns(req: Request) -> Response:
    trace = req.arg("req_trace")
    column = req.arg("column")
    if req.arg("client") != "web" or req.arg("biz") != "web_news_col" or not column.isdigit():
        return _answer(req, {"req_trace": trace, "code": "-1", "message": "参数错误", "data": None})
    size = min(max(_int_arg(req, "page_size", 20), 1), MAX_PAGE_SIZE)
    page = max(_int_arg(req, "page_index", 1), 1)
    rows = [a for a in articles() if int(column) in a["columns"]]
    if req.arg("order") == "2":
        rows = rows[::-1]
    fields = [f for f in req.arg("fields").split(",") if f] or list(ALL_FIELDS)
    base = _other_host(req, ARTICLE_HOST)
    chunk = [
        {k: v for k, v in _row(a, base).items() if k in fields}
        for a in rows[(page - 1) * size : page * size]
    ]
    data = {"list": chunk, "page_index": page, "page_size": size, "total_hits": len(rows)}
    return _answer(req, {"req_trace": trace, "code": "1", "message": "success", "data": data})


def _article_html(a: dict[str, Any]) -> str:
    esc = html.escape
    published: dt.datetime = a["published_at"]
    cn_date = f"{published:%Y年%m月%d日 %H:%M}"
    paragraphs = [*a.get("lead", []), *[p for p in a["body"].split("\n") if p.strip()]]
    body = "".join(f"<p>\u3000\u3000{esc(p)}</p>" for p in paragraphs)
    if a["layout"] != "bare":
        body += f'<p class="em_media">（文章来源：{esc(a["mediaName"])}）</p>'
    if a.get("editor"):
        body += f'<p class="res-edit">（责任编辑：{esc(a["editor"])}）</p>'
    if a["layout"] == "bare":
        header = ""
    elif a["layout"] == "old":
        header = (
            f'<div class="newsContent"><h1>{esc(a["title"])}</h1><div class="time-source">'
            f'<div class="time">{published:%Y年%m月%d日 %H:%M}</div>'
            f'<div class="source">来源：<span>{esc(a["mediaName"])}</span></div></div></div>'
        )
    else:
        author = f'<div class="item">作者：{esc(a["author"])}</div>' if a.get("author") else ""
        header = (
            f'<div class="title">{esc(a["title"])}</div><div class="infos">'
            f'<div class="item">{cn_date}</div>'
            f'<div class="item">来源：<a href="#" class="em_media">{esc(a["mediaName"])}</a></div>'
            f"{author}</div>"
        )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{esc(a['title'])}_东方财富网</title>"
        f'<meta name="description" content="{esc(a["body"][:80])}"></head><body>'
        '<div class="topnav"><a href="https://www.eastmoney.com/">东方财富网</a></div>'
        f'<div class="mainleft">{header}'
        f'<div class="abstract"><div class="txt">{esc(a["body"][:60])}</div></div>'
        f'<div id="ContentBody" class="txtinfos">{body}</div>'
        '<div class="sourcebox">郑重声明：东方财富网发布此信息的目的在于传播更多信息，与本站立场无关。</div>'
        "</div></body></html>"
    )


@route(ARTICLE_HOST, r"/a/(?P<code>\d{18})\.html")
def article(req: Request) -> Response:
    assert req.match is not None
    for a in articles():
        if a["code"] == req.match["code"]:
            return Response.html(_article_html(a))
    return Response.html("<html><body><p>您访问的页面不存在</p></body></html>", status=404)
