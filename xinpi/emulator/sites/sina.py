"""新浪财经: the roll-news JSON API and finance.sina.com.cn article pages (sources.md §5.1).

List ``GET feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2516&k=&num=50&page=1&r=<rand>&_=<ms>``
answers ``{"result":{"status":{"code":0,"msg":""},"data":[…]}}``, newest first. Rows carry ``docid,
title, intro, url, wapurl, media_name, ctime, intime, mtime`` (times: epoch **seconds as strings**)
and a few more fields the real feed has. ``num`` is clamped to 1…50, pages past 50 (the feed's cap)
or past the end are an empty ``data`` list, ``k`` keeps rows whose title or intro contains it, and a
``lid`` no fixture row belongs to is empty too.

Referer check (decided here; the real feed's exact answer is not documented): the API serves only
requests whose ``Referer`` is on a ``sina.com.cn`` host, as a hotlink guard does. Anything else
(missing, another site) gets **HTTP 403** with a short plain-text body, so a crawler that lost its
Referer fails loudly rather than reading an empty list.

Articles ``finance.sina.com.cn/{section}/{YYYY-MM-DD}/doc-{id}.shtml``: ``h1.main-title``,
``div.date-source`` (``span.date`` "YYYY年MM月DD日 HH:mm" and ``a.source``), body ``div#artibody``
with the ad/QR blocks the real pages carry (``#left_hzh_ad``, ``.appendQr_wrap``, ``.app-kaihu-qr``),
``meta[property="article:published_time"]`` and ``meta[property="article:author"]``. Fixture
``layout``: ``meta`` (meta tags + span.date), ``both`` (same, and the old ``#pub_date`` span too),
``pub_date`` (old layout: no meta, date only in ``span#pub_date``). ``video: true`` is a video page
whose ``#artibody`` holds no text. Rows with ``age_minutes`` are fresh news, timed back from
:func:`~xinpi.emulator.fixtures.fresh_now`, so a crawl with the default window always finds something.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from functools import cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from xinpi.emulator.fixtures import fresh_now, load
from xinpi.emulator.server import Request, Response, route

SHANGHAI = ZoneInfo("Asia/Shanghai")
API_HOST = "feed.mix.sina.com.cn"
ARTICLE_HOST = "finance.sina.com.cn"
MAX_NUM = 50
MAX_PAGE = 50


@cache
def articles() -> list[dict[str, Any]]:
    """Fixture rows with publication time and article path resolved; newest first."""
    out = []
    now = fresh_now().replace(microsecond=0)
    for row in load("sina"):
        if "age_minutes" in row:
            published = now - dt.timedelta(minutes=row["age_minutes"])
        else:
            published = dt.datetime.fromisoformat(row["published"]).astimezone(SHANGHAI)
        short_id = row["docid"].split(":", 1)[1]
        path = f"/{row['section']}/{published.date().isoformat()}/doc-{short_id}.shtml"
        out.append({**row, "published_at": published, "path": path})
    return sorted(out, key=lambda a: a["published_at"], reverse=True)


def _other_host(req: Request, host: str) -> str:
    """This emulator's base URL for another host (req.base is for the host that was asked)."""
    return req.base[: -len(req.host)] + host


def referer_allowed(referer: str) -> bool:
    host = urlsplit(referer).hostname or ""
    return host == "sina.com.cn" or host.endswith(".sina.com.cn")


def _int_arg(req: Request, name: str, default: int) -> int:
    try:
        return int(req.arg(name, str(default)) or default)
    except ValueError:
        return default


def _intro(article: dict[str, Any]) -> str:
    return article["body"].split("\n")[0][:80] if article["body"] else article["title"]


def _row(article: dict[str, Any], article_base: str) -> dict[str, Any]:
    published: dt.datetime = article["published_at"]
    ts = int(published.timestamp())
    url = article_base + article["path"]
    intro = _intro(article)
    return {
        "docid": article["docid"],
        "title": article["title"],
        "intro": intro,
        "summary": "",
        "url": url,
        "wapurl": url.replace("finance.sina.com.cn", "finance.sina.cn"),
        "media_name": article["media_name"],
        "author": article.get("author", ""),
        "keywords": ",".join(article.get("keywords", [])),
        "ctime": str(ts),
        "intime": str(ts + 7),
        "mtime": str(ts + 60),
        "lids": ",".join(str(lid) for lid in article["lids"]),
        "img": {"u": "", "w": 0, "h": 0},
    }


