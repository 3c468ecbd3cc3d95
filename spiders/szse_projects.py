"""SZSE bond/ABS project register (bond.szse.cn ``ShowReport`` ``CATALOGID=xmjdxx``, sources.md §3.2).

Why this source: the register is structured ground truth for deals - name, planned scale (亿元),
originator and manager - and its status column (已受理 → 通过 → 注册生效 …) dates each step.

How: page ``xmjdxx`` per category (``zqlb``); the first page's ``metadata.pagecount`` schedules the
other pages at once, so a broken page loses only its own rows. Each row's ``zqmc`` is an ``<a>``
whose ``a-param`` carries the 32-hex ``xmbh``; the ``xmjdxx_xq`` detail for that id gives the issuer
(``fxr``) and the manager's full name (``cxsqc``). When the detail fails the row is still yielded,
with the list's manager short name and no issuer, next to a recorded failure: a project is never
lost because its detail page was. The register shows the *current* status only; every crawl yields
one :class:`ProjectItem` per project in that status, so a status change shows up as a new row.

Incremental: a row whose (project id, status) is already stored is not yielded again and costs no
detail request; a page of such rows ends the paging (the emulated register, like the site's own table,
lists the latest status change first). Once a page has shown stored rows the remaining pages are asked
for one at a time; a first crawl asks for them all at once. The register is topical by itself, so it
is not topic-filtered.

Settings:
``XINPI_SZSE_PROJECT_CATEGORIES`` (list of zqlb codes, default ``[""]``: one query without ``zqlb``,
i.e. every category, as the site's own "全部" view; ``zqlb`` is a filter and sources.md §3.2 lists it
among the optional ones. ``["2", "0", "1", "3"]`` asks per category (ABS, 小公募, 私募, 大公募; names in
``data/szse_codes.json``), at one listing request per category even on a quiet night).
``XINPI_SZSE_PROJECT_STATUSES`` (list, default empty = all): ``selectXmzt`` filter.
``XINPI_SZSE_PROJECT_KEYWORD`` (str, default empty): ``txtZqmc`` name filter.
``XINPI_SZSE_PROJECT_PAGE_SIZE`` (int, default 20): rows per register page.
``XINPI_SZSE_PROJECT_MAX_PAGES`` (int, default 500): cap on pages per category.
``XINPI_SZSE_PROJECT_REFERER_PATH`` (str, default ``/disclosure/progressinfo/index.html``): page
on bond.szse.cn sent as Referer (the API refuses other referers).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal, InvalidOperation
from functools import cache
from html import unescape
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from scrapy import Request
from scrapy.http import Response
from twisted.python.failure import Failure

from xinpi.items import FailureItem, ProjectItem
from xinpi.spiders.base import XinpiSpider
from xinpi.spiders.szse_ann import settings_list
from xinpi.state import known_projects

BOND_HOST = "bond.szse.cn"
API_PATH = "/api/report/ShowReport/data"
XMBH = re.compile(r"xmbh=([0-9A-Fa-f]{32})")
A_PARAM = re.compile(r"""a-param\s*=\s*["']([^"']+)["']|href\s*=\s*["']([^"']+)["']""")
TAG = re.compile(r"<[^>]+>")
YI = Decimal(100_000_000)


@cache
def codes() -> dict[str, Any]:
    """Code maps kept as data (``spiders/data/szse_codes.json``)."""
    text = resources.files("xinpi.spiders").joinpath("data", "szse_codes.json").read_text("utf-8")
    return json.loads(text)


def html_text(value: Any) -> str:
    """Visible text of a register cell: tags dropped, entities decoded, whitespace squeezed."""
    return re.sub(r"\s+", " ", unescape(TAG.sub("", str(value or "")))).strip()


def scale_yuan(text: str) -> Decimal | None:
    """``nfxje`` is 亿元 as a string; ``""``/``"-"``/junk -> None, else exact yuan."""
    cleaned = text.replace(",", "").strip()
    if not cleaned or cleaned in {"-", "--", "—"}:
        return None
    try:
        value = Decimal(cleaned) * YI
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0:
        return None
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def parse_date(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text or "").strip()[:10])
    except ValueError:
        return None


class SzseProjectsSpider(XinpiSpider):
    name = "szse_projects"
    kind = "project"
    topic_filtered = False  # a register of bond/ABS projects is on topic by definition

    async def start(self) -> AsyncIterator[Request]:
        for zqlb in self.categories():
            yield self.list_request(zqlb, 1)

    def categories(self) -> list[str]:
        value = self.settings.get("XINPI_SZSE_PROJECT_CATEGORIES")
        if isinstance(value, list | tuple) and not value:
            return [""]
        return settings_list(value, [""]) or [""]

    # --- requests -----------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        path = self.settings.get("XINPI_SZSE_PROJECT_REFERER_PATH") or "/disclosure/progressinfo/index.html"
        return {
            "Referer": self.host(BOND_HOST) + path,
            "X-Requested-With": "XMLHttpRequest",
            "Accept": "application/json, text/javascript, */*; q=0.01",
        }

    @property
    def page_size(self) -> int:
        return max(1, self.settings.getint("XINPI_SZSE_PROJECT_PAGE_SIZE", 20))

    def api_url(self, params: dict[str, Any]) -> str:
        query = {"SHOWTYPE": "JSON", "TABKEY": "tab1", **params}
        return f"{self.host(BOND_HOST)}{API_PATH}?{urlencode(query)}"

    def list_request(self, zqlb: str, page: int, pages: int = 0) -> Request:
        """Page ``page`` of category ``zqlb`` ("" = all); ``pages`` > 0 means: ask for the next page
        only after this one is read (incremental paging)."""
        params: dict[str, Any] = {"CATALOGID": "xmjdxx", "PAGENO": page, "pageSize": self.page_size}
        if zqlb:
            params["zqlb"] = zqlb
        statuses = settings_list(self.settings.get("XINPI_SZSE_PROJECT_STATUSES"), [])
        if statuses:
            params["selectXmzt"] = ",".join(statuses)
        keyword = self.settings.get("XINPI_SZSE_PROJECT_KEYWORD")
        if keyword:
            params["txtZqmc"] = keyword
        return Request(
            self.api_url(params), headers=self.headers(), callback=self.parse_list, errback=self.on_error,
            cb_kwargs={"zqlb": zqlb, "page": page, "pages": pages},
            priority=1,  # list pages before details: every page is asked for even if the crawl is cut short
        )

    # --- parsing ------------------------------------------------------------------------------
    def _tab1(self, response: Response, what: str) -> dict[str, Any] | FailureItem:
        """The report's first tab (``[{"metadata":…, "data":[…]}]``) or the failure to yield."""
        try:
            payload = json.loads(response.text)
            tab = payload[0] if isinstance(payload, list) else payload
            if not isinstance(tab, dict) or not isinstance(tab.get("data"), list):
                raise TypeError("no tab with a data list")
            return tab
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            error = f"{what}: {type(exc).__name__}: {exc}"
            return self.failure(response.url, "parse", error, response.status)

    # --- incremental ------------------------------------------------------------------------------
    def known(self) -> set[tuple[str, str]]:
        """(project id, status) pairs stored by earlier crawls; empty under ``refresh=1``."""
        if not self.incremental:
            return set()
        if getattr(self, "_known_projects", None) is None:
            self._known_projects = known_projects(self.data_dir, "szse")
        return self._known_projects

    @staticmethod
    def row_key(row: Any) -> tuple[str, str] | None:
        """(xmbh, status text) of a register row; None if the row has no project id."""
        if not isinstance(row, dict):
            return None
        m = XMBH.search(unescape(str(row.get("zqmc") or "")))
        return (m.group(1).upper(), html_text(row.get("xmzt"))) if m else None

    def parse_list(self, response: Response, zqlb: str, page: int, pages: int = 0) -> Iterator[Any]:
        tab = self._tab1(response, f"zqlb={zqlb} page {page}")
        if isinstance(tab, FailureItem):
            yield tab
            return
        self.crawler.stats.inc_value("xinpi/szse_projects/pages")
        known = self.known()
        keys = [k for k in map(self.row_key, tab["data"]) if k is not None]
        if known and keys and all(k in known for k in keys):
            self.crawler.stats.inc_value("xinpi/incremental/known_skipped", len(keys))
            self.crawler.stats.inc_value("xinpi/incremental/stopped_paging")
            return  # every row here is stored in its current status; later pages changed earlier
        known_here = 0
        for row in tab["data"]:
            if self.row_key(row) in known:
                known_here += 1
                continue
            yield from self.follow_row(row, zqlb, response)
        if known_here:
            self.crawler.stats.inc_value("xinpi/incremental/known_skipped", known_here)
        if page == 1:
            try:
                pages = int((tab.get("metadata") or {}).get("pagecount") or 1)
            except (TypeError, ValueError):
                pages = 1
            cap = self.settings.getint("XINPI_SZSE_PROJECT_MAX_PAGES", 500)
            if pages > cap:
                self.logger.warning("zqlb=%s: %d register pages, crawling the first %d", zqlb, pages, cap)
                pages = cap
            if not known_here:  # a first crawl: every page at once, one broken page costs only itself
                for n in range(2, pages + 1):
                    yield self.list_request(zqlb, n)
                return
        if pages and page < pages:  # stored rows seen: page on one at a time, each may end it
            yield self.list_request(zqlb, page + 1, pages)

    def follow_row(self, row: Any, zqlb: str, response: Response) -> Iterator[Any]:
        zqmc = str(row.get("zqmc") or "") if isinstance(row, dict) else ""
        m = XMBH.search(unescape(zqmc))
        if not m:
            yield self.failure(response.url, "parse", f"register row without xmbh: {str(row)[:200]}",
                               response.status)
            return
        xmbh = m.group(1).upper()
        link = A_PARAM.search(zqmc)
        href = unescape(next(g for g in link.groups() if g)) if link else ""
        if href.startswith("/"):
            page_url = self.host(BOND_HOST) + href
        elif href.startswith("http"):
            page_url = href
        else:
            page_url = f"{self.host(BOND_HOST)}/disclosure/progressinfo/detail/index.html?xmbh={xmbh}&type=2"
        item = self.project_from_row(row, xmbh, zqlb, page_url)
        detail = self.api_url({"CATALOGID": "xmjdxx_xq", "xmbh": xmbh, "type": 2})
        yield Request(
            detail, headers=self.headers(), callback=self.parse_detail, errback=self.detail_failed,
            cb_kwargs={"item": item}, meta={"xinpi_item": item},
        )

    def project_from_row(self, row: dict[str, Any], xmbh: str, zqlb: str, page_url: str) -> ProjectItem:
        scale_text = html_text(row.get("nfxje"))
        type_text = html_text(row.get("zqlb")) or codes()["zqlb"].get(zqlb, zqlb)
        # without a zqlb filter the code comes from the row's category text (ABS -> "2")
        zqlb = zqlb or next((c for c, name in codes()["zqlb"].items() if name == type_text), "")
        return ProjectItem(
            register="szse",
            project_id=xmbh,
            name=html_text(row.get("zqmc")),
            type=type_text,
            planned_scale_yuan=scale_yuan(scale_text),
            planned_scale_text=scale_text or None,
            issuer=None,
            manager=html_text(row.get("cxsjc")) or None,
            status=html_text(row.get("xmzt")) or None,
            status_code=None,
            accepted_date=parse_date(row.get("xmslrq")),
            updated_date=parse_date(row.get("xmztgxrq")),
            url=page_url,
            fetched_at=dt.datetime.now(dt.UTC),
            extra={
                "zqlb_code": zqlb,
                "manager_short": html_text(row.get("cxsjc")) or None,
                "rowid": row.get("rowid"),
                "detail": False,
            },
        )

    def parse_detail(self, response: Response, item: ProjectItem) -> Iterator[Any]:
        tab = self._tab1(response, f"detail {item['project_id']}")
        if isinstance(tab, FailureItem):
            yield tab
            yield item
            return
        rows = [r for r in tab["data"] if isinstance(r, dict)]
        if not rows:
            self.logger.warning("register detail for %s is empty; keeping the list row", item["project_id"])
            yield item
            return
        detail = rows[0]
        item["issuer"] = html_text(detail.get("fxr")) or None
        item["manager"] = html_text(detail.get("cxsqc")) or item["manager"]
        item["extra"] = {**item["extra"], "detail": True, "region": html_text(detail.get("dq")) or None}
        yield item

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        """The detail could not be fetched: record it, and still keep the project from the list."""
        yield from self.on_error(failure)
        request = getattr(failure, "request", None)
        item = request.meta.get("xinpi_item") if request is not None else None
        if item is not None:
            yield item
