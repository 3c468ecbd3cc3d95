"""What every xinpi spider shares: host URLs from settings, the date window, recorded failures.

Spiders only parse. They yield :class:`~xinpi.items.DocumentItem` for what they read and
:class:`~xinpi.items.FailureItem` (through :meth:`XinpiSpider.failure`) for what they could not, so a
broken page is logged with its URL, counted in the crawl stats and landed in ``failures/``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from xinpi.config import host_url
from xinpi.items import FailureItem

SHANGHAI = ZoneInfo("Asia/Shanghai")


class XinpiSpider(scrapy.Spider):
    """Base class. Arguments (``-a name=value``): ``since`` and ``until`` (YYYY-MM-DD, Beijing dates,
    inclusive); without them the window is the last ``XINPI_DEFAULT_DAYS`` days (setting, default 7)."""

    kind: str = "news"  # or "announcement"
    since: str | None = None
    until: str | None = None

    def host(self, hostname: str) -> str:
        """Base URL for ``hostname``: the real site, or the emulator under ``XINPI_EMULATOR_URL``."""
        return host_url(self.settings, hostname)

    @property
    def crawl_started(self) -> dt.datetime:
        if not hasattr(self, "_crawl_started"):
            self._crawl_started = dt.datetime.now(SHANGHAI)
        return self._crawl_started

    def window(self) -> tuple[dt.date, dt.date]:
        """The inclusive date window this crawl asks the source for."""
        until = dt.date.fromisoformat(self.until) if self.until else self.crawl_started.date()
        if self.since:
            since = dt.date.fromisoformat(self.since)
        else:
            since = until - dt.timedelta(days=self.settings.getint("XINPI_DEFAULT_DAYS", 7))
        if since > until:
            raise ValueError(f"{self.name}: since {since} is after until {until}")
        return since, until

    def failure(
        self, url: str, stage: str, error: str, http_status: int | None = None
    ) -> FailureItem:
        """Log a failure and return the item that records it (the caller yields it)."""
        self.logger.error("%s failed at %s: %s (%s)", url, stage, error, http_status or "-")
        self.crawler.stats.inc_value(f"xinpi/failures/{stage}")
        return FailureItem(
            source=self.name,
            url=url,
            stage=stage,
            error=error[:500],
            http_status=http_status,
            at=dt.datetime.now(dt.UTC),
        )

    def on_error(self, failure: Failure) -> Iterator[FailureItem]:
        """Errback for every request: HTTP errors, timeouts, refused connections, size caps."""
        request = failure.request if hasattr(failure, "request") else None
        response: Response | None = getattr(failure.value, "response", None)
        url = request.url if request is not None else (response.url if response is not None else "?")
        status = response.status if response is not None else None
        yield self.failure(url, "fetch", f"{failure.type.__name__}: {failure.getErrorMessage()}", status)

    def document_defaults(self, **fields: Any) -> dict[str, Any]:
        """Fields every document carries, plus the ones given."""
        return {"source": self.name, "kind": self.kind, "fetched_at": dt.datetime.now(dt.UTC), **fields}
