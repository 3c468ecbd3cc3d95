"""中国证券报 中证网 (www.cs.com.cn): static channel pages → article pages.

Channels come from the ``XINPI_CS_CHANNELS`` setting (list of channel paths, default
``["gppd/zqxw"]`` = 债市研究; ``xwzx`` 要闻 is the other channel worth adding). One channel by default
because every channel costs at least one listing request a night even when nothing is new, and the
bond desk is where securitisation news lands. Channel page 1 is ``/{channel}/``, page N+1 is
``/{channel}/index_N.shtml``; the page count comes from the page's ``createPageHTML(count, …)`` call.
Lists are newest first, so paging stops when a page's last item is older than the window start
(the tail is used, not the head, so a pinned old item at the top cannot end the crawl early).

Incremental: list entries already stored are not fetched again, and a page whose wanted entries
(in the window, on topic) are all stored ends the paging (see :class:`XinpiSpider`). Entries whose
title and summary miss every topic word are not fetched (``-a all=1`` turns the filter off).

Pages are GBK or UTF-8 and some declare UTF-8 while being GBK: all decoding goes through
:mod:`xinpi.spiders.html_text`. ``doc_id`` is ``cs:<numeric id>`` from ``t{YYYYMMDD}_{id}.html``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from xinpi.items import DocumentItem
from xinpi.spiders.base import XinpiSpider, list_setting
from xinpi.spiders.html_text import clean_line, element_text, parse_local_datetime, soup

HOST = "www.cs.com.cn"
DEFAULT_CHANNELS = ["gppd/zqxw"]
_ARTICLE_ID = re.compile(r"/t\d{8}_(\d+)\.s?html?$")
_PAGE_COUNT = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)")
_LABELLED = r"{label}\s*[:：]\s*(.+?)(?=\s+(?:来源|作者|记者|编辑|责任编辑|时间)\s*[:：]|$)"


def _labelled(text: str, label: str) -> str:
    m = re.search(_LABELLED.format(label=label), text)
    return m.group(1).strip() if m else ""


def doc_id_of(url: str) -> str:
    """``cs:<numeric id>`` from an article URL or a list link (the same id either way)."""
    m = _ARTICLE_ID.search(url)
    return f"cs:{m.group(1) if m else url.rsplit('/', 1)[-1]}"


class CsSpider(XinpiSpider):
    name = "cs"
    kind = "news"

    def channels(self) -> list[str]:
        value = list_setting(self.settings.get("XINPI_CS_CHANNELS"), DEFAULT_CHANNELS)
        return [c.strip("/") for c in value if c.strip("/")]

    def channel_url(self, channel: str, page: int) -> str:
        base = f"{self.host(HOST)}/{channel}/"
        return base if page == 0 else f"{base}index_{page}.shtml"

    async def start(self) -> AsyncIterator[Any]:
        self.window()  # fail fast on a bad since/until
        for channel in self.channels():
            yield self._list_request(channel, 0)

    def _list_request(self, channel: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            self.channel_url(channel, page), callback=self.parse_list, errback=self.on_error,
            cb_kwargs={"channel": channel, "page": page},
        )

    def parse_list(self, response: Response, channel: str, page: int) -> Iterator[Any]:
        since, until = self.window()
        tree = soup(response)
        anchors = tree.select("ul.ch_type3_list li a")
        if not anchors:
            yield self.failure(response.url, "parse", "channel page has no ul.ch_type3_list items",
                               response.status)
            return
        tail_date: dt.date | None = None
        wanted: list[tuple[str, str, str, str]] = []  # (doc_id, href, title, listed_raw)
        for a in anchors:
            href = a.get("href")
            if not isinstance(href, str) or not href.strip():
                continue
            listed_raw = clean_line(a.em.get_text()) if a.em else ""
            listed = parse_local_datetime(listed_raw)
            tail_date = listed.date() if listed else tail_date
            if listed and not since <= listed.date() <= until:
                continue
            title = clean_line(a.h3.get_text()) if a.h3 else clean_line(a.get_text())
            summary = clean_line(a.p.get_text()) if a.p else ""
            if not self.on_topic(title, summary):
                continue
            wanted.append((doc_id_of(href.strip()), href, title, listed_raw))
        if self.page_is_all_known([w[0] for w in wanted]):
            return  # nothing new here, and older pages are older still
        for doc_id, href, title, listed_raw in wanted:
            if self.is_known(doc_id):
                continue
            yield response.follow(
                href, callback=self.parse_article, errback=self.on_error,
                cb_kwargs={"channel": channel, "listed_title": title, "listed_raw": listed_raw},
            )
        m = _PAGE_COUNT.search(response.text)
        count = int(m.group(1)) if m else page + 1
        if page + 1 < count and (tail_date is None or tail_date >= since):
            yield self._list_request(channel, page + 1)

    def parse_article(
        self, response: Response, channel: str, listed_title: str, listed_raw: str
    ) -> Iterator[Any]:
        url = response.url
        if not response.body.strip():
            yield self.failure(url, "parse", "empty page", response.status)
            return
        tree = soup(response)
        article = tree.select_one("article.cont_article")
        body = element_text(article.select_one("section") if article else None)
        if not body:
            yield self.failure(url, "body", "no text in article.cont_article section", response.status)
            return
        time_el = tree.select_one(".time[datetime]") or tree.select_one(".time")
        raw_time = ""
        published = None
        for candidate in (
            time_el.get("datetime") if time_el else None,
            time_el.get_text() if time_el else None,
            listed_raw,
        ):
            if isinstance(candidate, str) and candidate.strip():
                published = parse_local_datetime(candidate)
                if published:
                    raw_time = candidate.strip()
                    break
        if published is None:
            shown = clean_line(time_el.get_text()) if time_el else listed_raw
            yield self.failure(url, "date", f"unparseable publish time {shown!r}", response.status)
            return
        since, until = self.window()
        if not since <= published.date() <= until:
            return  # the list date was missing or wrong; the article itself is outside the window
        bylines = [clean_line(em.get_text()) for em in tree.select("div.artc_info em")]
        author = next((v for v in (_labelled(b, "作者") for b in bylines) if v), None)
        media = next((v for v in (_labelled(b, "来源") for b in bylines) if v), None)
        title_el = article.select_one("header h1") if article else None
        crumbs = [clean_line(a.get_text()) for a in tree.select("div.artc_route div a")]
        yield DocumentItem(
            self.document_defaults(
                doc_id=doc_id_of(url),
                url=url,
                title=clean_line(title_el.get_text()) if title_el else listed_title,
                published_at=published,
                published_at_raw=raw_time,
                text=body,
                author=author,
                media_name=media,
                extra={"channel": channel, "breadcrumb": [c for c in crumbs if c]},
            )
        )
