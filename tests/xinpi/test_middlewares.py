"""Retries wait before trying again: Retry-After when the site sends it, backoff otherwise."""

from __future__ import annotations

import email.utils

from crawlkit import run_crawl
from xinpi.middlewares import retry_after_seconds

WINDOW = {"since": "2025-01-01", "until": "2025-12-31"}


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds(b"7") == 7.0
    now = 1_800_000_000.0
    assert retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_a_429_with_retry_after_is_waited_out_then_retried(emulator, tmp_path) -> None:
    emulator.add_fault("retry_after", host="www.cs.com.cn", path_regex=r"^/gppd/zqxw/$", retry_after=2)
    result = run_crawl("cs", emulator.url, tmp_path, args=WINDOW)
    assert result.returncode == 0, result.log[-2000:]
    assert result.stats.get("downloader/response_status_count/429") == 1
    assert result.stats.get("xinpi/retry/waited_seconds", 0) >= 2
    # The listing answered on the second try, so the channel's articles still arrived.
    assert any(d["extra"]["channel"] == "gppd/zqxw" for d in result.documents())


def test_500s_back_off_exponentially_and_give_up_into_a_recorded_failure(emulator, tmp_path) -> None:
    emulator.add_fault("status", host="www.cs.com.cn", path_regex=r"^/gppd/zqxw/$", status=503, times=-1)
    result = run_crawl("cs", emulator.url, tmp_path, args=WINDOW,
                       settings={"RETRY_TIMES": 2, "XINPI_RETRY_BACKOFF_BASE": 0.2})
    assert result.returncode == 0, result.log[-2000:]
    assert result.stats.get("downloader/response_status_count/503") == 3  # first try + 2 retries
    assert abs(result.stats.get("xinpi/retry/waited_seconds", 0) - (0.2 + 0.4)) < 0.01
    failed = [f for f in result.failures() if f["url"].endswith("/gppd/zqxw/")]
    assert failed and failed[0]["http_status"] == 503
