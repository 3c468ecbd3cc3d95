"""巨潮资讯 cninfo announcements: the hisAnnouncement query API plus the PDF each row points to.

Two ways to ask, because sources.md leaves the better one open:

* **category mode (default)**: ONE query on ``category_gszq_szsh;category_qtrz_szsh`` (公司债 and
  其他融资, where issuer bond and ABS announcements are filed; sources.md §1.3/§7) with no keyword,
  titles kept by the topic filter (:meth:`XinpiSpider.on_topic`, off with ``all=1``). Chosen
  because a quiet incremental run must cost one listing request, and the keyword route cannot do
  that honestly: whether ``searchkey`` ORs or ANDs several terms is in conflict (§1.4: "AND" per
  U27, OR terms per U02), so a combined ``资产支持 专项计划 公司债`` might silently return nothing.
  A category filter is a plain ``;``-joined list the API documents (§1.1).
* **keyword mode**: ``searchkey`` (argument, or the ``XINPI_CNINFO_SEARCHKEYS`` setting;
  ``;``-joined) runs one query per keyword, as before; ``category`` narrows them if given. An empty
  ``searchkey`` asks every announcement in one query (topic filter applies, as for category mode).

Each query is paged through the date window. The API answers at most ~100 pages of 30 rows
(pageNum >= 101 silently repeats page 1), so a window with more rows than that is re-asked month by
month, then day by day. Rows found by several keywords are yielded once. Each row's PDF is
downloaded (size-capped) and its text extracted; a PDF that cannot be read is a recorded failure
while the announcement is still yielded with its listing metadata and the title as text.

Incremental (base class): a row already stored is not fetched again (no PDF request), and a page
whose (on-topic) rows are all stored ends that query, before any slicing; ``refresh=1`` re-reads.

Arguments: ``since``/``until``/``refresh``/``all`` (base class), ``searchkey``, ``category``
(``;``-joined codes; default ``DEFAULT_CATEGORY`` in category mode, none in keyword mode),
``column`` (default ``szse``).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response

from xinpi.extractors.dates import from_epoch_ms
from xinpi.items import DocumentItem
from xinpi.spiders.base import XinpiSpider

#: Keywords worth asking for in keyword mode (``-a searchkey=资产支持;专项计划;公司债``).
DEFAULT_SEARCHKEYS = "资产支持;专项计划;公司债"
#: 公司债 + 其他融资: the categories bond and ABS announcements are filed under (sources.md §1.3).
DEFAULT_CATEGORY = "category_gszq_szsh;category_qtrz_szsh"
QUERY_PATH = "/new/hisAnnouncement/query"
_EM = re.compile(r"</?em>", re.IGNORECASE)


def clean_title(title: str | None) -> str:
    """Title without the ``<em>`` highlighting isHLtitle adds, entities decoded."""
    return html.unescape(_EM.sub("", title or "")).strip()


def month_slices(since: dt.date, until: dt.date) -> list[tuple[dt.date, dt.date]]:
    """[since, until] cut at calendar-month boundaries."""
    out, start = [], since
    while start <= until:
        next_month = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        end = min(until, next_month - dt.timedelta(days=1))
        out.append((start, end))
        start = end + dt.timedelta(days=1)
    return out


def day_slices(since: dt.date, until: dt.date) -> list[tuple[dt.date, dt.date]]:
    return [(d, d) for d in (since + dt.timedelta(days=i) for i in range((until - since).days + 1))]


class CninfoSpider(XinpiSpider):
    name = "cninfo"
    kind = "announcement"
    searchkey: str | None = None
    category: str | None = None
    column: str = "szse"

    # --- configuration --------------------------------------------------------------------------
    @property
    def keyword_mode(self) -> bool:
        """A ``searchkey`` argument or ``XINPI_CNINFO_SEARCHKEYS`` setting was given."""
        return self.searchkey is not None or bool(self.settings.get("XINPI_CNINFO_SEARCHKEYS"))

    def searchkeys(self) -> list[str]:
        """Keywords to query, one query each; [""] means one query without a keyword."""
        if not self.keyword_mode:
            return [""]
        raw: Any = self.searchkey
        if raw is None:
            raw = self.settings.get("XINPI_CNINFO_SEARCHKEYS")
        keys = raw if isinstance(raw, list | tuple) else str(raw).split(";")
        keys = [k.strip() for k in keys if k and k.strip()]
        return list(dict.fromkeys(keys)) or [""]

    def categories(self) -> str:
        """The ``category`` form value: the argument, else the bond categories in category mode."""
        if self.category is not None:
            return self.category
        return "" if self.keyword_mode else DEFAULT_CATEGORY

    @property
    def page_size(self) -> int:
        return self.settings.getint("XINPI_CNINFO_PAGE_SIZE", 30)

    @property
    def max_pages(self) -> int:
        """Pages the API really serves per query; past it the real site repeats page 1."""
        return self.settings.getint("XINPI_CNINFO_MAX_PAGES", 100)

    # --- requests -------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        self._seen: set[str] = set()
        since, until = self.window()
        for key in self.searchkeys():
            yield self.query(key, since, until, page=1)

    def query(self, key: str, since: dt.date, until: dt.date, page: int) -> scrapy.FormRequest:
        base = self.host("www.cninfo.com.cn")
        form = {
            "pageNum": str(page),
            "pageSize": str(self.page_size),
            "column": self.column,
            "tabName": "fulltext",
            "plate": "",
            "stock": "",
            "searchkey": key,
            "secid": "",
            "category": self.categories(),
            "trade": "",
            "seDate": f"{since.isoformat()}~{until.isoformat()}",
            "sortName": "time",
            "sortType": "desc",
            "isHLtitle": "true",
        }
        return scrapy.FormRequest(
            base + QUERY_PATH,
            formdata=form,
            headers={
                "Referer": f"{base}/new/commonUrl/pageOfSearch?url=disclosure/list/search",
                "X-Requested-With": "XMLHttpRequest",
                "Accept": "application/json, text/javascript, */*; q=0.01",
            },
            callback=self.parse_page,
            errback=self.on_error,
            meta={"cninfo": {"key": key, "since": since, "until": until, "page": page}},
        )

    @staticmethod
    def describe(url: str, q: dict[str, Any]) -> str:
        """A URL that names one query page (the POST URL alone is the same for all of them)."""
        se_date = f"{q['since']}~{q['until']}"
        return f"{url}?{urlencode({'searchkey': q['key'], 'seDate': se_date, 'pageNum': q['page']})}"

    # --- listing --------------------------------------------------------------------------------
    def parse_page(self, response: Response) -> Iterator[Any]:
        q = response.meta["cninfo"]
        where = self.describe(response.url, q)
        try:
            data = json.loads(response.body)
            if not isinstance(data, dict):
                raise ValueError(f"expected a JSON object, got {type(data).__name__}")
            rows = data.get("announcements") or []
            if not isinstance(rows, list):
                raise ValueError(f"announcements is {type(rows).__name__}")
            total = int(data.get("totalAnnouncement") or 0)
        except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
            retry = get_retry_request(
                response.request, spider=self, reason="unreadable cninfo answer",
                max_retry_times=self.settings.getint("RETRY_TIMES", 2),
            )
            if retry is not None:
                yield retry
            else:
                yield self.failure(where, "parse", f"{type(exc).__name__}: {exc}", response.status)
            return

        # a keyword query is topical already; without one, titles go through the topic filter
        listed: list[tuple[Any, str]] = []
        for row in rows:
            aid = str(row.get("announcementId") or "") if isinstance(row, dict) else ""
            if aid and not q["key"] and not self.on_topic(clean_title(row.get("announcementTitle"))):
                continue
            listed.append((row, aid))
        if self.page_is_all_known([f"cninfo:{aid}" for _, aid in listed if aid]):
            self.logger.info("%s: every row stored already, no further pages", where)
            for row, _ in listed:  # each one is skipped (and counted) there
                yield from self.parse_row(row, where)
            return

        capacity = self.page_size * self.max_pages
        if q["page"] == 1 and total > capacity and q["since"] < q["until"]:
            slices = month_slices(q["since"], q["until"])
            if len(slices) == 1:
                slices = day_slices(q["since"], q["until"])
            self.logger.info(
                "%s: %d rows > %d reachable; asking %d slices", where, total, capacity, len(slices)
            )
            self.crawler.stats.inc_value("xinpi/cninfo/sliced")
            for since, until in slices:
                yield self.query(q["key"], since, until, page=1)
            return
        if q["page"] == 1 and total > capacity:
            self.logger.warning("%s: %d rows on one day, only %d reachable", where, total, capacity)
            self.crawler.stats.inc_value("xinpi/cninfo/capped")

        for row, _ in listed:
            yield from self.parse_row(row, where)
        if data.get("hasMore") and rows and q["page"] < self.max_pages:
            yield self.query(q["key"], q["since"], q["until"], q["page"] + 1)

    def parse_row(self, row: Any, where: str) -> Iterator[Any]:
        aid = str(row.get("announcementId") or "") if isinstance(row, dict) else ""
        if not aid:
            yield self.failure(where, "parse", f"row without announcementId: {str(row)[:200]}")
            return
        if aid in self._seen:
            self.crawler.stats.inc_value("xinpi/cninfo/duplicate_rows")
            return
        self._seen.add(aid)
        if self.is_known(f"cninfo:{aid}"):
            return
        www = self.host("www.cninfo.com.cn")
        raw_time = row.get("announcementTime")
        try:
            published: dt.datetime | None = from_epoch_ms(raw_time)
        except (TypeError, ValueError, OverflowError, OSError):
            published = None
            yield self.failure(f"{where}#{aid}", "date", f"bad announcementTime {raw_time!r}")
        adjunct = (row.get("adjunctUrl") or "").lstrip("/")
        day = published.date().isoformat() if published else _folder_date(adjunct)
        title = clean_title(row.get("announcementTitle"))
        detail = f"{www}/new/disclosure/detail?" + urlencode(
            {"stockCode": row.get("secCode") or "", "announcementId": aid,
             "orgId": row.get("orgId") or "", "announcementTime": day}
        )
        attachment = f"{self.host('static.cninfo.com.cn')}/{adjunct}" if adjunct else None
        doc = self.document_defaults(
            doc_id=f"cninfo:{aid}",
            url=detail,
            title=title,
            published_at=published,
            published_at_raw=str(raw_time),
            text=title,
            sec_code=row.get("secCode"),
            sec_name=row.get("secName"),
            attachment_url=attachment,
            extra={
                k: row.get(k)
                for k in ("orgId", "adjunctSize", "adjunctType", "columnId", "pageColumn", "announcementType")
            },
        )
        if attachment and (row.get("adjunctType") or "PDF").upper() == "PDF":
            yield self.pdf_request(attachment, doc)
        else:
            yield DocumentItem(**doc)



def _folder_date(adjunct_url: str) -> str:
    m = re.search(r"\d{4}-\d{2}-\d{2}", adjunct_url)
    return m.group(0) if m else ""
