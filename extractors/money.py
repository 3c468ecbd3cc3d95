"""Chinese money expressions -> exact Decimal amounts.

WHY: scales must be exact (Decimal, in yuan) with the text as written, and must survive full-width
digits, thousands separators, spaces ("7.34 亿元"), Chinese numerals ("十亿元"), qualifiers
(约/逾/超/近/不超过/累计 ...) and other currencies (kept, never converted).
All regexes here are linear: bounded repeats, no nested quantifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ._resources import alternation, anchored_finditer, lines

UNITS = {
    "万亿": Decimal(10) ** 12,
    "千亿": Decimal(10) ** 11,
    "百亿": Decimal(10) ** 10,
    "亿": Decimal(10) ** 8,
    "千万": Decimal(10) ** 7,
    "百万": Decimal(10) ** 6,
    "万": Decimal(10) ** 4,
    "千": Decimal(10) ** 3,
    "": Decimal(1),
}
CURRENCIES = {
    "元": "CNY",
    "人民币": "CNY",
    "人民币元": "CNY",
    "美元": "USD",
    "港元": "HKD",
    "港币": "HKD",
    "欧元": "EUR",
    "英镑": "GBP",
    "日元": "JPY",
    "离岸人民币": "CNY",
}
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}

_NUM = r"(?:\d{1,3}(?:,\d{3}){1,6}|\d{1,16})(?:\.\d{1,8})?"
_CNNUM = r"[零〇一二两三四五六七八九十百千]{1,12}"
_UNIT = r"万亿|千亿|百亿|亿|千万|百万|万"
_CUR = r"人民币元|离岸人民币|美元|港元|港币|欧元|英镑|日元|元"


def _qual_re() -> str:
    return alternation(lines("qualifiers.txt"))


def _first_chars() -> str:
    """Characters a money match can start with: a qualifier's first char, 人/R/C (人民币 RMB CNY), a digit."""
    chars = {q[0] for q in lines("qualifiers.txt")} | set("人RC零〇一二两三四五六七八九十百千")
    return "".join(sorted(chars))


# The leading lookahead is a pure guard (the same matches): most positions fail on one character
# test instead of trying every qualifier of the alternation. The number is an atomic group, also
# without changing a match: no shorter number succeeds where the longest fails (what follows a
# number never starts with a digit, "," or "."; a unit starting 千/百 ends in 万/亿, a unit on its
# own), so the engine need not try every shorter one at each number that is not money (dates, rates).
MONEY_RE = re.compile(
    rf"(?=[\d{re.escape(_first_chars())}])"
    rf"(?P<qual>(?:{_qual_re()})\s{{0,2}})?(?P<pre>(?:人民币|RMB|CNY)\s{{0,2}})?"
    rf"(?<![\d.,])(?P<num>(?>{_NUM}|{_CNNUM}))\s{{0,3}}(?P<more>多|余)?\s{{0,2}}"
    rf"(?:(?P<unit>{_UNIT})\s{{0,2}}(?P<cur>{_CUR})?|(?P<cur2>{_CUR}))"
    rf"(?P<post>人民币)?"
)


@dataclass
class Money:
    start: int
    end: int
    text: str
    amount: Decimal  # as written in its unit and currency
    unit: str  # 亿 / 万 / "" ...
    currency: str  # CNY / USD / ...
    qualifier: str | None
    num_start: int

    @property
    def yuan(self) -> Decimal | None:
        if self.currency != "CNY":
            return None
        return self.amount * UNITS[self.unit]

    @property
    def unit_text(self) -> str:
        return self.unit + ("元" if self.currency == "CNY" else "")


def cn_number(s: str) -> Decimal | None:
    """Value of a small Chinese numeral such as 十, 二十五, 一百二十."""
    if not s:
        return None
    if all(c in _CN_DIGITS for c in s):  # digit by digit: 二〇二五
        return Decimal("".join(str(_CN_DIGITS[c]) for c in s))
    total, cur = 0, 0
    for c in s:
        if c in _CN_DIGITS:
            cur = _CN_DIGITS[c]
        elif c in _CN_SMALL:
            total += (cur or 1) * _CN_SMALL[c]
            cur = 0
        else:
            return None
    return Decimal(total + cur)


def parse_number(s: str) -> Decimal | None:
    s = s.replace(",", "").replace(" ", "")
    try:
        return Decimal(s)
    except InvalidOperation:
        return cn_number(s)


# Every money match ENDS with one of these characters (a unit 万/亿, a currency ending 元/币, or the
# trailing 人民币) and starts well within _REACH characters before it.
_ANCHORS = "万亿元币"
# qualifier + 2 spaces + 人民币 + 2 spaces + the longest number (36) + 3 spaces + 多 + 2 spaces
_REACH = max(len(q) for q in lines("qualifiers.txt")) + 2 + 3 + 2 + 36 + 3 + 1 + 2 + 2


def find_money(folded: str, original: str | None = None, start: int = 0, end: int | None = None):
    """All money amounts in ``folded`` (a same-length fold of ``original``)."""
    original = original if original is not None else folded
    end = len(folded) if end is None else end
    out: list[Money] = []
    if end - start <= 4 * _REACH:  # a short text (a table cell): one pass costs less than segmenting
        matches = MONEY_RE.finditer(folded, start, end)
    else:
        matches = anchored_finditer(MONEY_RE, _ANCHORS, folded, _REACH, 0, start, end)
    for m in matches:
        num = m.group("num")
        if not (m.group("unit") or m.group("cur2") or m.group("cur")):
            continue
        cur_word = m.group("cur") or m.group("cur2") or ("元" if m.group("pre") or m.group("post") else None)
        if cur_word is None:
            continue  # "30亿" without a currency is not money ("4亿份" is units)
        if num[0] in "零〇一二两三四五六七八九十百千" and not m.group("unit") and cur_word != "元":
            continue
        val = parse_number(num)
        if val is None:
            continue
        # a digit run glued to a preceding digit or letter is part of a code, not an amount
        if (
            m.start("num") > 0
            and folded[m.start("num") - 1].isalnum()
            and not m.group("pre")
            and not m.group("qual")
            and folded[m.start("num") - 1].isascii()
        ):
            continue
        s = m.start("qual") if m.group("qual") else m.start()
        q = m.group("qual")
        out.append(
            Money(
                start=s,
                end=m.end(),
                text=original[s : m.end()].strip(),
                amount=val,
                unit=m.group("unit") or "",
                currency=CURRENCIES.get(cur_word, "CNY"),
                qualifier=q.strip() if q else None,
                num_start=m.start("num"),
            )
        )
    return out


_NUM_RE = re.compile(_NUM)
_UNIT_CUR_RE = re.compile(rf"({_UNIT})?({_CUR})")


def bare_number(cell: str) -> Decimal | None:
    """A table cell holding only a number ("3.5", "1,205,000,000.00")."""
    c = cell.strip()
    if not _NUM_RE.fullmatch(c):
        return None
    return parse_number(c)


def unit_multiplier(unit_text: str) -> tuple[Decimal, str] | None:
    """'亿元' -> (1e8, 'CNY'); '万美元' -> (1e4, 'USD'); '元' -> (1, 'CNY')."""
    m = _UNIT_CUR_RE.fullmatch(unit_text.strip())
    if not m:
        return None
    return UNITS[m.group(1) or ""], CURRENCIES[m.group(2)]
