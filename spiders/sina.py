"""新浪财经 roll news: the ``feed.mix.sina.com.cn`` list API, then each finance.sina.com.cn article.

Why this source: one plain JSON feed with stable parameters covers the portal's finance desk, and its
``media_name`` names the original outlet, so syndicated 证券日报/中国证券报 stories arrive here too
(the normalise pipeline stage gives each ``extra.story_id``, which ties it to its other copies).

Settings:

* ``XINPI_SINA_LIDS`` (default ``[2516]`` 财经): roll-feed channels (``lid``) to read, with ``pageid=153``.
* ``XINPI_SINA_PAGE_SIZE`` (default 50, the feed's maximum): ``num`` per list request.
* ``XINPI_SINA_MAX_PAGES`` (default 50, the feed's cap): pages read per channel at most.
* ``XINPI_SINA_REFERER`` (default ``https://news.sina.com.cn/``): the feed refuses requests without a
  sina Referer (HTTP 403), so it is sent explicitly on every list request.

The feed has no date filter: it is newest first, so paging stops at the first page whose items are
all older than the window start (or that is short, empty, or the last allowed).

Incremental: rows already stored are not fetched again, and a page whose wanted rows (in the window,
on topic by ``title`` and ``intro``; ``-a all=1`` drops the filter) are all stored ends the paging.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from xinpi.items import DocumentItem, FailureItem
from xinpi.spiders.base import SHANGHAI, XinpiSpider, list_setting
from xinpi.spiders.html_text import clean_line, element_text, parse_local_datetime, soup

API_HOST = "feed.mix.sina.com.cn"
PAGE_ID = 153
#: What sina writes as ``article:author`` when no journalist is credited: the desk, not a person.
DESK_NAMES = frozenset({"新浪财经", "新浪网", "新浪"})
#: Blocks inside ``#artibody`` that are ads, QR codes and quote widgets, not the story.
JUNK_SELECTORS = "#left_hzh_ad, .appendQr_wrap, .app-kaihu-qr, .tech-quotation, script, style"


def int_list(value: Any) -> list[int]:
    """A list setting of ids (see :func:`~xinpi.spiders.base.list_setting`)."""
    return [int(v) for v in list_setting(value)]


def window_bounds(window: tuple[dt.date, dt.date]) -> tuple[dt.datetime, dt.datetime]:
    """Start (inclusive) and end (exclusive) instants of an inclusive Beijing date window."""
    since, until = window
    start = dt.datetime.combine(since, dt.time.min, SHANGHAI)
    return start, dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, SHANGHAI)


def epoch_seconds(value: Any) -> dt.datetime | None:
    """The feed's ``ctime`` ("1715920201", seconds as a string) as Beijing time; None if not a number."""
    try:
        return dt.datetime.fromtimestamp(int(str(value).strip()), SHANGHAI)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class SinaSpider(XinpiSpider):
    name = "sina"
    kind = "news"
    #: A broken (non-JSON, truncated) list page is asked for again this many times before it is skipped.
    list_retries = 1

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.window()  # fail fast on a bad since/until, and record the window even if no list answers
        for lid in int_list(self.settings.get("XINPI_SINA_LIDS", [2516])):
            yield self.list_request(lid, 1)

    # --- list ----------------------------------------------------------------------------------
    def list_request(self, lid: int, page: int, attempt: int = 0) -> scrapy.Request:
        num = self.settings.getint("XINPI_SINA_PAGE_SIZE", 50)
        # r and _ are the cache-busters a browser sends; they also keep a re-asked page unique.
        url = (
            f"{self.host(API_HOST)}/api/roll/get?pageid={PAGE_ID}&lid={lid}&k=&num={num}&page={page}"
            f"&r={random.random():.16f}&_={int(time.time() * 1000)}"
        )
        referer = self.settings.get("XINPI_SINA_REFERER", "https://news.sina.com.cn/")
        return scrapy.Request(
            url,
            headers={"Referer": referer, "Accept": "application/json, text/javascript, */*"},
            callback=self.parse_list,
            errback=self.on_error,
            meta={"lid": lid, "page": page, "attempt": attempt, "num": num},
            dont_filter=True,
        )

    def parse_list(self, response: Response) -> Iterator[scrapy.Request | FailureItem]:
        lid, page, num = response.meta["lid"], response.meta["page"], response.meta["num"]
        max_pages = self.settings.getint("XINPI_SINA_MAX_PAGES", 50)
        try:
            payload = json.loads(response.text)
            result = payload["result"]
            status = result.get("status") or {}
            if status.get("code", 0) != 0:
                raise ValueError(f"feed status {status.get('code')}: {status.get('msg')}")
            rows = result["data"]
            if not isinstance(rows, list):
                raise TypeError("result.data is not a list")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            yield self.failure(response.url, "parse", f"roll list lid={lid} page={page}: {exc!r}",
                               response.status)
            if response.meta["attempt"] < self.list_retries:
                yield self.list_request(lid, page, response.meta["attempt"] + 1)
            elif page < max_pages:  # give this page up, but not the rest of the channel
                yield self.list_request(lid, page + 1)
            return

        start, end = window_bounds(self.window())
        all_older = bool(rows)
        wanted: list[tuple[str, dict[str, Any], dt.datetime | None]] = []
        for row in rows:
            if not isinstance(row, dict):
                continue
            listed = epoch_seconds(row.get("ctime"))
            if listed is None or listed >= start:
                all_older = False
            if listed is not None and not start <= listed < end:
                continue
            url = row.get("url")
            if not url:
                yield self.failure(response.url, "parse", f"roll row without url: {row.get('docid')}")
                continue
            if not self.on_topic(clean_line(row.get("title")), clean_line(row.get("intro"))):
                continue
            wanted.append((f"sina:{row.get('docid') or url}", row, listed))
        if self.page_is_all_known([doc_id for doc_id, _, _ in wanted]):
            return  # nothing new here, and older pages are older still
        for doc_id, row, listed in wanted:
            if self.is_known(doc_id):
                continue
            yield scrapy.Request(
                row["url"],
                callback=self.parse_article,
                errback=self.on_error,
                meta={"row": row, "lid": lid, "listed_at": listed},
            )
        if rows and not all_older and len(rows) >= num and page < max_pages:
            yield self.list_request(lid, page + 1)

    # --- article -------------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[DocumentItem | FailureItem]:
        row: dict[str, Any] = response.meta["row"]
        page = soup(response)
        body = page.select_one("#artibody") or page.select_one("#article")
        if body is None:
            yield self.failure(response.url, "body", "no #artibody/#article on the page", response.status)
            return
        keywords_el = page.select_one("#keywords[data-wbkey]")
        for junk in body.select(JUNK_SELECTORS):
            junk.decompose()
        text = element_text(body)
        if not text.strip():
            yield self.failure(response.url, "body", "empty article body", response.status)
            return

        published, raw = self.published(page, row, response.meta.get("listed_at"))
        if published is None:
            yield self.failure(response.url, "date", f"no parseable date ({raw!r}); kept without one")
        elif response.meta.get("listed_at") is None:
            start, end = window_bounds(self.window())
            if not start <= published < end:
                return
        meta_author = page.select_one('meta[property="article:author"]')
        source_el = page.select_one(".date-source .source, .date-source a, .source")
        title_el = page.select_one("h1.main-title, #artibodyTitle, h1")
        title = clean_line(row.get("title")) or (clean_line(title_el.get_text()) if title_el else "")
        keywords = keywords_el.get("data-wbkey") if keywords_el else row.get("keywords")
        yield DocumentItem(
            **self.document_defaults(
                doc_id=f"sina:{row.get('docid') or response.url}",
                url=response.url,
                title=title,
                published_at=published,
                published_at_raw=raw,
                text=text,
                author=self.author(meta_author.get("content") if meta_author else None, row),
                media_name=clean_line(row.get("media_name"))
                or (clean_line(source_el.get_text()) if source_el else None),
                extra={
                    "docid": row.get("docid"),
                    "lid": response.meta["lid"],
                    "intro": row.get("intro"),
                    "wapurl": row.get("wapurl"),
                    "keywords": keywords or None,
                    "ctime": row.get("ctime"),
                    "mtime": row.get("mtime"),
                },
            )
        )

    @staticmethod
    def author(meta_author: str | None, row: dict[str, Any]) -> str | None:
        """The page's ``article:author``, unless it only names the desk (新浪财经 writes itself there
        when no journalist is credited): then the feed's ``author``, if any."""
        for candidate in (meta_author, row.get("author")):
            name = clean_line(candidate)
            if name and name not in DESK_NAMES:
                return name
        return clean_line(row.get("author")) or None

    @staticmethod
    def published(page: Any, row: dict[str, Any], listed: dt.datetime | None) -> tuple[
        dt.datetime | None, str | None
    ]:
        """Publication time and its raw text: the page's meta tag, then its printed date, then the feed."""
        meta = page.select_one('meta[property="article:published_time"]')
        candidates = [meta.get("content") if meta else None]
        for el in page.select("#pub_date, .date-source .date, .date"):
            candidates.append(el.get_text())
        for raw in candidates:
            parsed = parse_local_datetime(raw)
            if parsed is not None:
                return parsed, clean_line(raw)
        return listed, row.get("ctime")

