"""Deal names: full names of securitisation and bond issues, found from their suffix.

WHY: a deal is named by a suffix (资产支持专项计划, 资产支持票据, 公司债券 ...) preceded by a body whose left
edge is fuzzy. We anchor on the suffix with a regex (fast, linear) and scan left over name characters,
stopping at punctuation, quote marks, stop words (由/的/在/发行 ...), the end of another name, or a
table-cell gap; a line break is crossed only when the text on the new line cannot start a name
(a wrapped name). Trailing parentheticals that belong to the name ((第一期), (科技创新)) are kept.
All work happens on the folded text, so spans index the original.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import cache

from ._resources import alternation, lines, table
from .textnorm import clean_name, norm_key

_MAX_NAME = 120
_WS_RE = re.compile(r"\s+")
MAX_ANCHORS = 2000  # a document naming more deals than this is garbage; keep the time bounded
YEAR_RE = re.compile(r"(?:19|20)\d\d(?:-(?:19|20)\d\d)?年")
MARKER_RE = re.compile(
    r"(?:19|20)\d\d|\d+期|[一二三四五六七八九十]+期|第[\d一二三四五六七八九十]{1,4}期|\d+号|"
    r"[一二三四五六七八九十]+号|[^\d\s]-[^\d\s]|\d-\d+期"
)
TRANCHE_END = re.compile(r"(?:优先[A-Z\d]?级|优先[A-Z\d]?档|次级|次优先级|夹层级?|劣后级?|[A-Z]\d?档|优先)\Z")
CATEGORY_RE = re.compile(
    r"公募|首单|首批|首只|类|板块|全市场|上市|新发|该|本|此|某|一单|多单|系列|同类|相关|这"
)
ORG_END_RE = re.compile(r"(?:公司|集团|银行|政府|财政厅)\Z")


@dataclass
class NameHit:
    start: int
    end: int
    name: str
    key: str
    suffix: str
    type: str
    kind: str  # full | short | generic
    quoted: bool
    in_title: bool
    body: str
    aliases: list[str] = field(default_factory=list)  # defined right after (简称“…”)
    alias_spans: list[tuple[int, int]] = field(default_factory=list)


@cache
def _suffixes() -> dict[str, tuple[str, str]]:
    return {r[0]: (r[1], r[2]) for r in table("deal_suffixes.tsv")}


@cache
def anchor_re() -> re.Pattern:
    parts = []
    for suf in sorted(_suffixes(), key=len, reverse=True):
        if suf.isascii():
            parts.append(re.escape(suf) + r"(?![A-Za-z])")
        else:
            parts.append(r"[ \t\n]{0,40}".join(re.escape(c) for c in suf))
    return re.compile("|".join(parts))


@cache
def _stop_re() -> re.Pattern:
    return re.compile("(?:" + "|".join(lines("deal_stopwords.txt")) + r"|(?<!资)本)\Z")


@cache
def _stop_last_chars() -> frozenset[str] | None:
    """Last characters of the stop words: a stop can end at i only if folded[i-1] is one of them.

    None (check every position) if a stop-word line does not end in a plain character.
    """
    out = {"本"}
    for w in lines("deal_stopwords.txt"):
        if not w or not ("\u4e00" <= w[-1] <= "\u9fff" or w[-1].isalnum()) or w[-2:-1] == "\\":
            return None
        out.add(w[-1])
    return frozenset(out)


_ASCII_NAME = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.&+_")


def _is_name_char(ch: str) -> bool:
    """CJK ideographs, ASCII letters/digits and a few joiners (hot: string compares only)."""
    return "\u4e00" <= ch <= "\u9fff" or ch in _ASCII_NAME or "\u3400" <= ch <= "\u4dbf" or ch in "〇·"


def _continuation(folded: str, i: int, a: int, k: int) -> bool:
    """May a left scan at ``i`` (body = folded[i:a]) cross the line break ending at ``k``?"""
    if k <= 0 or not _is_name_char(folded[k - 1]) and folded[k - 1] != ")":
        return False
    body = re.sub(r"\s+", "", folded[i:a])
    if not body:
        return True
    if re.match(r"[\d第期号]", body) and not YEAR_RE.match(body):
        return True
    if YEAR_RE.match(body):
        ls = folded.rfind("\n", 0, k) + 1
        prev = re.split(r"\t| {2,}|\|", folded[ls:k])[-1].strip()
        return bool(ORG_END_RE.search(prev))
    return False


def scan_left(folded: str, a: int, floor: int, stops: set[int]) -> int:
    """Start of the name body that ends at ``a``."""
    stop_re = _stop_re()
    last = _stop_last_chars()
    i, depth = a, 0
    while i > floor and a - i < _MAX_NAME:
        j = i - 1
        ch = folded[j]
        if "\u4e00" <= ch <= "\u9fff":  # the common case, same tests as below for an ideograph
            if (i in stops and i != a) or (
                (last is None or ch in last) and stop_re.search(folded[max(0, i - 12) : i])
            ):
                break
            i = j
            continue
        if ch.isspace():
            k = j
            while k > floor and folded[k - 1].isspace():
                k -= 1
            gap = folded[k:i]
            if "\n" in gap:
                if not _continuation(folded, i, a, k):
                    break
            elif "\t" in gap or len(gap) > 1:
                break
            elif not (folded[i] == "-" or (k > 0 and folded[k - 1] == "-")):
                break
            i = k
            continue
        if i in stops and i != a:
            break
        if (last is None or folded[i - 1] in last) and stop_re.search(folded[max(0, i - 12) : i]):
            break
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                break
            depth -= 1
        elif ch == "-" and j > 0 and folded[j - 1] == "-":
            break
        elif ch == "%" and j > 0 and folded[j - 1].isdigit():
            pass  # a coupon inside a bond's description name ("2028年到期4.1%高级无抵押债券")
        elif not _is_name_char(ch):
            break
        i = j
    # drop leading connectors, dashes, serial numbers glued by a cell gap
    while i < a and (folded[i].isspace() or folded[i] in "-)、"):
        i += 1
    m = re.match(r"(?:以及|和|与|及|、)", folded[i:a])
    if m and a - i - m.end() >= 4 and not (i > 0 and folded[i - 1] in '“"「『《'):
        i += m.end()
    return i


_ISSUE_NO = re.compile(r"(?:\d{1,3}|[一二三四五六七八九十]{1,3})号|第[\d一二三四五六七八九十]{1,4}期")


def _trailing_issue_no(folded: str, b: int) -> int:
    """A numbered issue written after the suffix ("…专项计划01号", "…专项计划第3期") is part of its name."""
    m = _ISSUE_NO.match(folded, b)
    return m.end() if m else b


def _trailing_parens(folded: str, b: int) -> int:
    while b < len(folded) and folded[b] == "(":
        close = folded.find(")", b + 1, b + 20)
        if close < 0:
            break
        content = folded[b + 1 : close]
        if (
            not content
            or re.search(r"简称|下称|以下|称|[“”\"「」『』]|单位|亿|万|元|%|含|即|下同", content)
            or re.fullmatch(r"\d{4,6}", content)
            or "\n" in content
        ):
            break
        b = close + 1
    return b


def _quoted(folded: str, s: int) -> bool:
    j = s - 1
    while j >= 0 and folded[j] in " \t":
        j -= 1
    if j < 0:
        return False
    if folded[j] in "“「『《〈":
        return True
    if folded[j] in "\"'":
        ls = folded.rfind("\n", 0, j) + 1
        return folded.count(folded[j], ls, j) % 2 == 0
    return False


_LABELLED_RE = re.compile(r"(?:名称|全称)\s*(?:[:：为是]|\t| {2,})\s*\Z")
_NOT_GENERIC_RE = re.compile(r"新增|额度|一般债券|地方政府")
_TRUST_RE = re.compile(r"(?:贷款|信贷|个人|汽车|消费)")
_LONGER_BOND_RE = re.compile(r"(?:公司|企业|金融|专项)\Z")
_PERIOD_ONLY = re.compile(r"(?:19|20)\d\d年(?:\d{1,2}月|第?[一二三四1-4]季度|[上下]半年|前三季度|以来|全年)")


@cache
def _reit_category_re() -> re.Pattern:
    """A short REIT body that is only a category word, with at most one character before it."""
    return re.compile(r"[\u4e00-\u9fff]?(?:" + alternation(lines("reit_categories.txt")) + ")")


def _valid(body: str, suffix: str, kind: str, quoted: bool, folded: str, s: int) -> bool:
    if len(body) < 2 or _PERIOD_ONLY.match(body):
        return False
    labelled = bool(_LABELLED_RE.search(folded[max(0, s - 8) : s]))
    marker = bool(MARKER_RE.search(body))
    if kind == "short":
        if suffix == "REIT":
            return (
                not CATEGORY_RE.search(body)
                and not re.search(r"\d", body[:1])
                and not _reit_category_re().fullmatch(body)
            )
        if suffix in ("专项计划",):
            return quoted and len(body) >= 4 and not CATEGORY_RE.search(body)
        if suffix in ("ABS", "ABN"):
            return len(body) >= 4 and not CATEGORY_RE.search(body)
        return marker
    if suffix == "基础设施证券投资基金":
        return not CATEGORY_RE.search(body) or marker
    if kind == "generic":
        if _NOT_GENERIC_RE.search(body):
            return False
        return marker or (quoted and len(body) >= 2) or labelled
    return marker or quoted or labelled


_LABEL_AFTER = re.compile(r"[ \t]{0,2}(?:简称|全称|代码|名称|类型|期限|[:：|\t])")


def _label_key_line(folded: str, s: int, a: int, b: int) -> bool:
    """A suffix that starts its line and is followed by a field label or role word ("债券简称：",
    "资产支持证券管理人：") is a key of a key: value line, not the tail of a name broken at the line
    break before it."""
    ls = folded.rfind("\n", 0, a) + 1
    if s >= ls or folded[ls:a].strip():
        return False
    return bool(_LABEL_AFTER.match(folded, b) or _role_words_re().match(folded, b))


@cache
def _role_words_re() -> re.Pattern:
    return re.compile(alternation(r[0] for r in table("roles.tsv")))


def find_names(folded: str, original: str, title_end: int) -> list[NameHit]:
    """Every deal-name mention in the folded full text (title + "\\n" + text)."""
    hits: list[NameHit] = []
    anchors = list(itertools.islice(anchor_re().finditer(folded), MAX_ANCHORS))
    ends = {m.end() for m in anchors}
    sufs = _suffixes()
    for m in anchors:
        a, b = m.start(), m.end()
        suffix = _WS_RE.sub("", m.group())
        typ, kind = sufs[suffix]
        if suffix == "REIT" and folded[b : b + 1] in "sS":
            continue
        s = scan_left(folded, a, 0, ends)
        if _label_key_line(folded, s, a, b):
            continue
        body = _WS_RE.sub("", folded[s:a])
        if suffix in ("资产支持证券", "资产支持票据"):
            if TRANCHE_END.search(body) or a in ends or not body:
                continue
            if _TRUST_RE.search(body):
                typ = "trust ABS"
        if suffix == "债券" and _LONGER_BOND_RE.search(body):
            continue  # handled by the longer suffix
        quoted = _quoted(folded, s)
        if quoted and kind == "generic" and folded[b : b + 1] not in "”」』\"'》":
            quoted = False  # the quote goes on past the name: a document title, not a deal
        if not _valid(body, suffix, kind, quoted, folded, s):
            continue
        e = _trailing_parens(folded, _trailing_issue_no(folded, b))
        name = clean_name(original[s:e])
        hit = NameHit(
            start=s,
            end=e,
            name=name,
            key=norm_key(name),
            suffix=suffix,
            type=typ,
            kind=kind,
            quoted=quoted,
            in_title=s < title_end,
            body=body,
        )
        _defined_aliases(folded, original, hit)
        hits.append(hit)
    return hits


_ALIAS_RE = re.compile(
    r"\s{0,2}[\(（]\s{0,2}(?:以下|下文)?(?:简称|下称|又称|简称为|以下简称)?\s{0,2}[:：为]?\s{0,2}"
    r"[“\"「『]([^”\"」』\n]{1,40})[”\"」』]"
    r"(?:\s{0,2}(?:或|、|,|，)\s{0,2}[“\"「『]([^”\"」』\n]{1,40})[”\"」』])?"
)


def _defined_aliases(folded: str, original: str, hit: NameHit) -> None:
    q = hit.end
    if q < len(folded) and folded[q] in '”」』"》':
        q += 1
    m = _ALIAS_RE.match(folded, q)
    if not m:
        return
    for g in (1, 2):
        if m.group(g):
            hit.aliases.append(original[m.start(g) : m.end(g)].strip())
            hit.alias_spans.append((m.start(g), m.end(g)))


_NOT_ALNUM = re.compile(r"[\W_]")  # \w is isalnum() or "_": this keeps exactly the isalnum() chars


def compact_chars(s: str) -> str:
    """Letters, digits and ideographs of a name, for fuzzy short-name matching."""
    return _NOT_ALNUM.sub("", norm_key(s))


def is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(c in it for c in short)


_CODE_RE = re.compile(r"\(\d{5,6}\)")


def strip_code(key: str) -> str:
    return _CODE_RE.sub("", key) if "(" in key else key


def tail_key(key: str) -> tuple[str, str] | None:
    m = YEAR_RE.search(key)
    if not m or m.start() < 2:
        return None
    return key[: m.start()], key[m.start() :]


GENERIC_ALIASES = re.compile(
    r"^(?:本|该|此)?(?:期|次)?(?:债券|专项计划|计划|基金|产品|票据|中期票据|证券|资产支持证券)$"
)


def alias_generic(alias: str) -> bool:
    return bool(GENERIC_ALIASES.match(norm_key(alias))) or alias in lines("deal_stopwords.txt")


__all__ = [
    "NameHit",
    "find_names",
    "alternation",
    "is_subsequence",
    "compact_chars",
    "strip_code",
    "tail_key",
    "alias_generic",
]
