"""SSE bond/ABS project register: ``commonSoaQuery.do?sqlId=ZQ_XMLB`` (bond.sse.com.cn 项目信息).

The register is the structured ground truth for deals: name (``AUDIT_NAME``), planned scale in 亿元
(``PLAN_ISSUE_AMOUNT``), originator/issuer (``FULL_NAME``) and manager (``WRITER_NAME``), with the
review status (sources.md §2.3). It has no date parameter and lists each project once in its
current status, newest status first; the crawl keeps the rows whose status date (``PUBLISH_DATE``,
else ``ACCEPT_DATE``) falls in the crawl window: run after run, each status change lands as its own
:class:`~xinpi.items.ProjectItem`. Code-to-label maps live in ``data/sse_codes.json``.

By default ONE request chain reads the register without a ``BOND_TYPE`` filter: sources.md §2.2
lists only ``key``/``area`` for ``ZQ_XMLB`` (``bond_type`` belongs to the older sqlId), and the
unfiltered list holds ABS, bonds and REITs alike, all of them deals. Pages are read one after
another; a page whose (project, status) pairs are all stored already ends the chain, and stored
pairs are not yielded again (``refresh=1`` re-reads everything), so a quiet run costs one request.
The register is topical by construction: no topic filter.

Settings (besides the gateway ones described in :mod:`xinpi.spiders.sse_bond`):

* ``XINPI_SSE_PROJECT_TYPES``: ``BOND_TYPE`` codes to read, one chain each (e.g. ``2`` ABS, ``0``,
  ``1``, ``3`` 小公募/私募/大公募, ``4`` REITs); default none: one unfiltered chain.
* ``XINPI_SSE_PROJECT_PAGE_SIZE`` (100): rows per page (the site's own page asks 100-200).
* ``XINPI_SSE_PROJECTS_IN_WINDOW`` (True): keep only rows whose status date is in the window;
  False yields the whole register as it stands (a one-off backfill).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from scrapy.http import Response

from xinpi.items import ProjectItem
from xinpi.spiders.base import XinpiSpider
from xinpi.spiders.sse_bond import SseGatewayMixin, rows_of, setting_list
from xinpi.state import known_projects

DEFAULT_PROJECT_TYPES: list[str] = []  # no BOND_TYPE filter: one chain over the whole register
YI = Decimal(100_000_000)


@cache
def codes() -> dict[str, dict[str, str]]:
    """The SSE register's code tables (BOND_TYPE, AUDIT_STATUS, AUDIT_SUB_STATUS)."""
    text = resources.files("xinpi.spiders").joinpath("data", "sse_codes.json").read_text("utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


def scale_yuan(text: str | None) -> Decimal | None:
    """``PLAN_ISSUE_AMOUNT`` (亿元, as a string) in yuan; ``-``, empty or junk give None."""
    value = (text or "").strip().replace(",", "")
    if value in ("", "-", "--"):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    yuan = amount * YI
    return yuan.quantize(Decimal(1)) if yuan == yuan.to_integral_value() else yuan


def register_date(value: Any) -> dt.date | None:
    """``YYYY-MM-DD``, ``-``, or the ``{"time": ms}`` object some answers carry (U10)."""
    if isinstance(value, dict) and "time" in value:
        try:
            return dt.datetime.fromtimestamp(int(value["time"]) / 1000, dt.UTC).astimezone(
                dt.timezone(dt.timedelta(hours=8))).date()
        except (TypeError, ValueError, OverflowError):
            return None
    text = str(value or "").strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def status_label(row: dict[str, Any]) -> str | None:
    """The status as stored (the code's label, else the code; None without one)."""
    code = str(row.get("AUDIT_STATUS") or "").strip()
    return codes()["audit_status"].get(code, code or None)


class SseProjectsSpider(SseGatewayMixin, XinpiSpider):
    """Register rows whose status changed (or were accepted) in the crawl window."""

    name = "sse_projects"
    kind = "project"
    topic_filtered = False  # a register of deals
    page_size_setting = ("XINPI_SSE_PROJECT_PAGE_SIZE", 100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: set[tuple[str, str, str]] = set()  # (BOND_NUM, AUDIT_STATUS, date) already yielded

    def referer(self) -> str:
        return self.settings.get("XINPI_SSE_REFERER") or f"{self.host('bond.sse.com.cn')}/bridge/information/"

    async def start(self) -> Any:
        self.window()  # a bad since/until fails here, before any request
        types = setting_list(self.settings, "XINPI_SSE_PROJECT_TYPES", DEFAULT_PROJECT_TYPES)
        for bond_type in types or [None]:
            params = {"sqlId": "ZQ_XMLB", "key": ""}
            if bond_type is not None:
                params["BOND_TYPE"] = bond_type
            yield self.gateway_request(params, 1, self.parse)

    # --- incremental: (project_id, status) pairs stored already --------------------------------
    def pair_is_known(self, pair: tuple[str, str | None]) -> bool:
        """True if this project is stored in this status and the crawl is incremental: skip it."""
        if self._pair_stored(pair):
            self.crawler.stats.inc_value("xinpi/incremental/known_skipped")
            return True
        return False

    def _pair_stored(self, pair: tuple[str, str | None]) -> bool:
        if not self.incremental:
            return False
        if getattr(self, "_known_pairs", None) is None:
            self._known_pairs = known_projects(self.data_dir, "sse")
        return (pair[0], str(pair[1])) in self._known_pairs

    def wanted(self, row: dict[str, Any]) -> bool:
        """Whether the row's status date is one this crawl keeps (the window, unless switched off)."""
        if not self.settings.getbool("XINPI_SSE_PROJECTS_IN_WINDOW", True):
            return True
        day = register_date(row.get("PUBLISH_DATE")) or register_date(row.get("ACCEPT_DATE"))
        since, until = self.window()
        return day is not None and since <= day <= until

    def page_pairs(self, rows: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
        return [(str(r.get("BOND_NUM") or "").strip(), status_label(r)) for r in rows
                if str(r.get("BOND_NUM") or "").strip() and self.wanted(r)]

    def parse(self, response: Response) -> Iterator[Any]:
        for page in self.read_page(response):
            if not isinstance(page, dict):
                yield page
                continue
            self.check_total(response, page)
            rows = rows_of(page)
            pairs = self.page_pairs(rows)
            if self.incremental and pairs and all(self._pair_stored(p) for p in pairs):
                # its rows are skipped (and counted) in parse_row
                self.crawler.stats.inc_value("xinpi/incremental/stopped_paging")
                self.logger.info("%s: every project stored in its status, no further pages", response.url)
            else:
                yield from self.next_page(response, page, self.parse)
            for row in rows:
                yield from self.parse_row(row, response)

    def parse_row(self, row: dict[str, Any], response: Response) -> Iterator[Any]:
        project_id = str(row.get("BOND_NUM") or "").strip()
        name = str(row.get("AUDIT_NAME") or "").strip()
        if not project_id or not name:
            error = f"register row without BOND_NUM/AUDIT_NAME: {str(row)[:120]}"
            yield self.failure(response.url, "parse", error, 200)
            return
        accepted = register_date(row.get("ACCEPT_DATE"))
        updated = register_date(row.get("PUBLISH_DATE"))
        status_day = updated or accepted
        since, until = self.window()
        if self.settings.getbool("XINPI_SSE_PROJECTS_IN_WINDOW", True) and (
            status_day is None or not since <= status_day <= until
        ):
            self.crawler.stats.inc_value("xinpi/sse/projects_outside_window")
            return
        status_code = str(row.get("AUDIT_STATUS") or "").strip()
        key = (project_id, status_code, str(status_day))
        if key in self.seen:
            return
        self.seen.add(key)
        if self.pair_is_known((project_id, status_label(row))):
            return
        table = codes()
        type_code = str(row.get("BOND_TYPE") or "").strip()
        amount_text = str(row.get("PLAN_ISSUE_AMOUNT") or "").strip()
        sub_status = str(row.get("AUDIT_SUB_STATUS") or "").strip()
        extra = {k: row[k] for k in (
            "BOND_TYPE", "LIST11", "SHORT_NAME", "AUDIT_SUB_STATUS", "AREA", "CSRC_CODE", "WEN_HAO",
            "REG_APRV_WEN_HAO", "SEC_NAME", "REITS_TYPE", "SEQ",
        ) if row.get(k) not in (None, "", "-")}
        if sub_status in table["audit_sub_status"]:
            extra["sub_status"] = table["audit_sub_status"][sub_status]
        if status_code not in table["audit_status"]:
            self.logger.warning("project %s: unknown AUDIT_STATUS %r", project_id, status_code)
        yield ProjectItem(
            register="sse",
            project_id=project_id,
            name=name,
            type=table["bond_type"].get(type_code, type_code or None),
            planned_scale_yuan=scale_yuan(amount_text),
            planned_scale_text=amount_text or None,
            issuer=str(row.get("FULL_NAME") or row.get("LIST1") or "").strip() or None,
            manager=str(row.get("WRITER_NAME") or row.get("LIST2") or "").strip() or None,
            status=status_label(row),
            status_code=status_code or None,
            accepted_date=accepted,
            updated_date=updated,
            url=self.detail_url(project_id),
            fetched_at=dt.datetime.now(dt.UTC),
            extra=extra,
        )

    def detail_url(self, project_id: str) -> str:
        """The project's page on bond.sse.com.cn (path inferred from the site's link pattern)."""
        query = urlencode({"bound_id": project_id})
        return f"{self.host('bond.sse.com.cn')}/bridge/information/index_detail.shtml?{query}"
