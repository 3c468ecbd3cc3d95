"""证券日报 zqrb.cn: static channel list pages and article pages (sources.md §5.7).

List ``/{channel}/{sub}/index.html`` (page N: ``index_pN.html``): ``div.news_content ul li`` with
``a.lista`` and ``span.date``, newest first, a ``下一页`` link while more pages exist, 404 past the
last. Article ``/{channel}/{sub}/{YYYY-MM-DD}/A{13 digits}.html``: ``div.news_content > h1``,
``div.info_news`` ("<date> 来源：<source> <author>") and the body ``div.content-lcq`` (``div.content``
on the old layout). The digits are the publication time in epoch ms.

Fixture rows may ask for the awkward cases a spider must survive: ``info_date`` writes the date
the odd way some pages do (二〇二五年…, 3月12日 下午2点, full-width digits, or nothing parseable),
``encoding: gbk`` serves GBK bytes (with a gb2312 meta tag, as old pages have), ``body: null`` has
no body, ``missing`` is listed but answers 404, ``layout: old`` uses ``div.content``. Rows with
``age_minutes`` or ``yesterday_at`` are fresh news: their time is counted back from
:func:`~xinpi.emulator.fixtures.fresh_now` and the info line is rendered relative to the request
(``3小时前``, ``昨天 15:20``), as live sites do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import math
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from xinpi.emulator.fixtures import fresh_now, load
from xinpi.emulator.server import Request, Response, route

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOST = "www.zqrb.cn"
LIST_PAGE_SIZE = 3  # small so that the fixture corpus spans several list pages


@cache
def articles() -> list[dict[str, Any]]:
    """Fixture articles with their publication time, id and path resolved; newest first."""
    out = []
    now = fresh_now().replace(second=0, microsecond=0)
    for row in load("zqrb"):
        if "age_minutes" in row:
            published = now - dt.timedelta(minutes=row["age_minutes"])
        elif "yesterday_at" in row:
            day = now.date() - dt.timedelta(days=1)
            published = dt.datetime.combine(day, dt.time.fromisoformat(row["yesterday_at"]), SHANGHAI)
        else:
            published = dt.datetime.fromisoformat(row["published"]).astimezone(SHANGHAI)
        if "published" in row:
            aid = f"A{int(published.timestamp() * 1000):013d}"
        else:  # a fresh article keeps its id from one emulator start to the next, as on the live site
            aid = f"A{int(hashlib.sha1(row['title'].encode()).hexdigest()[:12], 16) % 10**13:013d}"
        path = f"/{row['channel']}/{published.date().isoformat()}/{aid}.html"
        out.append({**row, "published_at": published, "id": aid, "path": path})
    return sorted(out, key=lambda a: a["published_at"], reverse=True)


def channels() -> list[str]:
    return sorted({a["channel"] for a in articles()})


def _info_date(article: dict[str, Any], now: dt.datetime) -> str:
    """The date as the article page prints it."""
    if article.get("info_date"):
        return article["info_date"]
    published: dt.datetime = article["published_at"]
    if "age_minutes" in article or "yesterday_at" in article:
        age = now - published
        if age < dt.timedelta(hours=1):
            return f"{max(int(age.total_seconds() // 60), 1)}分钟前"
        if age < dt.timedelta(hours=24) and published.date() == now.date():
            return f"{int(age.total_seconds() // 3600)}小时前"
        if published.date() == now.date() - dt.timedelta(days=1):
            return f"昨天 {published:%H:%M}"
    return f"{published:%Y-%m-%d %H:%M}"


def _page(title: str, inner: str, charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f"<title>{html.escape(title)}_证券日报网</title></head><body>"
        '<div class="header"><a href="/">证券日报网</a></div>'
        f"{inner}"
        '<div class="footer">证券日报社 版权所有</div></body></html>'
    )


@route(HOST, r"/(?P<channel>[a-z]+/[a-z]+)/(?:index|index_p(?P<page>\d+))\.html")
def channel_list(req: Request) -> Response:
    assert req.match is not None
    channel, page = req.match["channel"], int(req.match["page"] or 1)
    listed = [a for a in articles() if a["channel"] == channel]
    pages = math.ceil(len(listed) / LIST_PAGE_SIZE)
    if not listed or page < 1 or page > pages:
        return Response.html("<html><body><h1>404 Not Found</h1></body></html>", status=404)
    items = "".join(
        f'<li><a class="lista" href="{req.base}{a["path"]}" target="_blank">{html.escape(a["title"])}</a>'
        f'<span class="date">{a["published_at"]:%Y-%m-%d}</span></li>'
        for a in listed[(page - 1) * LIST_PAGE_SIZE : page * LIST_PAGE_SIZE]
    )
    pager = f'<a href="index_p{page + 1}.html">下一页</a>' if page < pages else ""
    inner = f'<div class="news_content"><ul>{items}</ul></div><div class="page">{pager}</div>'
    return Response.html(_page(channel, inner))


@route(HOST, r"/(?P<channel>[a-z]+/[a-z]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<aid>A\d{13})\.html")
def article_page(req: Request) -> Response:
    assert req.match is not None
    article = next((a for a in articles() if a["path"] == req.path and not a.get("missing")), None)
    if article is None:
        return Response.html("<html><body><h1>404 Not Found</h1></body></html>", status=404)
    encoding = article.get("encoding", "utf-8")
    info = f"{_info_date(article, dt.datetime.now(SHANGHAI))} 来源：{article['source']} {article['author']}"
    body = ""
    if article.get("body"):
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article["body"].split("\n") if p.strip())
        css = "content" if article.get("layout") == "old" else "content-lcq"
        body = f'<div class="{css}">{paragraphs}</div>'
    inner = (
        f'<div class="news_content"><h1>{html.escape(article["title"])}</h1>'
        f'<div class="info_news">{html.escape(info)}</div>{body}'
        '<div class="editor">（编辑 张明）</div></div>'
    )
    meta_charset = "gb2312" if encoding == "gbk" else encoding  # old pages under-declare their charset
    return Response.html(_page(article["title"], inner, meta_charset), encoding=encoding)
