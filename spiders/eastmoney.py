"""东方财富 news columns: the ``np-listapi`` column list, then each finance.eastmoney.com article.

Why this source: a second portal that carries 证券日报/中国证券报 copies (``mediaName``) next to its own
market news; ``extra.story_id``, added by the normalise pipeline stage, links the copies.

Only the article body selector (``div#ContentBody``) is documented, so the spider reads title, time,
source and author from whatever the page offers and falls back to the list's ``title``,
``showTime`` and ``mediaName``. The ``（文章来源：…）``/``（责任编辑：…）`` lines at the end of the body are
metadata, not story text: they fill ``media_name``/``extra.editor`` and are dropped from ``text``.

Settings:

* ``XINPI_EASTMONEY_COLUMNS`` (default ``[1207]``): column ids to read.
* ``XINPI_EASTMONEY_PAGE_SIZE`` (default 200, the list's maximum): ``page_size`` per list request.
* ``XINPI_EASTMONEY_MAX_PAGES`` (default 20): pages read per column at most.

The list is newest first (``order=1``) with no date filter; paging stops at the first page whose
items are all older than the window start (or that is short, empty, or the last allowed).

Incremental: rows already stored are not fetched again, and a page whose wanted rows (in the window,
on topic by ``title`` and ``summary``; ``-a all=1`` drops the filter) are all stored ends the paging.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from bs4 import BeautifulSoup
from scrapy.http import Response

from xinpi.items import DocumentItem, FailureItem
from xinpi.spiders.base import XinpiSpider
from xinpi.spiders.html_text import clean_line, element_text, parse_local_datetime, soup
from xinpi.spiders.sina import int_list, window_bounds

API_HOST = "np-listapi.eastmoney.com"
FIELDS = "code,showTime,title,mediaName,summary,image,url,uniqueUrl,Np_dst"
_JSONP = re.compile(r"^\s*[\w$.]+\s*\((.*)\)\s*;?\s*$", re.S)
_LABELLED = re.compile(r"^[（(]?\s*(文章来源|来源|责任编辑|编辑|作者)\s*[：:]\s*(.*?)\s*[）)]?\s*$")
_DATE_LIKE = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")


def load_list_json(text: str) -> Any:
    """The list answer as JSON, also when it came JSONP-wrapped (``cb({...});``)."""
    m = _JSONP.match(text)
    return json.loads(m.group(1) if m else text)


class EastmoneySpider(XinpiSpider):
    name = "eastmoney"
    kind = "news"
    #: A broken (non-JSON, truncated) list page is asked for again this many times before it is skipped.
    list_retries = 1

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.window()  # fail fast on a bad since/until, and record the window even if no list answers
        for column in int_list(self.settings.get("XINPI_EASTMONEY_COLUMNS", [1207])):
            yield self.list_request(column, 1)

    # --- list ----------------------------------------------------------------------------------
    def list_request(self, column: int, page: int, attempt: int = 0) -> scrapy.Request:
        size = self.settings.getint("XINPI_EASTMONEY_PAGE_SIZE", 200)
        query = {
            "client": "web", "biz": "web_news_col", "column": column, "order": 1, "needInteractData": 0,
            "page_index": page, "page_size": size, "req_trace": int(time.time() * 1000), "fields": FIELDS,
        }
        return scrapy.Request(
            f"{self.host(API_HOST)}/comm/web/getNewsByColumns?{urlencode(query, safe=',')}",
            callback=self.parse_list,
            errback=self.on_error,
            meta={"column": column, "page": page, "attempt": attempt, "size": size},
            dont_filter=True,
        )

    def parse_list(self, response: Response) -> Iterator[scrapy.Request | FailureItem]:
        column, page, size = response.meta["column"], response.meta["page"], response.meta["size"]
        max_pages = self.settings.getint("XINPI_EASTMONEY_MAX_PAGES", 20)
        try:
            payload = load_list_json(response.text)
            data = payload.get("data")
            if not isinstance(data, dict) or not isinstance(data.get("list"), list):
                code, message = payload.get("code"), payload.get("message")
                raise ValueError(f"no data.list (code={code!r}, message={message!r})")
            rows = data["list"]
        except (ValueError, TypeError, AttributeError) as exc:
            error = f"column {column} page {page}: {exc!r}"
            yield self.failure(response.url, "parse", error, response.status)
            if response.meta["attempt"] < self.list_retries:
                yield self.list_request(column, page, response.meta["attempt"] + 1)
            elif page < max_pages:  # give this page up, but not the rest of the column
                yield self.list_request(column, page + 1)
            return

        start, end = window_bounds(self.window())
        all_older = bool(rows)
        wanted: list[tuple[str, str, dict[str, Any], dt.datetime | None]] = []
        for row in rows:
            if not isinstance(row, dict):
                continue
            listed = parse_local_datetime(row.get("showTime"))
            if listed is None or listed >= start:
                all_older = False
            if listed is not None and not start <= listed < end:
                continue
            url = row.get("url") or row.get("uniqueUrl")
            if not url:
                yield self.failure(response.url, "parse", f"list row without url: {row.get('code')}")
                continue
            if not self.on_topic(clean_line(row.get("title")), clean_line(row.get("summary"))):
                continue
            wanted.append((f"eastmoney:{row.get('code') or url}", url, row, listed))
        if self.page_is_all_known([w[0] for w in wanted]):
            return  # nothing new here, and older pages are older still
        for doc_id, url, row, listed in wanted:
            if self.is_known(doc_id):
                continue
            yield scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.on_error,
                meta={"row": row, "column": column, "listed_at": listed},
            )
        if rows and not all_older and len(rows) >= size and page < max_pages:
            yield self.list_request(column, page + 1)

    # --- article -------------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[DocumentItem | FailureItem]:
        row: dict[str, Any] = response.meta["row"]
        page = soup(response)
        body = page.select_one("#ContentBody")
        if body is None:
            yield self.failure(response.url, "body", "no div#ContentBody on the page", response.status)
            return
        labelled: dict[str, str] = {}
        for junk in body.select("script, style"):
            junk.decompose()
        for p in body.find_all(["p", "div"]):
            m = _LABELLED.match(clean_line(p.get_text()))
            if m and len(p.get_text()) < 80:  # a short labelled line, not a paragraph quoting one
                labelled.setdefault(m.group(1), m.group(2))
                p.decompose()
        text = element_text(body)
        if not text.strip():
            yield self.failure(response.url, "body", "empty article body", response.status)
            return

        info = self.info(page)
        listed: dt.datetime | None = response.meta.get("listed_at")
        published = parse_local_datetime(info.get("time")) or listed
        raw = info.get("time") if parse_local_datetime(info.get("time")) else row.get("showTime")
        if published is None:
            yield self.failure(response.url, "date", f"no parseable date ({raw!r}); kept without one")
        elif listed is None:
            start, end = window_bounds(self.window())
            if not start <= published < end:
                return
        title = info.get("title") or clean_line(row.get("title"))
        media = info.get("source") or labelled.get("文章来源") or labelled.get("来源") or row.get("mediaName")
        yield DocumentItem(
            **self.document_defaults(
                doc_id=f"eastmoney:{row.get('code') or response.url}",
                url=response.url,
                title=title,
                published_at=published,
                published_at_raw=raw,
                text=text,
                author=info.get("author") or labelled.get("作者") or None,
                media_name=clean_line(media) or None,
                extra={
                    "code": row.get("code"),
                    "column": response.meta["column"],
                    "summary": row.get("summary"),
                    "unique_url": row.get("uniqueUrl"),
                    "editor": labelled.get("责任编辑") or labelled.get("编辑"),
                },
            )
        )

    @staticmethod
    def info(page: BeautifulSoup) -> dict[str, str]:
        """Title, time, source and author from the page header, whichever layout it has."""
        out: dict[str, str] = {}
        title_el = page.select_one("div.title, .newsContent h1, .detail_title h1, h1")
        if title_el is not None:
            out["title"] = clean_line(title_el.get_text())
        for el in page.select(".infos .item, .time-source div, .time-source span, .time, .source, .author"):
            line = clean_line(el.get_text())
            m = re.match(r"^(来源|作者)\s*[：:]\s*(.+)$", line)
            if m:
                out.setdefault("source" if m.group(1) == "来源" else "author", m.group(2))
            elif _DATE_LIKE.search(line):
                out.setdefault("time", line)
        return out
