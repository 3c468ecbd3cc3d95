"""Tables flattened to text: header roles, rows, bare-number cells with the header's unit.

WHY: PDF/HTML extraction leaves tables as lines split by |, tabs, runs of spaces, or one cell per
line; a bare number ("3.5") is only money through its column header ("拟发行金额(亿元)") or a
"单位：亿元" line. We map columns to roles (name / issuer / manager / amount / date) from the header
words and hand back cells with spans, so linking can attach them to the deal named in the row.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from ._resources import table
from .money import bare_number, find_money, unit_multiplier
from .parties import role_map, role_word_re

_SPLIT = {
    "|": re.compile(r"\|"),
    "\t": re.compile(r"\t+"),
    "  ": re.compile(r" {2,}"),
    " ": re.compile(r" +"),
}
_HEADER_WORD = re.compile(
    r"名称|全称|简称|代码|机构|承销商|管理人|权益人|发行人|受托人|金额|规模|日期|时间|状态|利率|序号|排名|"
    r"分档|占比|评级|品种|场所|文号|上市|挂牌|起息"
)
_UNIT_IN = re.compile(r"\((?:单位[:：])?\s*((?:万亿|亿|千万|百万|万)?(?:元|美元|港元))\s*\)")
_WS_RE = re.compile(r"\s+")
_NAME_COL_RE = re.compile(r"名称|全称|项目$")
_NOT_NAME_COL_RE = re.compile(r"企业名称|机构名称")
_AMOUNT_COL_RE = re.compile(r"金额|规模|总额")
_NOT_AMOUNT_COL_RE = re.compile(r"超额|上限|占比|申购|认购|融资金额")
_DATE_COL_RE = re.compile(r"日期|日$|时间")
_TRANCHE_COL_RE = re.compile(r"分档|证券简称|档次")
_RULE_LINE_RE = re.compile(r"[\s|:-]+")
_TOTAL_LINE_RE = re.compile(r"\s*(?:合计|总计|共)")
_TOTAL_CELL_RE = re.compile(r"(?:合计|总计|共计)")
_TOTAL_WORD_RE = re.compile(r"合计|总计")
_GAP_RE = re.compile(r"\S {2,}\S")
_UNIT_LINE = re.compile(r"单位\s*[:：]\s*((?:万亿|亿|千万|百万|万)?元)")


@dataclass
class Cell:
    text: str
    start: int
    end: int


@dataclass
class AmountCell:
    cell: Cell
    yuan: Decimal | None
    amount: Decimal
    unit: str
    currency: str
    klass: str


@dataclass
class Row:
    name: Cell | None
    issuers: list[Cell] = field(default_factory=list)
    managers: list[Cell] = field(default_factory=list)
    amounts: list[AmountCell] = field(default_factory=list)
    date: Cell | None = None
    is_total: bool = False
    tranche_table: bool = False


def _cells(folded: str, ls: int, le: int, delim: str) -> list[Cell]:
    line = folded[ls:le]
    out, pos = [], 0
    for m in list(_SPLIT[delim].finditer(line)) + [None]:
        e = m.start() if m else len(line)
        raw = line[pos:e]
        lead = len(raw) - len(raw.lstrip())
        txt = raw.strip()
        if txt or (m is not None and delim != "  "):
            out.append(Cell(txt, ls + pos + lead, ls + pos + lead + len(txt)))
        pos = m.end() if m else len(line)
    if delim == "|":
        while out and not out[0].text:
            out.pop(0)
        while out and not out[-1].text:
            out.pop()
    return out


def _delim(line: str) -> str | None:
    if "|" in line:
        return "|"
    if "\t" in line:
        return "\t"
    if "  " in line and _GAP_RE.search(line):
        return "  "
    return None


@cache
def _cues_longest_first() -> list[tuple[str, ...]]:
    return sorted(table("scale_cues.tsv"), key=lambda r: -len(r[0]))


def _column_kind(h: str) -> tuple[str, str | None]:
    h2 = _WS_RE.sub("", h)
    if _NAME_COL_RE.search(h2) and not _NOT_NAME_COL_RE.search(h2):
        return "name", None
    rw = role_word_re().findall(h2)
    if rw:
        roles = {role_map()[w] for w in rw}
        if "issuer" in roles:
            return "issuer", None
        if "manager" in roles:
            return "manager", None
        return "neither", None
    if _AMOUNT_COL_RE.search(h2) and not _NOT_AMOUNT_COL_RE.search(h2):
        klass = "issue"
        for cue, k in _cues_longest_first():
            if cue in h2 and len(cue) >= 2:
                klass = k
                break
        return "amount", klass
    if _DATE_COL_RE.search(h2):
        return "date", None
    if _TRANCHE_COL_RE.search(h2):
        return "tranche", None
    return "other", None


def _unit_for(folded: str, header: str, header_start: int) -> str | None:
    m = _UNIT_IN.search(header)
    if m:
        return m.group(1)
    back = folded[max(0, header_start - 200) : header_start]
    ms = list(_UNIT_LINE.finditer(back))
    return ms[-1].group(1) if ms else None


def find_tables(folded: str) -> list[Row]:
    lines = []
    pos = 0
    for raw in folded.split("\n"):
        lines.append((pos, pos + len(raw)))
        pos += len(raw) + 1
    rows: list[Row] = []
    # a header line (horizontal, or the first of a vertical run) always holds a header word:
    # jump from one such line to the next instead of inspecting every line
    starts = [a for a, _ in lines]
    cand = sorted({bisect.bisect_right(starts, m.start()) - 1 for m in _HEADER_WORD.finditer(folded)})
    i = 0
    while i < len(lines):
        c = bisect.bisect_left(cand, i)
        if c == len(cand):
            break
        i = cand[c]
        ls, le = lines[i]
        line = folded[ls:le]
        d = _delim(line)
        header: list[Cell] | None = None
        vertical = False
        if d is None and i + 1 < len(lines):
            # a header set with single spaces over rows set with wider gaps (PDF text extraction)
            nxt = folded[lines[i + 1][0] : lines[i + 1][1]]
            cs = _cells(folded, ls, le, " ")
            if len(cs) >= 3 and _delim(nxt) == "  " and all(_HEADER_WORD.search(c.text) for c in cs):
                header, d = cs, "  "
        if header:
            pass
        elif d:
            cs = _cells(folded, ls, le, d)
            if (
                len(cs) >= 3
                and sum(bool(_HEADER_WORD.search(c.text)) for c in cs) >= max(2, len(cs) // 2)
                and not any(find_money(c.text) for c in cs)
            ):
                header = cs
        elif len(line) <= 40 and len(line.strip()) <= 12 and _HEADER_WORD.search(line):
            j = i
            cs = []
            while (
                j < len(lines)
                and folded[lines[j][0] : lines[j][1]].strip()
                and len(folded[lines[j][0] : lines[j][1]].strip()) <= 12
                and _HEADER_WORD.search(folded[lines[j][0] : lines[j][1]])
            ):
                a, b = lines[j]
                t = folded[a:b]
                cs.append(Cell(t.strip(), a + len(t) - len(t.lstrip()), a + len(t.rstrip())))
                j += 1
            if len(cs) >= 3:
                header, vertical = cs, True
                i = j - 1
        if not header:
            i += 1
            continue
        kinds = [_column_kind(c.text) for c in header]
        if not any(k == "name" for k, _ in kinds) and not any(k == "tranche" for k, _ in kinds):
            i += 1
            continue
        units = [
            _unit_for(folded, c.text, ls) if k == "amount" else None
            for c, (k, _) in zip(header, kinds, strict=True)
        ]
        n = len(header)
        body: list[list[Cell]] = []
        j = i + 1
        if vertical:
            flat = []
            while j < len(lines):
                a, b = lines[j]
                t = folded[a:b]
                if t.strip():
                    flat.append(Cell(t.strip(), a + len(t) - len(t.lstrip()), a + len(t.rstrip())))
                elif flat and len(flat) % n == 0 and len(flat) >= n:
                    pass
                j += 1
            body = [flat[k : k + n] for k in range(0, len(flat) - n + 1, n)]
        else:
            pending: list[Cell] | None = None
            while j < len(lines):
                a, b = lines[j]
                t = folded[a:b]
                if not t.strip():
                    j += 1
                    if pending is None and body:
                        break
                    continue
                dd = _delim(t) or d
                if _RULE_LINE_RE.fullmatch(t):
                    j += 1
                    continue
                cs = _cells(folded, a, b, d if d in t or dd == d else dd)
                if d == "  " and t[:1] == " " and cs and pending is None and body and len(cs) < n:
                    cs = cs
                if pending is not None:
                    merged_last = pending[-1]
                    if cs:
                        first = cs[0]
                        joined = Cell(merged_last.text + first.text, merged_last.start, first.end)
                        cs = pending[:-1] + [joined] + cs[1:]
                    pending = None
                if len(cs) < n and len(cs) >= 1 and j + 1 < len(lines) and not _TOTAL_LINE_RE.match(t):
                    pending = cs
                    j += 1
                    continue
                body.append(cs)
                j += 1
        tranche_table = any(k == "tranche" for k, _ in kinds) and not any(k == "name" for k, _ in kinds)
        for cs in body:
            if len(cs) != n:
                continue
            row = Row(name=None, tranche_table=tranche_table)
            row.is_total = bool(_TOTAL_CELL_RE.match(cs[0].text)) or any(
                _TOTAL_WORD_RE.fullmatch(c.text) for c in cs[:2]
            )
            for c, (k, klass), unit in zip(cs, kinds, units, strict=True):
                if k == "name":
                    row.name = c
                elif k in ("issuer", "manager"):
                    if c.text and c.text not in ("-", "—"):
                        getattr(row, k + "s").append(c)
                elif k == "amount":
                    ac = _amount_cell(c, unit, klass or "issue")
                    if ac:
                        row.amounts.append(ac)
                elif k == "date":
                    row.date = c
            rows.append(row)
        i = j
    return rows


def _amount_cell(c: Cell, unit: str | None, klass: str) -> AmountCell | None:
    ms = find_money(c.text)
    if ms:
        m = ms[0]
        return AmountCell(c, m.yuan, m.amount, m.unit_text, m.currency, klass)
    v = bare_number(c.text)
    if v is None or unit is None:
        return None
    mu = unit_multiplier(unit)
    if not mu:
        return None
    mult, cur = mu
    return AmountCell(c, v * mult if cur == "CNY" else None, v, unit, cur, klass)
