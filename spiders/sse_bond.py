"""SSE bond and ABS announcements: ``query.sse.com.cn/commonSoaQuery.do?sqlId=BS_ZQ_GGLL``.

The exchange's own announcement stream for corporate bonds and asset-backed securities
(sources.md §2.2). By default ONE request chain asks for ABS and corporate bonds together: the
``bondType`` parameter takes a comma list (the site's own page sends
``CORPORATE_BOND_BULLETIN,COMPANY_BOND_BULLETIN``), so a quiet incremental run costs one listing
request. Pages are asked for one after another (newest first), so a page whose bulletins are all
stored already ends the chain (``refresh=1`` re-reads); a stored bulletin's PDF is not fetched
again. The listing is topical by construction: no topic filter. The gateway only answers a
Referer from an SSE page, and it answers refusals and overload with HTTP 200 and an error object
(``{"success":"false","error":"系统繁忙..."}``) instead of data, so every answer is checked for
that shape before it is believed. Relative PDF paths are joined to ``www.sse.com.cn`` (the query
host does not serve them, a known bug in other crawlers).

The helpers at the top (:func:`parse_jsonp`, :func:`rows_of`, :func:`check_page`,
:class:`SseGatewayMixin`) are shared with :mod:`xinpi.spiders.sse_projects`.

Settings (all optional):

* ``XINPI_SSE_BOND_TYPES``: the ``bondType`` lists to read, one request chain each (a list, JSON
  list or ``;``-separated string; an element may itself be a comma list). Default: one list, ABS
  (``CORPORATE_ASSET_BOND_BULLETIN``) plus corporate bonds
  (``CORPORATE_BOND_BULLETIN,COMPANY_BOND_BULLETIN``).
* ``XINPI_SSE_PAGE_SIZE`` (25): rows per page. ``XINPI_SSE_MAX_PAGES`` (200): pages per list, at most.
* ``XINPI_SSE_REFERER``: the Referer sent to the gateway; default the bond-disclosure page on
  ``bond.sse.com.cn``. (Tests set a foreign one to see the refusal.)
* ``XINPI_SSE_ANSWER_RETRIES`` (1): how often a 200 answer that is an error object or broken JSON
  is asked for again before it becomes a failure (HTTP errors use Scrapy's ``RETRY_TIMES``).
* ``XINPI_SSE_FETCH_PDF`` (True): download each PDF for the text; off, the title is the text.
* ``XINPI_SSE_PDF_HOST`` (``www.sse.com.cn``): host the relative PDF paths are joined to
  (``static.sse.com.cn`` serves the same paths).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response
from twisted.python.failure import Failure

from xinpi.items import DocumentItem, FailureItem
from xinpi.spiders.base import SHANGHAI, XinpiSpider, list_setting
from xinpi.spiders.pdf import PdfError, extract_pdf_text

#: One comma list, one request chain: ABS, then the two corporate-bond types the site groups.
DEFAULT_BOND_TYPES = ["CORPORATE_ASSET_BOND_BULLETIN,CORPORATE_BOND_BULLETIN,COMPANY_BOND_BULLETIN"]
ORDER = "sseDate|desc,securityCode|asc,bulletinId|asc"


class GatewayError(ValueError):
    """The gateway answered, but not with data (error object, broken JSON, missing pageHelp)."""


def parse_jsonp(text: str) -> Any:
    """JSON from a JSON or JSONP body: ``cb({...});`` is cut to the outermost parentheses."""
    body = text.lstrip("\ufeff").strip()
    if body.endswith(";"):
        body = body[:-1].rstrip()
    if body and body[0] not in "{[":
        start, end = body.find("("), body.rfind(")")
        if start < 0 or end < start:
            raise GatewayError(f"neither JSON nor JSONP: {body[:60]!r}")
        body = body[start + 1 : end]
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise GatewayError(f"broken JSON ({exc.msg} at {exc.pos} of {len(body)}): {body[:60]!r}") from None


def check_page(obj: Any) -> dict[str, Any]:
    """The answer as a page object, or :class:`GatewayError` for the error shapes the site sends."""
    if not isinstance(obj, dict):
        raise GatewayError(f"expected an object, got {type(obj).__name__}")
    if str(obj.get("success", "")).lower() == "false" or "errorType" in obj:
        raise GatewayError(f"error object: {obj.get('error')!s} ({obj.get('errorType')!s})")
    if not isinstance(obj.get("pageHelp"), dict):
        raise GatewayError("no pageHelp in the answer")
    return obj


def rows_of(page: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows from ``result`` or else ``pageHelp.data``, flattening a list of lists one level."""
    raw = page.get("result") or page["pageHelp"].get("data") or []
    rows: list[dict[str, Any]] = []
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, list):
            rows.extend(r for r in entry if isinstance(r, dict))
        elif isinstance(entry, dict):
            rows.append(entry)
    return rows


