"""Loading the bundled fixture documents that the emulated sites serve."""

from __future__ import annotations

import datetime as dt
import json
import os
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Pins the clock that fresh fixture rows are timed from (ISO 8601; without an offset: Shanghai).
CLOCK_ENV = "XINPI_EMULATOR_NOW"


@cache
def load(name: str) -> list[dict[str, Any]]:
    """Rows of ``fixtures/<name>.jsonl`` (one JSON object per line), in file order."""
    text = resources.files("xinpi.emulator").joinpath("fixtures", f"{name}.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def fresh_now() -> dt.datetime:
    """The moment fresh fixture rows (``age_minutes``, ``yesterday_at``) are counted back from.

    Why it can be pinned (``XINPI_EMULATOR_NOW``): a fresh row's time, its URL's date folder and on
    eastmoney its id (the article code starts with the publication date) all follow from this clock.
    Unpinned it is the emulator's start, so each start re-times the rows, and two demo runs on either
    side of midnight in Shanghai served one story under two ids: the second run stored it again.
    ``xinpi demo`` pins it per data folder; a live site's articles do not move either.
    """
    raw = os.environ.get(CLOCK_ENV, "").strip()
    if not raw:
        return _started()
    try:
        pinned = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError(f"{CLOCK_ENV}={raw!r} is not an ISO 8601 date-time") from exc
    return pinned.replace(tzinfo=SHANGHAI) if pinned.tzinfo is None else pinned.astimezone(SHANGHAI)


@cache
def _started() -> dt.datetime:
    return dt.datetime.now(SHANGHAI)
