"""Attach a fact (an amount, a party) to the right deal in a document that may name several.

WHY: "nearest deal mentioned before it in the same sentence" is right for almost every sentence
("“X”发行规模3.2亿元，原始权益人为A"), a role phrase ending "…的“X”" points forward, and key-value
blocks ("发行规模：4.50亿元") belong to the deal the block describes (the only deal, or the last one
named in the paragraph).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_SENT = re.compile(r"[。；;！？!?\n]")
_PARA = re.compile(r"\n[ \t\u3000]*\n")


@dataclass
class Mention:
    start: int
    end: int
    deal: int


class Linker:
    def __init__(self, folded: str, mentions: list[Mention], n_deals: int):
        self.f = folded
        self.m = sorted(mentions, key=lambda x: x.start)
        self.starts = [x.start for x in self.m]
        self.n = n_deals
        self.sent_breaks = [x.start() for x in _SENT.finditer(folded)]
        self.para_breaks = [x.start() for x in _PARA.finditer(folded)]

    def _bounds(self, breaks: list[int], pos: int) -> tuple[int, int]:
        k = bisect.bisect_right(breaks, pos - 1)
        lo = breaks[k - 1] + 1 if k > 0 else 0
        hi = breaks[k] if k < len(breaks) else len(self.f)
        return lo, hi

    def sentence(self, pos: int) -> tuple[int, int]:
        return self._bounds(self.sent_breaks, pos)

    def paragraph(self, pos: int) -> tuple[int, int]:
        return self._bounds(self.para_breaks, pos)

    def deal_at(self, pos: int) -> int | None:
        k = bisect.bisect_right(self.starts, pos) - 1
        if k >= 0 and self.m[k].start <= pos < self.m[k].end:
            return self.m[k].deal
        return None

    def deal_near(self, pos: int | None, slack: int = 2) -> int | None:
        """The deal whose mention starts at ``pos`` (within ``slack`` chars), if any."""
        if pos is None:
            return None
        k = bisect.bisect_left(self.starts, pos)
        if k < len(self.m) and self.m[k].start - pos <= slack:
            return self.m[k].deal
        return None

    def deals_in(self, lo: int, hi: int) -> list[int]:
        """Deals named in [lo, hi), in the order of their first mention there."""
        a = bisect.bisect_left(self.starts, lo)
        b = bisect.bisect_left(self.starts, hi)
        out: list[int] = []
        for x in self.m[a:b]:
            if x.deal not in out:
                out.append(x.deal)
        return out

    def deals_before_in_paragraph(self, pos: int) -> list[int]:
        """Every deal named in the paragraph before ``pos`` ("上述…均为X" covers them all)."""
        p0, _ = self.paragraph(pos)
        return self.deals_in(p0, pos)

    def link(self, pos: int, follow: int | None = None, fallback: bool = True) -> int | None:
        if not self.m:
            return None
        if follow is not None:
            k = bisect.bisect_left(self.starts, follow)
            if k < len(self.m) and self.m[k].start - follow <= 2:
                return self.m[k].deal
        s0, s1 = self.sentence(pos)
        k = bisect.bisect_right(self.starts, pos) - 1
        while k >= 0 and self.m[k].end > pos and self.m[k].start <= pos:
            k -= 1  # the fact sits inside a name: not that name
        if k >= 0 and self.m[k].start >= s0:
            return self.m[k].deal
        k2 = bisect.bisect_left(self.starts, pos)
        if k2 < len(self.m) and self.m[k2].start < s1:
            return self.m[k2].deal
        p0, _ = self.paragraph(pos)
        if k >= 0 and self.m[k].start >= p0:
            return self.m[k].deal
        if not fallback:
            return None
        if self.n == 1:
            return 0
        if k >= 0:
            return self.m[k].deal
        return None
