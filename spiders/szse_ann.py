"""SZSE announcement list (``POST /api/disc/announcement/annList``, sources.md §3.1), bond channel.

Why this source: it is the exchange's own stream of bond and ABS notices (成立/发行结果/挂牌/收益分配),
the documents that confirm a deal the project register only lists as filed.

How: one JSON POST per channel and page for the crawl window (``seDate``), with the headers the site
checks (a Referer on www.szse.cn/disclosure/, Origin and the two ajax markers). The first page's
``announceCount`` tells how many pages there are; the remaining pages are requested together, so one
broken page costs only its own rows. A page that is not JSON (truncated, an HTML error page) becomes
a ``parse`` failure; HTTP errors go through :meth:`XinpiSpider.on_error` after Scrapy's retries.
Each notice's PDF (disc.static.szse.cn ``/download`` + ``attachPath``) is fetched, size-capped, and its
text becomes the document text; a PDF that cannot be fetched or read is a ``pdf`` failure and the
notice is still yielded with the list's title and summary as text.

Incremental: a notice already stored is not yielded again and its PDF is not fetched; a page holding
only stored notices ends the paging. Once a page has shown stored notices the rest are asked for one
page at a time (each may be the last needed); a first crawl still asks for all pages at once.
The bond channel is topical by itself, so it is not topic-filtered; notices from any other configured
channel (``listedNotice_disc``) are kept only if their title or summary is on topic (``-a all=1``: all).

Settings:
``XINPI_SZSE_CHANNELS`` (list, default ``["bondinfoNotice_disc"]``): channelCode values to crawl.
``XINPI_SZSE_PAGE_SIZE`` (int, default 50): rows per annList page.
``XINPI_SZSE_MAX_PAGES`` (int, default 200): cap on pages per channel (a runaway count is logged).
``XINPI_SZSE_REFERER_PATH`` (str, default ``/disclosure/listed/notice/index.html``): the page on
www.szse.cn sent as Referer; the site refuses requests whose Referer is not one of its pages.
``XINPI_SZSE_FETCH_PDF`` (bool, default True): download attachments for the text (False: list only).
``XINPI_PDF_MAX_BYTES`` (shared with cninfo, default 20 MiB): size cap for one attachment.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import JsonRequest, Response

from xinpi.items import DocumentItem
from xinpi.spiders.base import SHANGHAI, XinpiSpider, list_setting

ANN_HOST = "www.szse.cn"
PDF_HOST = "disc.static.szse.cn"
LIST_PATH = "/api/disc/announcement/annList"
DETAIL_PATH = "/disclosure/listed/bulletinDetail/index.html"
#: Channels whose notices are all bond/ABS notices: no topic filter needed.
TOPICAL_CHANNELS = frozenset({"bondinfoNotice_disc"})


def settings_list(value: Any, default: list[str]) -> list[str]:
    """A list setting (see :func:`~xinpi.spiders.base.list_setting`)."""
    return list_setting(value, default)


def parse_publish_time(raw: str) -> dt.datetime | None:
    """``"2025-11-13 17:00:00"`` (Beijing time) -> tz-aware datetime; also accepts a bare date."""
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(raw.strip(), fmt).replace(tzinfo=SHANGHAI)
        except (ValueError, AttributeError):
            continue
    return None


def _first(values: Any) -> str | None:
    """secCode/secName are lists on this API (a bond notice may name several tranches)."""
    if isinstance(values, list):
        return str(values[0]) if values and values[0] not in (None, "") else None
    return str(values) if values not in (None, "") else None


#: What parse_row yields for a stored notice, so parse_list can tell a steady-state page from a first one.
_KNOWN = object()


class SzseAnnSpider(XinpiSpider):
    name = "szse_ann"
    kind = "announcement"
    topic_filtered = False  # the default bond channel is topical; see start() for other channels

    async def start(self) -> AsyncIterator[JsonRequest]:
        channels = settings_list(self.settings.get("XINPI_SZSE_CHANNELS"), ["bondinfoNotice_disc"])
        self.topic_filtered = any(c not in TOPICAL_CHANNELS for c in channels)
        for channel in channels:
            yield self.list_request(channel, 1)

    # --- requests -----------------------------------------------------------------------------
    @property
    def page_size(self) -> int:
        return max(1, self.settings.getint("XINPI_SZSE_PAGE_SIZE", 50))

    def headers(self) -> dict[str, str]:
        base = self.host(ANN_HOST)
        path = self.settings.get("XINPI_SZSE_REFERER_PATH") or "/disclosure/listed/notice/index.html"
        return {
            "Referer": base + path,
            "Origin": base,
            "X-Request-Type": "ajax",
            "X-Requested-With": "XMLHttpRequest",
            "Accept": "application/json, text/javascript, */*; q=0.01",
        }

    def list_request(self, channel: str, page: int, pages: int = 0) -> JsonRequest:
        """Page ``page`` of ``channel``; ``pages`` > 0 (known from page 1) means: ask for the next page
        only after this one is read (incremental paging)."""
        since, until = self.window()
        body = {
            "seDate": [since.isoformat(), until.isoformat()],
            "channelCode": [channel],
            "pageSize": self.page_size,
            "pageNum": page,
        }
        # The site's own pages add a cache-buster; it also keeps each page's URL distinct.
        url = f"{self.host(ANN_HOST)}{LIST_PATH}?random={random.random():.16f}"
        return JsonRequest(
            url, data=body, headers=self.headers(), callback=self.parse_list, errback=self.on_error,
            cb_kwargs={"channel": channel, "page": page, "pages": pages}, dont_filter=True,
        )

    # --- parsing ------------------------------------------------------------------------------
    def parse_list(self, response: Response, channel: str, page: int, pages: int = 0) -> Iterator[Any]:
        try:
            payload = json.loads(response.text)
            rows = payload["data"]
            count = int(payload["announceCount"])
            if not isinstance(rows, list):
                raise TypeError(f"data is {type(rows).__name__}, not a list")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            yield self.failure(response.url, "parse", f"{channel} page {page}: {type(exc).__name__}: {exc}",
                               response.status)
            return
        self.crawler.stats.inc_value("xinpi/szse_ann/pages")
        rows = [r for r in rows if self.wanted(r, channel)]
        ids = [f"szse_ann:{r['id']}" for r in rows if isinstance(r, dict) and r.get("id") and r.get("title")]
        if self.page_is_all_known(ids):
            return  # nothing new here; the list is newest first, so the rest is stored too
        known_here = 0
        for row in rows:
            for out in self.parse_row(row, response):
                known_here += out is _KNOWN
                if out is not _KNOWN:
                    yield out
        if page == 1:
            pages = -(-count // self.page_size)
            cap = self.settings.getint("XINPI_SZSE_MAX_PAGES", 200)
            if pages > cap:
                self.logger.warning("%s: %d pages for %d notices, crawling the first %d", channel, pages,
                                    count, cap)
                pages = cap
            if not known_here:  # a first crawl: every page at once, one broken page costs only itself
                for n in range(2, pages + 1):
                    yield self.list_request(channel, n)
                return
        if pages and page < pages:  # stored notices seen: page on one at a time, each may end it
            yield self.list_request(channel, page + 1, pages)

    def wanted(self, row: Any, channel: str) -> bool:
        """Topic filter for notices of a non-bond channel (malformed rows pass: parse_row records them)."""
        if channel in TOPICAL_CHANNELS or not isinstance(row, dict) or not row.get("title"):
            return True
        return self.on_topic(str(row["title"]), str(row.get("content") or ""))

    def parse_row(self, row: Any, response: Response) -> Iterator[Any]:
        """The notice's document (or its PDF request), a failure, or ``_KNOWN`` if it is stored."""
        if not isinstance(row, dict) or not row.get("id") or not row.get("title"):
            yield self.failure(response.url, "parse", f"announcement row without id/title: {str(row)[:200]}",
                               response.status)
            return
        ann_id = str(row["id"])
        seen: set[str] = self.__dict__.setdefault("_seen_ids", set())
        if ann_id in seen:  # the same notice listed on two channels or shifted across pages
            return
        seen.add(ann_id)
        if self.is_known(f"szse_ann:{ann_id}"):
            yield _KNOWN
            return
        title = str(row["title"]).strip()
        content = str(row.get("content") or "").strip()
        raw_time = str(row.get("publishTime") or "")
        published = parse_publish_time(raw_time)
        if published is None:
            yield self.failure(response.url, "date", f"{ann_id}: unparseable publishTime {raw_time!r}")
        attach = str(row.get("attachPath") or "")
        doc = self.document_defaults(
            doc_id=f"szse_ann:{ann_id}",
            url=f"{self.host(ANN_HOST)}{DETAIL_PATH}?{ann_id}",
            title=title,
            published_at=published,
            published_at_raw=raw_time,
            # The list gives a title and (for bond notices) a summary line; the PDF holds the rest.
            text="\n".join(p for p in (title, content) if p),
            sec_code=_first(row.get("secCode")),
            sec_name=_first(row.get("secName")),
            attachment_url=f"{self.host(PDF_HOST)}/download{attach}" if attach else None,
            extra={
                "ann_id": row.get("annId"),
                "channel_code": row.get("channelCode"),
                "sec_codes": row.get("secCode") or [],
                "sec_names": row.get("secName") or [],
                "bond_type": row.get("bondType"),
                "big_category_id": row.get("bigCategoryId"),
                "small_category_id": row.get("smallCategoryId"),
                "big_industry_code": row.get("bigIndustryCode"),
                "attach_path": attach or None,
                "attach_format": row.get("attachFormat"),
                "attach_size": row.get("attachSize"),
                "content": content,
            },
        )
        if attach and self.settings.getbool("XINPI_SZSE_FETCH_PDF", True) and (
            str(row.get("attachFormat") or "PDF").upper() == "PDF"
        ):
            yield self.pdf_request(doc["attachment_url"], doc)
        else:
            yield DocumentItem(**doc)

