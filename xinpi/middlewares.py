"""Downloader middleware: retries that back off, and honour ``Retry-After``.

Scrapy's own RetryMiddleware retries at once. Against a site that answers 429 or 503 because it is
overloaded, retrying at once is both rude and useless; this one waits first: ``Retry-After`` when the
site sends it (capped by ``XINPI_RETRY_AFTER_MAX``), else exponential backoff from
``XINPI_RETRY_BACKOFF_BASE`` seconds. It replaces ``RetryMiddleware`` at the same priority.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for: delta-seconds or an HTTP date; None if unusable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.base = crawler.settings.getfloat("XINPI_RETRY_BACKOFF_BASE", 1.0)
        self.cap = crawler.settings.getfloat("XINPI_RETRY_AFTER_MAX", 60.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    def delay_for(self, request: Request, response: Response | None) -> float:
        asked = retry_after_seconds(response.headers.get("Retry-After")) if response is not None else None
        if asked is not None:
            return min(asked, self.cap)
        attempt = request.meta.get("retry_times", 0)
        return min(self.base * (2**attempt), self.cap)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:  # gave up: the error response goes on to the errback
            return response
        await self._wait(request, response)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self._wait(request, None)
        return retry

    async def _wait(self, request: Request, response: Response | None) -> None:
        delay = self.delay_for(request, response)
        if delay > 0:
            status = response.status if response is not None else "error"
            logger.info("%s for %s: retrying in %.1f s", status, request.url, delay)
            self.crawler.stats.inc_value("xinpi/retry/waited_seconds", delay)
            await asyncio.sleep(delay)
