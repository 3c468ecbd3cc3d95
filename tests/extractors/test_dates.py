"""Chinese date forms the sources print, and the traps dateparser falls into on its own."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from xinpi.extractors import dates
from xinpi.extractors.dates import SHANGHAI, from_epoch_ms, from_epoch_s, parse_cn_datetime

BASE = dt.datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-04-25 18:30", at(2025, 4, 25, 18, 30)),
        ("2025-04-25 18:30:12", at(2025, 4, 25, 18, 30, 12)),
        ("2025-04-25", at(2025, 4, 25)),
        ("2025年4月25日", at(2025, 4, 25)),
        ("2025年04月25日 18:30", at(2025, 4, 25, 18, 30)),
        ("2025/4/25", at(2025, 4, 25)),
        ("2025/1/16 16:00", at(2025, 1, 16, 16, 0)),
        ("2025.04.25", at(2025, 4, 25)),
        ("发布时间：2025-09-20 10:00:00 来源：证券日报网", at(2025, 9, 20, 10, 0)),
        # Chinese numerals: dateparser returns None for these
        ("二〇二五年四月二十五日", at(2025, 4, 25)),
        ("二〇二五年九月三日", at(2025, 9, 3)),
        ("二〇二五年十月一日 晚上8点半", at(2025, 10, 1, 20, 30)),
        ("二〇二五年十二月十日", at(2025, 12, 10)),
        # full-width digits and punctuation
        ("２０２５－１０－１０　１５：００", at(2025, 10, 10, 15, 0)),
        ("２０２５年４月２５日", at(2025, 4, 25)),
        # 上午/下午/晚上 with 点/分
        ("2025年4月25日 下午6点30分", at(2025, 4, 25, 18, 30)),
        ("2025年4月15日 上午11点", at(2025, 4, 15, 11, 0)),
        ("2025-04-25 晚上9点", at(2025, 4, 25, 21, 0)),
        ("2025-04-25 中午12点", at(2025, 4, 25, 12, 0)),
        ("2025-04-25 凌晨12点5分", at(2025, 4, 25, 0, 5)),
        ("2025-04-25 18时30分", at(2025, 4, 25, 18, 30)),
    ],
)
def test_absolute_forms(text: str, expected: dt.datetime) -> None:
    got = parse_cn_datetime(text, base=BASE)
    assert got == expected
    assert got is not None and got.utcoffset() == dt.timedelta(hours=8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # year from the base: dateparser gives None, 2011-03-26 or 2004 for these
        ("4月25日", at(2026, 4, 25)),
        ("4月25日 下午6点30分", at(2026, 4, 25, 18, 30)),
        ("11月3日", at(2026, 11, 3)),
        ("04-25 18:30", at(2026, 4, 25, 18, 30)),
        ("11月27日", at(2026, 11, 27)),  # base's own day is not "later than base's date"
        # a month-day after the base's date belongs to the year before
        ("12月31日", at(2025, 12, 31)),
        ("11月28日 09:00", at(2025, 11, 28, 9, 0)),
    ],
)
def test_month_day_takes_year_from_base(text: str, expected: dt.datetime) -> None:
    assert parse_cn_datetime(text, base=BASE) == expected


def test_month_day_follows_a_different_base() -> None:
    base = at(2025, 3, 12, 23, 59)
    assert parse_cn_datetime("3月12日 下午2点", base=base) == at(2025, 3, 12, 14, 0)
    assert parse_cn_datetime("12月30日", base=base) == at(2024, 12, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("昨天 15:20", at(2026, 11, 26, 15, 20)),
        ("昨天15:20", at(2026, 11, 26, 15, 20)),
        ("前天 08:05", at(2026, 11, 25, 8, 5)),
        ("今天 09:30", at(2026, 11, 27, 9, 30)),
        ("3小时前", at(2026, 11, 27, 7, 0)),
        ("10分钟前", at(2026, 11, 27, 9, 50)),
        ("2天前", at(2026, 11, 25, 10, 0)),
    ],
)
def test_relative_forms_count_back_from_base(text: str, expected: dt.datetime) -> None:
    assert parse_cn_datetime(text, base=BASE) == expected


def test_relative_forms_follow_the_base() -> None:
    base = at(2025, 1, 1, 1, 30)
    assert parse_cn_datetime("3小时前", base=base) == at(2024, 12, 31, 22, 30)
    assert parse_cn_datetime("昨天 15:20", base=base) == at(2024, 12, 31, 15, 20)


def test_time_only_is_the_latest_such_time_not_after_base() -> None:
    assert parse_cn_datetime("上午9点", base=BASE) == at(2026, 11, 27, 9, 0)
    assert parse_cn_datetime("下午6点30分", base=BASE) == at(2026, 11, 26, 18, 30)


def test_naive_base_is_beijing_time() -> None:
    assert parse_cn_datetime("3小时前", base=dt.datetime(2026, 11, 27, 10, 0)) == at(2026, 11, 27, 7, 0)


def test_aware_base_in_another_zone_is_converted() -> None:
    utc_base = dt.datetime(2026, 11, 26, 17, 0, tzinfo=dt.UTC)  # = 2026-11-27 01:00 in Beijing
    assert parse_cn_datetime("11月27日", base=utc_base) == at(2026, 11, 27)


@pytest.mark.parametrize(
    "text",
    [
        "", "   ", "日期不详", "更新于：待定", "2025-13-01", "2025年2月30日", "13月5日",
        "来源：证券日报网", "2025-04-25 25:61",
    ],
)
def test_no_date_gives_none_or_date_without_bad_time(text: str) -> None:
    got = parse_cn_datetime(text, base=BASE)
    if text == "2025-04-25 25:61":  # a valid date with an impossible clock keeps the date
        assert got == at(2025, 4, 25)
    else:
        assert got is None


def test_epoch_ms_is_beijing_midnight_not_the_utc_day_before() -> None:
    got = from_epoch_ms(1608825600000)
    assert got == at(2020, 12, 25)
    assert got.date() == dt.date(2020, 12, 25)
    assert from_epoch_ms("1608825600000") == got


def test_epoch_seconds_as_string() -> None:
    assert from_epoch_s("1715920201") == at(2024, 5, 17, 12, 30, 1)
    assert from_epoch_s(1715920201.0) == at(2024, 5, 17, 12, 30, 1)


def test_plain_iso_dates_read_as_the_general_path_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``YYYY-MM-DD[ HH:MM[:SS]]`` shortcut agrees with the general reading, odd values included."""
    rng = random.Random(7)
    base = dt.datetime(2026, 3, 1, 12, 0, tzinfo=SHANGHAI)
    pads = ["", " ", "\t", "\u3000", "\n"]
    texts = []
    for _ in range(3000):
        date = f"{rng.choice([1999, 2024, 2025, 9999])}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}"
        clock = rng.choice(["", f" {rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}",
                            f" {rng.randint(0, 24):02d}:{rng.randint(0, 60):02d}:{rng.randint(0, 61):02d}"])
        texts.append(rng.choice(pads) + date + clock + rng.choice(pads))
    with_shortcut = [parse_cn_datetime(t, base=base) for t in texts]
    taken = sum(dates._plain_iso(t) is not None for t in texts)
    monkeypatch.setattr(dates, "_plain_iso", lambda text: None)
    general = [parse_cn_datetime(t, base=base) for t in texts]
    assert with_shortcut == general
    assert [d.utcoffset() for d in with_shortcut if d] == [d.utcoffset() for d in general if d]
    assert taken > 1000  # the shortcut did take most of them


def test_plain_iso_with_a_bad_time_is_midnight_and_a_bad_date_is_no_date() -> None:
    base = dt.datetime(2026, 3, 1, 12, 0, tzinfo=SHANGHAI)
    assert parse_cn_datetime("2025-04-25 25:10", base=base) == dt.datetime(2025, 4, 25, tzinfo=SHANGHAI)
    assert parse_cn_datetime("2025-02-30", base=base) is None
