"""中国证券报 中证网 (www.cs.com.cn): static channel pages and article pages, in GBK or UTF-8.

Shapes follow sources.md §5.5. The site is a static TRS-style publication:

* Channel page ``/{channel}/`` (same as ``/{channel}/index.shtml``) lists the newest articles as
  ``ul.ch_type3_list li a`` with ``h3`` (title), ``p`` (summary) and ``em`` (``YYYY-MM-DD HH:MM``).
  Older pages are ``index_1.shtml``, ``index_2.shtml`` ... (page N+1 is ``index_N.shtml``); the page
  count is printed in a ``createPageHTML(countPage, currentPage, "index", "shtml")`` script call, and
  pages past the end are 404, as on a static server. Links are relative (``./202511/t…html``).
  The real site shows 20 items a page; here :data:`PAGE_SIZE` is small so a dozen fixtures span
  several pages. No date filtering: static pages do not take parameters.
* Article ``/{channel}/{YYYYMM}/t{YYYYMMDD}_{id}.html``: breadcrumb ``div.artc_route div a``, title
  ``article.cont_article header h1``, byline ``div.artc_info em`` (``来源：…``, ``作者：…``), time
  ``em.time[datetime]``, body ``article.cont_article section``.

Encodings (the reason this source is interesting): each fixture says how its page is served.
``gb2312`` declares gb2312 in header and meta but, like real sites, contains GBK-only characters
(镕, 喆, 堃); ``gbk`` declares gbk; ``utf-8`` is UTF-8; ``utf-8-but-gbk`` declares UTF-8 in its meta,
sends no charset in the header, and its bytes are GBK. Channel list pages use :data:`CHANNELS`.
Fixture ``broken``: ``no-body`` (empty section, e.g. a video page), ``bad-date`` (no usable time).
"""

from __future__ import annotations

import html
import re
from typing import Any

from xinpi.emulator.fixtures import load
from xinpi.emulator.server import Request, Response, route

HOST = "www.cs.com.cn"
PAGE_SIZE = 4
#: channel path -> (name, encoding of its list pages)
CHANNELS: dict[str, tuple[str, str]] = {
    "gppd/zqxw": ("债市研究", "gb2312"),
    "xwzx": ("要闻", "utf-8"),
}
_CHANNEL_RE = r"/(?P<channel>[a-z0-9]+(?:/[a-z0-9]+)*)"


def _articles(channel: str) -> list[dict[str, Any]]:
    """Fixture rows of a channel, in file order (the fixture file lists them newest first)."""
    return [row for row in load("cs") if row["channel"] == channel]


def article_path(row: dict[str, Any]) -> str:
    """The real path of an article: the date folder and file name come from its publish date."""
    digits = re.sub(r"\D", "", row["published"])[:8] or "20250101"
    return f"/{row['channel']}/{digits[:6]}/t{digits}_{row['id']}.html"


def _encode(text: str, encoding: str) -> Response:
    """Serve ``text`` the way a fixture's encoding says (see the module docstring)."""
    if encoding == "utf-8-but-gbk":
        return Response(200, text.encode("gbk"), "text/html")
    if encoding in ("gb2312", "gbk"):
        return Response(200, text.encode("gbk"), f"text/html; charset={encoding}")
    return Response(200, text.encode("utf-8"), "text/html; charset=utf-8")


def _meta_charset(encoding: str) -> str:
    return "utf-8" if encoding.startswith("utf-8") else encoding


@route(HOST, _CHANNEL_RE + r"/(?:index(?:_(?P<page>\d+))?\.shtml)?")
def channel_page(req: Request) -> Response:
    assert req.match is not None
    channel = req.match["channel"]
    if channel not in CHANNELS:
        return Response(404, "<html><body>404 Not Found</body></html>", "text/html")
    name, encoding = CHANNELS[channel]
    rows = _articles(channel)
    count = max(1, -(-len(rows) // PAGE_SIZE))
    page = int(req.match["page"] or 0)
    if page >= count or (req.match["page"] is not None and page == 0):
        return Response(404, "<html><body>404 Not Found</body></html>", "text/html")
    items = []
    for row in rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        href = "." + article_path(row)[len(channel) + 1 :]
        summary = row["body"].split("\n")[0][:60]
        items.append(
            f'<li><a href="{href}" target="_blank"><h3>{html.escape(row["title"])}</h3>'
            f"<p>{html.escape(summary)}</p><em>{html.escape(row['published'])}</em></a></li>"
        )
    page_html = f"""<!DOCTYPE html>
<html lang="zh-CN"><head>
<meta http-equiv="Content-Type" content="text/html; charset={_meta_charset(encoding)}">
<title>{name}-中证网</title>
<meta name="Keywords" content="{name},中国证券报,中证网">
</head><body>
<div class="logo_cs"><a href="{req.base}/"><img src="/images/logo.png" alt="中证网"></a></div>
<div class="ch_main">
<ul class="ch_type3_list">
{chr(10).join(items)}
</ul>
<div class="page"><script>createPageHTML({count}, {page}, "index", "shtml");</script></div>
</div></body></html>"""
    return _encode(page_html, encoding)


@route(HOST, _CHANNEL_RE + r"/(?P<ym>\d{6})/t(?P<ymd>\d{8})_(?P<id>\d+)\.html")
def article_page(req: Request) -> Response:
    assert req.match is not None
    row = next(
        (r for r in load("cs") if r["id"] == req.match["id"] and article_path(r) == req.path), None
    )
    if row is None:
        return Response(404, "<html><body>404 Not Found</body></html>", "text/html")
    channel = row["channel"]
    name = CHANNELS[channel][0]
    byline = [f"<em>来源：{html.escape(row['source'])}</em>"]
    if row["author"]:
        byline.append(f"<em>作者：{html.escape(row['author'])}</em>")
    if row["broken"] == "bad-date":
        byline.append(f'<em class="time" datetime="">{html.escape(row["published"])}</em>')
    else:
        stamp = row["published"]
        byline.append(f'<em class="time" datetime="{stamp}:00">{stamp}</em>')
    paragraphs = "" if row["broken"] == "no-body" else "\n".join(
        f"<p>\u3000\u3000{html.escape(p)}</p>" for p in row["body"].split("\n") if p.strip()
    )
    if row["broken"] == "no-body":
        paragraphs = '<div class="video"><script>playVideo("v_000");</script></div>'
    depth = "../" * (channel.count("/") + 2)
    page_html = f"""<!DOCTYPE html>
<html lang="zh-CN"><head>
<meta http-equiv="Content-Type" content="text/html; charset={_meta_charset(row["encoding"])}">
<title>{html.escape(row["title"])}-中证网</title>
<meta name="keywords" content="{html.escape(row["title"])}">
</head><body>
<div class="artc_route"><div><a href="{depth}">首页</a> &gt;
<a href="../" title="{name}">{name}</a></div></div>
<article class="cont_article">
<header>
<h1>{html.escape(row["title"])}</h1>
<div class="artc_info"><div class="info_left">{"".join(byline)}</div></div>
</header>
<section>
{paragraphs}
</section>
<div class="artc_share">分享到：</div>
</article>
<script>var _hmt = _hmt || [];</script>
</body></html>"""
    return _encode(page_html, row["encoding"])