def page_count(page: dict[str, Any]) -> int:
    """Pages in the result set, from ``pageCount`` or else ``total``/``pageSize``."""
    helper = page["pageHelp"]
    try:
        count = int(helper.get("pageCount") or 0)
        if not count and helper.get("total"):
            size = int(helper.get("pageSize") or 1)
            count = -(-int(helper["total"]) // size)
        return count
    except (TypeError, ValueError):
        return 1


class SseGatewayMixin:
    """Request building and answer checking for the ``commonSoaQuery.do`` gateway."""

    #: (setting, default) for rows per page: the bond page asks 25, the register page 100-200.
    page_size_setting: tuple[str, int] = ("XINPI_SSE_PAGE_SIZE", 25)

    def referer(self: Any) -> str:
        """``XINPI_SSE_REFERER``, or the bond-disclosure page on the configured host."""
        page = f"{self.host('bond.sse.com.cn')}/disclosure/announ/ltb"
        return self.settings.get("XINPI_SSE_REFERER") or page

    def gateway_request(
        self: Any, params: dict[str, Any], page_no: int, callback: Callable[..., Any], **meta: Any
    ) -> scrapy.Request:
        size = self.settings.getint(*self.page_size_setting)
        query = {
            "jsonCallBack": f"jsonpCallback{int(time.time() * 1000) % 10**8}",
            "isPagination": "true",
            **params,
            "pageHelp.pageSize": size,
            "pageHelp.pageNo": page_no,
            "pageHelp.beginPage": page_no,
            "pageHelp.endPage": page_no,
            "pageHelp.cacheSize": 1,
            "_": int(time.time() * 1000),
        }
        return scrapy.Request(
            f"{self.host('query.sse.com.cn')}/commonSoaQuery.do?{urlencode(query)}",
            headers={"Referer": self.referer(), "Accept": "*/*"},
            callback=callback,
            errback=self.on_error,
            meta={"page_no": page_no, "params": params, **meta},
            dont_filter=True,
        )

    def read_page(self: Any, response: Response) -> Iterator[dict[str, Any] | scrapy.Request | FailureItem]:
        """Yield the checked page object; a bad answer is retried a few times, then recorded."""
        try:
            yield check_page(parse_jsonp(response.text))
        except (GatewayError, AttributeError, UnicodeDecodeError) as exc:
            retry = get_retry_request(
                response.request,
                spider=self,
                reason="sse gateway: bad answer",
                max_retry_times=self.settings.getint("XINPI_SSE_ANSWER_RETRIES", 1),
            )
            if retry is not None:
                yield retry
            else:
                stage = "fetch" if "error object" in str(exc) else "parse"
                yield self.failure(response.url, stage, str(exc), response.status)

    def next_page(self: Any, response: Response, page: dict[str, Any],
                  callback: Callable[..., Any]) -> Iterator[scrapy.Request]:
        """The request for the page after this one, if any (capped by ``XINPI_SSE_MAX_PAGES``).

        One page at a time, not all at once: the caller decides from each page whether the rest is
        worth reading (an incremental crawl stops at a page of stored rows).
        """
        page_no = response.meta["page_no"]
        last = page_count(page)
        cap = self.settings.getint("XINPI_SSE_MAX_PAGES", 200)
        if page_no == 1 and last > cap:
            self.logger.warning("%s: %d pages, reading only the first %d", response.url, last, cap)
            self.crawler.stats.inc_value("xinpi/sse/pages_capped")
        if page_no < min(last, cap):
            total = response.meta.get("total", page["pageHelp"].get("total"))
            yield self.gateway_request(response.meta["params"], page_no + 1, callback, total=total)

    def check_total(self: Any, response: Response, page: dict[str, Any]) -> None:
        """The result set moved while we paged (new rows push old ones across page borders)."""
        first = response.meta.get("total")
        if first is not None and first != page["pageHelp"].get("total"):
            self.logger.warning("%s: total changed from %s to %s while paging", response.url, first,
                                page["pageHelp"].get("total"))
            self.crawler.stats.inc_value("xinpi/sse/total_changed")


def bulletin_id_of(row: dict[str, Any]) -> str:
    """The row's id: ``bulletinId``, else ``orgBulletinId``, else its PDF path ("" if none)."""
    return str(row.get("bulletinId") or row.get("orgBulletinId") or row.get("url") or "").strip()


def setting_list(settings: Any, name: str, default: list[str]) -> list[str]:
    """A list setting; from ``-s`` its values are ``;``-separated (bondType values hold commas)."""
    return list_setting(settings.get(name), default, sep=";")


class SseBondSpider(SseGatewayMixin, XinpiSpider):
    """Bond and ABS announcements in the crawl window, one document per ``bulletinId``."""

    name = "sse_bond"
    kind = "announcement"
    topic_filtered = False  # the bondType lists are the topic

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: set[str] = set()  # bulletinIds already yielded: rows shift across pages

    async def start(self) -> Any:
        since, until = self.window()
        for bond_type in setting_list(self.settings, "XINPI_SSE_BOND_TYPES", DEFAULT_BOND_TYPES):
            params = {
                "sqlId": "BS_ZQ_GGLL",
                "type": "inParams",
                "sseDate": f"{since.isoformat()} 00:00:00",
                "sseDateEnd": f"{until.isoformat()} 23:59:59",
                "securityCode": "",
                "title": "",
                "orgBulletinType": "",
                "bondType": bond_type,
                "order": ORDER,
            }
            yield self.gateway_request(params, 1, self.parse)

    def parse(self, response: Response) -> Iterator[Any]:
        for page in self.read_page(response):
            if not isinstance(page, dict):
                yield page
                continue
            self.check_total(response, page)
            rows = rows_of(page)
            ids = [f"{self.name}:{b}" for b in map(bulletin_id_of, rows) if b]
            if self.page_is_all_known(ids):  # its rows are skipped (and counted) in parse_row
                self.logger.info("%s: every bulletin stored already, no further pages", response.url)
            else:
                yield from self.next_page(response, page, self.parse)
            for row in rows:
                yield from self.parse_row(row, response)

    def parse_row(self, row: dict[str, Any], response: Response) -> Iterator[Any]:
        bulletin_id = bulletin_id_of(row)
        if not bulletin_id:
            yield self.failure(response.url, "parse", f"row without bulletinId/url: {str(row)[:120]}", 200)
            return
        if bulletin_id in self.seen:
            self.crawler.stats.inc_value("xinpi/sse/duplicate_rows")
            return
        self.seen.add(bulletin_id)
        if self.is_known(f"{self.name}:{bulletin_id}"):
            return
        raw_date = str(row.get("sseDate") or "").strip()
        published = self.parse_date(raw_date)
        if published is None:
            yield self.failure(response.url, "date", f"bulletin {bulletin_id}: bad sseDate {raw_date!r}", 200)
        else:
            since, until = self.window()
            if not since <= published.date() <= until:  # the gateway ignored our window
                self.crawler.stats.inc_value("xinpi/sse/outside_window")
                return
        path = str(row.get("url") or "").strip()
        attachment = self.pdf_url(path) if path else None
        title = str(row.get("title") or "").strip()
        doc = DocumentItem(**self.document_defaults(
            doc_id=f"{self.name}:{bulletin_id}",
            url=attachment or response.url,
            title=title,
            published_at=published,
            published_at_raw=raw_date,
            text=title,
            sec_code=str(row.get("securityCode") or "").strip() or None,
            sec_name=str(row.get("securityAbbr") or "").strip() or None,
            attachment_url=attachment,
            extra={k: row.get(k) for k in (
                "bondType", "bulletinType", "bulletinHeading", "orgBulletinType", "orgBulletinTypeDesc",
                "orgBulletinId", "orgFileType", "bulletinYear", "createTime", "fileName",
            ) if row.get(k) not in (None, "")},
        ))
        if attachment and self.settings.getbool("XINPI_SSE_FETCH_PDF", True):
            # dont_filter: one PDF often serves several rows (one per tranche code); a filtered
            # duplicate request would silently drop the second row's document
            yield scrapy.Request(attachment, callback=self.parse_pdf, errback=self.pdf_failed,
                                 cb_kwargs={"doc": doc}, headers={"Referer": self.referer()},
                                 dont_filter=True)
        else:
            yield doc

    def pdf_url(self, path: str) -> str:
        """An absolute PDF URL on the static host (``XINPI_SSE_PDF_HOST``), never the query host."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.host(self.settings.get('XINPI_SSE_PDF_HOST') or 'www.sse.com.cn')}/{path.lstrip('/')}"

    @staticmethod
    def parse_date(raw: str) -> dt.datetime | None:
        """``sseDate`` (``YYYY-MM-DD``, sometimes with a time) as Beijing time."""
        for fmt, width in (("%Y-%m-%d %H:%M:%S", 19), ("%Y-%m-%d", 10)):
            try:
                return dt.datetime.strptime(raw[:width], fmt).replace(tzinfo=SHANGHAI)
            except ValueError:
                continue
        return None

    def parse_pdf(self, response: Response, doc: DocumentItem) -> Iterator[Any]:
        """The PDF's text becomes the document's text; an unreadable PDF leaves the title there."""
        try:
            doc["text"] = extract_pdf_text(response.body)
        except PdfError as exc:
            yield self.failure(response.url, "pdf", str(exc), response.status)
        yield doc

    def pdf_failed(self, failure: Failure) -> Iterator[DocumentItem | FailureItem]:
        """A PDF that could not be fetched is a recorded failure; the row's title still lands."""
        yield from self.on_error(failure)
        doc = failure.request.cb_kwargs.get("doc") if hasattr(failure, "request") else None
        if doc is not None:
            yield doc

