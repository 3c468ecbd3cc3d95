"""Dates as Chinese sources write them, turned into tz-aware Beijing times.

Why not just dateparser: it returns None for ``二〇二五年四月二十五日`` and ``下午6点30分``, None for
``4月25日`` with ``languages=['zh']``, 2011-03-26 for ``11月3日`` and 2004 for ``04-25`` (see
toolchain.md), and it is ~300x slower than a regex. So absolute forms go through a regex fast path
whose missing year comes from ``base`` (the page's own date or the crawl time), and only relative
forms (昨天, 3小时前 ...) go to dateparser, anchored at ``base``. Words live in data/cn_dates.json.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_DATA = Path(__file__).with_name("data") / "cn_dates.json"


@cache
def _words() -> dict[str, Any]:
    return json.loads(_DATA.read_text("utf-8"))


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    w = _words()
    numerals = "".join(w["numerals"]) + w["ten"]
    days = "".join(w["day_suffixes"])
    hours = "".join(w["hour_marks"])
    periods = "|".join(sorted(w["periods"], key=len, reverse=True))
    return {
        # a run of Chinese numerals directly before a date/time unit: 二〇二五年, 二十五日, 六点
        "cn_number": re.compile(f"[{numerals}]+(?=[年月{days}{hours}{w['minute_mark']}])"),
        "ymd": re.compile(
            rf"(?<!\d)(\d{{4}})\s*(?:年\s*(\d{{1,2}})\s*月\s*(\d{{1,2}})\s*[{days}]?"
            rf"|([-/.])\s*(\d{{1,2}})\s*\4\s*(\d{{1,2}})(?!\d))"
        ),
        "md": re.compile(rf"(?<!\d)(\d{{1,2}})\s*月\s*(\d{{1,2}})\s*[{days}]"),
        # 04-25 only when a clock time follows: a bare "04-25" is too ambiguous to guess
        "md_dash": re.compile(r"(?<![\d\-/])(\d{1,2})-(\d{1,2})(?=\s+\d{1,2}:\d{2})"),
        "clock": re.compile(rf"(?:({periods})\s*)?(?<!\d)(\d{{1,2}}):(\d{{2}})(?::(\d{{2}}))?(?!\d)"),
        "cn_clock": re.compile(
            rf"(?:({periods})\s*)?(?<!\d)(\d{{1,2}})\s*[{hours}]\s*"
            rf"(?:({w['half_hour']})|(\d{{1,2}})\s*{w['minute_mark']}?)?"
        ),
        "period_only": re.compile(periods),
    }


def _cn_to_int(run: str) -> str:
    """``二〇二五`` -> ``2025`` (digit by digit); ``二十五`` -> ``25``, ``十`` -> ``10`` (with 十)."""
    w = _words()
    digits = w["numerals"]
    if w["ten"] not in run:
        return "".join(str(digits[c]) for c in run)
    tens, _, units = run.partition(w["ten"])
    value = (digits[tens[-1]] if tens else 1) * 10 + (digits[units[0]] if units else 0)
    return str(value)


def _normalise(text: str) -> str:
    """Full-width digits and punctuation to ASCII (NFKC), Chinese numerals before units to digits."""
    text = unicodedata.normalize("NFKC", text).strip()
    return _patterns()["cn_number"].sub(lambda m: _cn_to_int(m.group(0)), text)


def _hour24(period: str | None, hour: int) -> int:
    kind = _words()["periods"].get(period or "", "")
    if kind == "pm" and hour < 12:
        return hour + 12
    if kind == "noon" and hour < 11:
        return hour + 12
    if kind == "am_midnight" and hour == 12:
        return 0
    return hour


def _time_of_day(rest: str) -> dt.time | None:
    """The first clock time in ``rest`` (text after the date): 18:30(:00), 下午6点30分, 6点半."""
    p = _patterns()
    m = p["clock"].search(rest)
    if m:
        hour, minute, second = int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
        period = m.group(1)
    else:
        m = p["cn_clock"].search(rest)
        if not m:
            return None
        hour, second = int(m.group(2)), 0
        minute = 30 if m.group(3) else int(m.group(4) or 0)
        period = m.group(1)
    if period is None:
        before = p["period_only"].findall(rest[: m.start()])
        period = before[-1] if before else None
    try:
        return dt.time(_hour24(period, hour), minute, second)
    except ValueError:
        return None


def _absolute(text: str, base: dt.datetime) -> dt.datetime | None:
    p = _patterns()
    m = p["ymd"].search(text)
    if m:
        year = int(m.group(1))
        month, day = (m.group(2), m.group(3)) if m.group(2) else (m.group(5), m.group(6))
        date = _date(year, int(month), int(day))
    else:
        m = p["md"].search(text) or p["md_dash"].search(text)
        if not m:
            return None
        month, day = int(m.group(1)), int(m.group(2))
        # a month-day with no year belongs to the latest year that does not put it after `base`
        date = _date(base.year, month, day)
        if date is not None and date > base.date():
            date = _date(base.year - 1, month, day)
    if date is None:
        return None
    clock = _time_of_day(text[m.end() : m.end() + 24]) or dt.time(0, 0)
    return dt.datetime.combine(date, clock, SHANGHAI)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _relative(text: str, base: dt.datetime) -> dt.datetime | None:
    if not any(cue in text for cue in _words()["relative_cues"]):
        return None
    import dateparser  # imported lazily: ~0.3 s, and most dates never need it

    parsed = dateparser.parse(
        text,
        languages=["zh"],
        settings={
            "RELATIVE_BASE": base.replace(tzinfo=None),
            "PREFER_DATES_FROM": "past",
            "TIMEZONE": "Asia/Shanghai",
            "RETURN_AS_TIMEZONE_AWARE": True,
        },
    )
    # "3小时前" is not precise to the second: keep minutes so re-crawls agree on the value
    return parsed.astimezone(SHANGHAI).replace(second=0, microsecond=0) if parsed else None


def parse_cn_datetime(text: str, *, base: dt.datetime) -> dt.datetime | None:
    """The date and time ``text`` names, tz-aware Asia/Shanghai, or None if it names none.

    ``base`` anchors what the text leaves out: the year of ``4月25日`` (the latest year that does not
    put the date after ``base``) and the meaning of ``昨天`` or ``3小时前``. A naive ``base`` is taken
    as Beijing time. A date without a time of day is Beijing midnight.
    """
    if not text or not text.strip():
        return None
    plain = _plain_iso(text)
    if plain is not None:
        return plain
    base = base.replace(tzinfo=SHANGHAI) if base.tzinfo is None else base.astimezone(SHANGHAI)
    norm = _normalise(text)
    return _absolute(norm, base) or _relative(norm, base) or _clock_only(norm, base)


_PLAIN_ISO = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?\s*")


def _plain_iso(text: str) -> dt.datetime | None:
    """``2025-04-25`` or ``2025-04-25 18:30(:05)`` alone, read without the general path, or None.

    Most listing and article dates are written so, and the general path (NFKC, numeral runs,
    several searches) cost ~30 us a date, more than the rest of reading an article. Only what the
    general path reads the same way is taken here: a date or time out of range returns None and
    goes through it (a bad date is not a date there; a bad time means midnight).
    """
    m = _PLAIN_ISO.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in m.groups())
    try:
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
    except ValueError:
        return None


def _clock_only(text: str, base: dt.datetime) -> dt.datetime | None:
    """``下午6点30分`` alone: that time on base's day, or the day before if that is still to come."""
    clock = _time_of_day(text)
    if clock is None:
        return None
    when = dt.datetime.combine(base.date(), clock, SHANGHAI)
    return when - dt.timedelta(days=1) if when > base else when


def from_epoch_ms(ms: int | float | str) -> dt.datetime:
    """Epoch milliseconds (cninfo ``announcementTime``) as Beijing time, never the UTC day before."""
    return dt.datetime.fromtimestamp(float(ms) / 1000, SHANGHAI)


def from_epoch_s(seconds: int | float | str) -> dt.datetime:
    """Epoch seconds (sina ``ctime``, often a string) as Beijing time."""
    return dt.datetime.fromtimestamp(float(seconds), SHANGHAI)
