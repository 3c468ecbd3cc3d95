"""证券时报网 (www.stcn.com): the JSON article list → article pages.

Types come from the ``XINPI_STCN_TYPES`` setting (default ``["finance"]`` = 金融; ``kx`` 快讯 is the
other one worth adding). One type by default because each type costs a listing request a night even
when nothing is new, and bond/ABS stories land in 金融.
The list ``/article/list.html?type={id}&page={n}`` answers JSON only when the request carries
``X-Requested-With: XMLHttpRequest`` (otherwise an HTML fragment without times), so every list
request sends it; a list that is not JSON is recorded as a parse failure. Items are newest first:
paging stops when a page is empty or its last item is older than the window start.

Every item in the window is read from its article page (author, outlet, tags and the full body live
there). The article's printed time is the publish time; if it is unparseable, the list's epoch time
is used instead (and noted in ``extra``). ``doc_id`` is ``stcn:<id>`` from ``/article/detail/{id}.html``.

Incremental: list items already stored are not fetched again, and a page whose wanted items (in the
window, on topic by title and ``content`` summary; ``-a all=1`` drops the filter) are all stored
ends the paging.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from xinpi.items import DocumentItem
from xinpi.spiders.base import SHANGHAI, XinpiSpider, list_setting
from xinpi.spiders.html_text import clean_line, element_text, parse_local_datetime, soup

HOST = "www.stcn.com"
DEFAULT_TYPES = ["finance"]
_DETAIL_ID = re.compile(r"/article/detail/(\d+)\.html")
_XHR = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json, text/javascript, */*; q=0.01"}


def doc_id_of(url: str) -> str:
    """``stcn:<id>`` from an article URL or a list item's site-relative ``url`` (same id either way)."""
    m = _DETAIL_ID.search(url)
    return f"stcn:{m.group(1) if m else url.rsplit('/', 1)[-1]}"


class StcnSpider(XinpiSpider):
    name = "stcn"
    kind = "news"

    def types(self) -> list[str]:
        return list_setting(self.settings.get("XINPI_STCN_TYPES"), DEFAULT_TYPES)

    async def start(self) -> AsyncIterator[Any]:
        self.window()  # fail fast on a bad since/until
        for type_ in self.types():
            yield self._list_request(type_, 1)

    def _list_request(self, type_: str, page: int) -> scrapy.Request:
        url = f"{self.host(HOST)}/article/list.html?type={type_}&page={page}"
        return scrapy.Request(
            url, headers=_XHR, callback=self.parse_list, errback=self.on_error,
            cb_kwargs={"type_": type_, "page": page},
        )

    def _absolute(self, response: Response, url: str) -> str:
        """Site-relative paths are joined to the host base, which keeps the emulator's /host prefix."""
        if url.startswith("/") and not url.startswith("//"):
            return f"{self.host(HOST)}{url}"
        return response.urljoin(url)

    def parse_list(self, response: Response, type_: str, page: int) -> Iterator[Any]:
        try:
            payload = json.loads(response.text)
            items = payload["data"]
            if not isinstance(items, list):
                raise TypeError(f"data is {type(items).__name__}, not a list")
        except (ValueError, KeyError, TypeError) as exc:
            error = f"list is not the expected JSON: {exc}"
            yield self.failure(response.url, "parse", error, response.status)
            return
        since, until = self.window()
        tail: dt.date | None = None
        wanted: list[tuple[str, dict[str, Any]]] = []
        for item in items:
            if not isinstance(item, dict) or not item.get("url"):
                self.logger.warning("%s: skipping list item without url: %r", response.url, item)
                continue
            listed = self._epoch(item.get("time"))
            tail = listed.date() if listed else tail
            if listed and not since <= listed.date() <= until:
                continue
            if not self.on_topic(clean_line(item.get("title")), clean_line(item.get("content"))):
                continue
            wanted.append((doc_id_of(str(item["url"])), item))
        if self.page_is_all_known([doc_id for doc_id, _ in wanted]):
            return  # nothing new here, and older pages are older still
        for doc_id, item in wanted:
            if self.is_known(doc_id):
                continue
            yield scrapy.Request(
                self._absolute(response, str(item["url"])), callback=self.parse_article,
                errback=self.on_error, cb_kwargs={"type_": type_, "listed": item},
            )
        if items and (tail is None or tail >= since):
            yield self._list_request(type_, page + 1)

    @staticmethod
    def _epoch(value: Any) -> dt.datetime | None:
        try:
            return dt.datetime.fromtimestamp(int(value), SHANGHAI)
        except (TypeError, ValueError, OverflowError, OSError):
            return None

    def parse_article(self, response: Response, type_: str, listed: dict[str, Any]) -> Iterator[Any]:
        url = response.url
        if not response.body.strip():
            yield self.failure(url, "parse", "empty page", response.status)
            return
        tree = soup(response)
        body = element_text(tree.select_one("div.detail-content"))
        if not body:
            yield self.failure(url, "body", "no text in div.detail-content", response.status)
            return
        spans = [clean_line(s.get_text()) for s in tree.select("div.detail-info span")]
        raw_time = spans[-1] if spans else ""
        published = parse_local_datetime(raw_time)
        extra: dict[str, Any] = {"type": type_}
        if published is None:
            published = self._epoch(listed.get("time"))
            if published is None:
                yield self.failure(url, "date", f"unparseable publish time {raw_time!r}", response.status)
                return
            self.logger.warning("%s: page time %r unparseable, using the list time", url, raw_time)
            extra["time_from"] = "list"
            raw_time = str(listed.get("time"))
        since, until = self.window()
        if not since <= published.date() <= until:
            return
        fields: dict[str, str] = {}
        for span in spans:  # "来源：证券日报", "作者：张三"
            label, sep, value = span.partition("：")
            if sep and value.strip():
                fields.setdefault(label.strip(), value.strip())
        tags = [clean_line(d.get_text()) for d in tree.select(".detail-content-tags div")]
        tags = tags or [str(t.get("name")) for t in listed.get("tags") or [] if isinstance(t, dict)]
        keywords_el = tree.select_one('meta[name="keywords"]')
        keywords = str(keywords_el.get("content") or "") if keywords_el else ""
        extra.update(
            tags=[t for t in tags if t],
            keywords=[k.strip() for k in re.split(r"[,，]", keywords) if k.strip()],
        )
        image = (listed.get("share") or {}).get("image") if isinstance(listed.get("share"), dict) else None
        if image:
            extra["image"] = self._absolute(response, str(image))
        title_el = tree.select_one("div.detail-title")
        yield DocumentItem(
            self.document_defaults(
                doc_id=doc_id_of(url),
                url=url,
                title=clean_line(title_el.get_text()) if title_el else clean_line(listed.get("title")),
                published_at=published,
                published_at_raw=raw_time,
                text=body,
                author=fields.get("作者") or None,
                media_name=fields.get("来源") or clean_line(listed.get("source")) or None,
                extra=extra,
            )
        )