@route(API_HOST, r"/api/roll/get")
def roll(req: Request) -> Response:
    if not referer_allowed(req.headers.get("referer", "")):
        return Response(403, "403 Forbidden", "text/plain; charset=utf-8")
    lid = req.arg("lid")
    keyword = req.arg("k")
    num = min(max(_int_arg(req, "num", 20), 1), MAX_NUM)
    page = max(_int_arg(req, "page", 1), 1)
    rows = [
        a
        for a in articles()
        if lid.isdigit() and int(lid) in a["lids"]
        and (not keyword or keyword in a["title"] or keyword in _intro(a))
    ]
    chunk = rows[(page - 1) * num : page * num] if page <= MAX_PAGE else []
    base = _other_host(req, ARTICLE_HOST)
    payload = {
        "result": {
            "status": {"code": 0, "msg": ""},
            "timestamp": dt.datetime.now(SHANGHAI).strftime("%a %b %d %H:%M:%S +0800 %Y"),
            "total": len(rows),
            "lid": lid,
            "pdps": [],
            "data": [_row(a, base) for a in chunk],
        }
    }
    return Response(200, json.dumps(payload, ensure_ascii=False), "application/json; charset=utf-8")


def _article_html(a: dict[str, Any]) -> str:
    esc = html.escape
    published: dt.datetime = a["published_at"]
    cn_date = f"{published:%Y年%m月%d日 %H:%M}"
    head = [f"<title>{esc(a['title'])}_新浪财经_新浪网</title>", '<meta charset="utf-8">']
    if a["layout"] in ("meta", "both"):
        head.append(f'<meta property="article:published_time" content="{published.isoformat()}" />')
        head.append(f'<meta property="article:author" content="{esc(a.get("author") or "新浪财经")}" />')
    if a.get("keywords"):
        head.append(f'<meta name="keywords" content="{esc(",".join(a["keywords"]))}" />')
    if a["layout"] == "pub_date":
        date_html = f'<span id="pub_date">{cn_date}</span>'
    elif a["layout"] == "both":
        date_html = (
            f'<span class="date">{cn_date}</span><span id="pub_date" style="display:none">{cn_date}</span>'
        )
    else:
        date_html = f'<span class="date">{cn_date}</span>'
    paragraphs = [*a.get("lead", []), *[p for p in a["body"].split("\n") if p.strip()]]
    blocks = [f"<p>\u3000\u3000{esc(p)}</p>\n" for p in paragraphs]
    if a.get("video"):
        blocks = ['<div class="video-wrap"><div id="video-player" data-vid="3412907"></div></div>']
    if a.get("junk"):  # the ad and QR blocks real pages carry inside #artibody
        blocks.insert(1, '<div id="left_hzh_ad"><a href="#">新浪财经公众号 24小时滚动播报</a></div>')
        blocks.append('<div class="appendQr_wrap"><p>扫码下载新浪财经APP</p></div>')
        blocks.append('<div class="app-kaihu-qr"><p>开户就选新浪，享超低佣金</p></div>')
    body = "".join(blocks)
    foot = "".join(f'<p class="article-editor">{esc(f)}</p>' for f in a.get("footer", []))
    keywords = ""
    if a.get("keywords"):
        keywords = '<div class="keywords" id="keywords" data-wbkey="{}">关键词：{}</div>'.format(
            esc(",".join(a["keywords"])), " ".join(f"<a>{esc(k)}</a>" for k in a["keywords"])
        )
    return (
        f"<!DOCTYPE html><html><head>{''.join(head)}</head><body>"
        '<div class="top-bar"><a href="https://finance.sina.com.cn/">新浪财经</a></div>'
        f'<div class="main-content w1240"><h1 class="main-title">{esc(a["title"])}</h1>'
        f'<div class="top-bar-wrap"><div class="date-source">{date_html}'
        f'<a class="source ent-source" href="#">{esc(a["media_name"])}</a></div></div>'
        f'<div class="article-content clearfix"><div class="article" id="artibody">\n{body}</div>'
        f"{foot}{keywords}</div></div>"
        '<div class="footer"><p>新浪公司 版权所有</p></div></body></html>'
    )


@route(ARTICLE_HOST, r"/(?P<section>[a-z/]+)/(?P<day>\d{4}-\d{2}-\d{2})/doc-(?P<id>[a-z0-9]+)\.shtml")
def article(req: Request) -> Response:
    assert req.match is not None
    for a in articles():
        if a["path"] == req.path:
            return Response.html(_article_html(a))
    return Response.html("<html><body><h1>页面没有找到</h1></body></html>", status=404)
