"""Per-deal classification: type, asset class, exchange, event and event date.

WHY: downstream tables group deals by these; they come from the name's suffix and keywords and from
cue words in the sentence that names the deal. Dates are resolved against the document's
``published_at`` (year inferred for 月日 forms, 昨日/前天/今日 relative to it).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from ._resources import alternation, table


@cache
def _asset_rows():
    return table("asset_classes.tsv")


@cache
def _long_asset_rows():
    return tuple(r for r in _asset_rows() if len(r[0]) >= 3)


def asset_class(name_folded: str, context: str = "") -> str | None:
    for kw, cls in _asset_rows():
        if kw in name_folded:
            return cls
    for kw, cls in _long_asset_rows():
        if kw in context:
            return cls
    return None


@cache
def _exchange_re():
    rows = table("exchanges.tsv")
    return re.compile(alternation(r[0] for r in rows)), {r[0]: r[1] for r in rows}


def exchange(context: str, deal_type: str | None) -> str | None:
    rx, m = _exchange_re()
    hit = rx.search(context)
    if hit:
        return m[hit.group()]
    if deal_type == "ABN":
        return "银行间市场"
    if deal_type == "insurance ABS":
        return "中保保险资产登记交易系统"
    return None


@cache
def _event_re():
    rows = table("events.tsv")
    return re.compile(alternation(r[0] for r in rows)), {r[0]: r[1] for r in rows}


def event(after_name: str, before_name: str = "") -> str:
    rx, m = _event_re()
    if re.search(r"终止|收益分配|付息|兑付|票面利率|评级|差额支付承诺|利率确定", after_name + before_name):
        return "其他"
    hit = rx.search(after_name)
    if hit:
        return m[hit.group()]
    hits = list(rx.finditer(before_name))
    if hits:
        return m[hits[-1].group()]
    return "其他"


_DATE_RE = re.compile(  # the leading lookahead only skips positions no date can start at
    r"(?=[\d昨今前])(?:(?P<y>(?:19|20)\d\d)\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
    r"|(?P<y2>(?:19|20)\d\d)-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    r"|(?<![\d年])(?P<m3>\d{1,2})\s*月\s*(?P<d3>\d{1,2})\s*日"
    r"|(?P<rel>昨日|昨天|今日|今天|前天|前日)"
    r"|(?<![\d-])(?P<m4>\d{2})-(?P<d4>\d{2})(?![\d-]))"
)


def find_date(text: str, published: dt.datetime | None) -> tuple[str, dt.date | None] | None:
    m = _DATE_RE.search(text)
    if not m:
        return None
    base = published.date() if published else None
    try:
        if m.group("y"):
            return m.group(), dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if m.group("y2"):
            return m.group(), dt.date(int(m.group("y2")), int(m.group("m2")), int(m.group("d2")))
        mm = m.group("m3") or m.group("m4")
        dd = m.group("d3") or m.group("d4")
        if mm:
            if base is None:
                return m.group(), None
            d = dt.date(base.year, int(mm), int(dd))
            if d > base + dt.timedelta(days=31):
                d = dt.date(base.year - 1, int(mm), int(dd))
            return m.group(), d
        rel = m.group("rel")
        if rel and base:
            off = {"昨日": 1, "昨天": 1, "今日": 0, "今天": 0, "前天": 2, "前日": 2}[rel]
            return rel, base - dt.timedelta(days=off)
        return m.group(), None
    except ValueError:
        return m.group(), None
