"""Deal extraction entry point: text in, deal mentions and aggregate statements out.

``extract_document(doc_id, title, text, published_at=None) -> Extraction`` is pure (no I/O besides
reading the shipped data files once) and never raises on odd input. All spans are ``[start, end)``
offsets into ``title + "\\n" + text``.

``Extraction.mentions`` — one dict per deal named in the document:
    doc_id, deal_name (longest complete name as written, line breaks removed), aliases (list[str]),
    type (ABS | ABN | trust ABS | insurance ABS | REIT | bond), asset_class, exchange,
    event (发行 | 设立 | 挂牌 | 获批 | 申报 | 其他), event_date (datetime.date | None), date_text,
    scale_yuan (Decimal | None; None for other currencies), scale_text (as written), scale_unit
    (亿元, 万元, 元, 万美元 ...), scale_currency (CNY, USD ...), scale_amount (Decimal in that unit),
    scale_qualifier (约/逾/超/近/不超过 ...), issuers / managers (list[str], full names when the
    text links a short name to one), issuer_spans / manager_spans (list of [s, e]),
    name_span [s, e], scale_span [s, e] | None, evidence (the sentence naming the deal),
    evidence_span [s, e].
``Extraction.aggregates`` — statements about many deals (累计/合计/年内/共计/市场份额 ...):
    doc_id, what ("amount" | "count" | "share"), value (Decimal; yuan for amounts), unit, text,
    scope (scope words found, e.g. ["累计", "年内"]), span [s, e].

The work is split: ``names`` finds deal names, ``money`` amounts, ``tables`` table cells,
``parties`` organisations with roles, ``linking`` attaches facts to deals, ``classify`` the rest.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from ._resources import alternation, anchored_finditer, char_offsets, lines, table
from .classify import asset_class, event, exchange, find_date
from .linking import Linker, Mention
from .money import Money, find_money
from .names import NameHit, alias_generic, compact_chars, find_names, is_subsequence, strip_code, tail_key
from .parties import (
    PRONOUNS,
    RoleHit,
    _trim_left,
    find_full_orgs,
    find_org_aliases,
    find_roles,
    full_org_end,
    generic_aliases,
    org_suffix_end,
    role_map,
    split_orgs,
)
from .tables import find_tables
from .textnorm import clean_name, fold, norm_key

MAX_CHARS = 2_000_000  # longer documents are cut (never hang on absurd input)


@dataclass
class Extraction:
    mentions: list[dict[str, Any]] = field(default_factory=list)
    aggregates: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Deal:
    hits: list[NameHit]
    canon: NameHit
    aliases: list[str] = field(default_factory=list)
    scale: list[tuple] = field(default_factory=list)  # (rank key, Money-like dict)
    issuers: dict[str, tuple[str, list[int]]] = field(default_factory=dict)
    managers: dict[str, tuple[str, list[int]]] = field(default_factory=dict)
    date: tuple[str, dt.date | None] | None = None


@cache
def _cue_re() -> tuple[re.Pattern, dict[str, str]]:
    rows = table("scale_cues.tsv")
    return re.compile(alternation(r[0] for r in rows)), {r[0]: r[1] for r in rows}


@cache
def _excl_re() -> re.Pattern:
    return re.compile(alternation(lines("scale_exclusions.txt")))


@cache
def _rank_after_re() -> re.Pattern:
    return re.compile(r"[^，,。；;\n]{0,6}?(?:" + alternation(lines("ranking_cues.txt")) + ")")


@cache
def _agg_re() -> re.Pattern:
    return re.compile(alternation(lines("aggregate_cues.txt")))


_TRANCHE_WORDS = {"优先", "次级", "夹层", "品种", "A档", "B档", "分档"}
_COUNT_RE = re.compile(r"(?:\d+|[两二三四五六七八九十]+)\s*(?:单|只|家|笔|支|期产品|个项目|个产品)")
_OTHER_DEAL = re.compile(r"那单|另一单|另一只|此前发行|第\d+期产品|去年|上一期|筹备|预计|拟于|后续")
_MULTI_DEAL = re.compile(r"(?<![\d.])(?:[2-9]|\d{2,}|[两三四五六七八九十]+)\s*(?:单|只)")
_TRANCHE_SENT = re.compile(r"品种[一二三四五六1-9]|优先[A-Z]?[级档]|次级|夹层")
_SHELF_NAME = re.compile(r"\d+-\d+期|(?:19|20)\d\d-(?:19|20)\d\d年度")
_CLASS_ORDER = ["final", "issue", "cap", "base", "weak", "shelf"]


def extract_document(
    doc_id: str, title: str, text: str, published_at: dt.datetime | None = None
) -> Extraction:
    """Facts of one document; spans are [start, end) offsets into ``title + "\\n" + text``."""
    title = title if isinstance(title, str) else ""
    text = text if isinstance(text, str) else ""
    if not isinstance(published_at, dt.datetime):
        published_at = None
    res = _extract(title, text, published_at)
    for d in res.mentions + res.aggregates:  # fresh dicts per call (no cache shares them)
        d["doc_id"] = doc_id
    return res


def clear_caches() -> None:
    """Forget every content-keyed cache (benchmarks call this per document to measure cold work).

    There is no whole-document cache: each call extracts afresh. Only small per-window caches
    (organisation-name windows) exist, bounded in size.
    """
    _trim_left.cache_clear()
    norm_key.cache_clear()


def _extract(title: str, text: str, published_at: dt.datetime | None) -> Extraction:
    full = (title + "\n" + text)[:MAX_CHARS]
    folded = fold(full)
    tlen = len(title)
    hits = find_names(folded, full, tlen)
    deals, alias_index = _group(hits, folded)
    if not deals:
        return Extraction([], _aggregates(folded, full, find_money(folded, full), set()))
    mentions = _mentions(deals, folded, alias_index)
    linker = Linker(folded, mentions, len(deals))
    org_aliases = find_org_aliases(folded)
    full_orgs = find_full_orgs(folded)
    rows = find_tables(folded)
    monies = sorted(find_money(folded, full) + _kv_monies(folded, full), key=lambda x: x.start)
    used: set[int] = set()
    _scales_from_text(deals, monies, folded, linker, used)
    _from_tables(deals, rows, linker, full)
    _parties(deals, folded, full, linker, org_aliases, full_orgs)
    aggs = _aggregates(folded, full, monies, used)
    out = [_mention_dict(d, folded, full, linker, published_at) for d in deals]
    return Extraction(out, aggs)


# ---------------------------------------------------------------- grouping names into deals


_ISSUE_RE = re.compile(r"\d{4}年(?:度)?第[\d一二三四五六七八九十]{1,3}期")


def _group(hits: list[NameHit], folded: str) -> tuple[list[Deal], dict[str, int]]:
    deals: list[Deal] = []
    index: dict[str, int] = {}
    alias_index: dict[str, int] = {}

    def add(h: NameHit, k: int) -> None:
        deals[k].hits.append(h)
        index.setdefault(h.key, k)
        index.setdefault(strip_code(h.key), k)
        for a in h.aliases:
            alias_index.setdefault(norm_key(a), k)

    order = sorted(hits, key=lambda h: (h.kind == "short", h.in_title, h.start))
    for h in order:
        k = index.get(h.key, index.get(strip_code(h.key), alias_index.get(h.key)))
        if k is None:
            tk = tail_key(h.key)
            if tk:
                for j, d in enumerate(deals):
                    for g in d.hits:
                        gk = tail_key(g.key)
                        if (
                            gk
                            and gk[1] == tk[1]
                            and g.suffix == h.suffix
                            and (gk[0][:2] == tk[0][:2] or is_subsequence(tk[0], gk[0]))
                        ):
                            k = j
                            break
                    if k is not None:
                        break
        if k is None and (h.in_title or h.kind == "short"):
            same = [j for j, d in enumerate(deals) if not d.canon.in_title and d.canon.type == h.type]
            cc = compact_chars(h.body)
            sub = [
                j
                for j, d in enumerate(deals)
                if d.canon.kind != "short"
                and is_subsequence(cc, compact_chars(d.canon.name))
                and len(cc) >= 2
            ]
            issue = _ISSUE_RE.search(h.key) if h.in_title else None
            same_issue = [
                j
                for j, d in enumerate(deals)
                if issue
                and not d.canon.in_title
                and d.canon.suffix == h.suffix
                and (m2 := _ISSUE_RE.search(d.canon.key))
                and m2.group() == issue.group()
            ]
            if len(sub) == 1:
                k = sub[0]
            elif len(same_issue) == 1:
                # a notice's title often spells its deal differently ("江苏银行…2025年第一期…证券" for
                # the body's "苏元2025年第一期…证券"): the only body deal of that year, period and suffix
                k = same_issue[0]
            elif h.in_title and h.kind == "short" and len(same) == 1 and h.suffix not in ("REIT", "专项计划"):
                k = same[0]
            elif h.kind == "short" and h.suffix not in ("REIT", "专项计划"):
                continue
        if k is None:
            deals.append(Deal(hits=[], canon=h))
            k = len(deals) - 1
        add(h, k)
    for d in deals:
        body = [h for h in d.hits if not h.in_title]
        pool = body or d.hits
        full_hits = [h for h in pool if h.kind != "short"] or pool
        d.canon = max(
            full_hits, key=lambda h: (bool(re.search(r"公司|集团", h.name[:40])), len(h.key), -h.start)
        )
        seen = {d.canon.key}
        for h in d.hits:
            for a in [h.name] + h.aliases:
                ka = norm_key(a)
                if ka not in seen and not alias_generic(a):
                    seen.add(ka)
                    d.aliases.append(a)
    order_idx = sorted(range(len(deals)), key=lambda j: min(h.start for h in deals[j].hits))
    remap = {old: new for new, old in enumerate(order_idx)}
    deals = [deals[j] for j in order_idx]
    alias_index = {a: remap[k] for a, k in alias_index.items()}
    for key, k in list(index.items()):
        alias_index.setdefault(key, remap[k])
    return deals, alias_index


_INFORMAL = re.compile(r"([\u4e00-\u9fff]{5,14}?)(?:项目|产品)")


def _mentions(deals: list[Deal], folded: str, alias_index: dict[str, int]) -> list[Mention]:
    out: list[Mention] = []
    covered: list[tuple[int, int]] = []
    for k, d in enumerate(deals):
        for h in d.hits:
            out.append(Mention(h.start, h.end, k))
            covered.append((h.start, h.end))
    # informal references: "浙商证券沪杭甬项目" for "浙商证券(601878)沪杭甬杭徽高速…基金"
    for k, d in enumerate(deals):
        cc = compact_chars(d.canon.name)
        if len(cc) < 6:
            continue
        head = cc[:2]
        p = folded.find(head)
        while p >= 0:
            if not any(s <= p < e for s, e in covered):
                m = _INFORMAL.match(folded, p)
                if m and len(m.group(1)) >= 5 and is_subsequence(compact_chars(m.group(1)), cc):
                    out.append(Mention(p, m.end(1), k))
            p = folded.find(head, p + 2)
    for alias, k in alias_index.items():
        if len(alias) < 2:
            continue
        fa = fold(alias)
        p = folded.find(fa)
        while p >= 0:
            if not any(s <= p < e for s, e in covered):
                out.append(Mention(p, p + len(fa), k))
            p = folded.find(fa, p + len(fa))
    return out


# ---------------------------------------------------------------- scale


def _rank(klass: str, shelf: bool) -> int:
    if shelf and klass == "shelf":
        return -1
    return _CLASS_ORDER.index(klass)


_RESPECTIVELY = re.compile(r"分别")


def _respective_scales(deals, monies: list[Money], folded: str, linker: Linker, used: set[int]) -> None:
    """ "A和B…发行规模分别为5亿元和6亿元": as many amounts after 分别 as deals named before it in the
    sentence, with a scale cue in the clause before 分别, go to those deals in order."""
    cue_re, cue_cls = _cue_re()
    for r in _RESPECTIVELY.finditer(folded):
        s0, s1 = linker.sentence(r.start())
        cs = max(s0, max(folded.rfind(c, s0, r.start()) for c in "，,") + 1)
        cues = cue_re.findall(folded[cs : r.start()])
        if not cues:
            continue
        ks = linker.deals_in(s0, r.start())
        ms = [i for i, m in enumerate(monies) if r.end() <= m.start < s1 and i not in used]
        if len(ks) < 2 or len(ms) != len(ks):
            continue
        klass = cue_cls[cues[-1]]
        for k, i in zip(ks, ms, strict=True):
            m = monies[i]
            shelf = bool(_SHELF_NAME.search(deals[k].canon.key))
            deals[k].scale.append(
                ((_rank(klass, shelf), 0 if m.currency == "CNY" else 1, m.start), _money_dict(m))
            )
            used.add(i)


def _money_dict(m: Money) -> dict:
    return {
        "yuan": m.yuan,
        "text": m.text,
        "unit": m.unit_text if m.currency == "CNY" else m.unit + _cur_word(m),
        "currency": m.currency,
        "amount": m.amount,
        "qualifier": m.qualifier,
        "span": [m.start, m.end],
    }


def _scales_from_text(deals, monies: list[Money], folded: str, linker: Linker, used: set[int]) -> None:
    _respective_scales(deals, monies, folded, linker, used)
    cue_re, cue_cls = _cue_re()
    excl = _excl_re()
    spans = sorted((h.start, h.end) for d in deals for h in d.hits)
    for idx, m in enumerate(monies):
        if idx in used:
            continue
        s0, s1 = linker.sentence(m.start)
        cs = max(s0, max((folded.rfind(c, s0, m.start) for c in "，,:：(（\t"), default=-1) + 1)
        if folded[cs - 1 : cs] in ":：\t" and cs - 1 > s0:
            cs = max(s0, max((folded.rfind(c, s0, cs - 1) for c in "，,"), default=-1) + 1)
        clause_s = folded[cs : m.start]
        if any(a < m.start and b > cs for a, b in spans):  # blank out names inside the clause
            clause = list(clause_s)
            for a, b in spans:
                for p in range(max(a, cs), min(b, m.start)):
                    clause[p - cs] = "\u3000"
            clause_s = "".join(clause)
        cues = list(cue_re.finditer(clause_s))
        if not cues:
            continue
        cue = cues[-1]
        klass = cue_cls[cue.group()]
        if cue.group() == "以" and clause_s[: cue.start()].strip('\u3000 “”"') != "":
            continue
        last_name = clause_s.rfind("\u3000", 0, cue.start())
        rest = clause_s[last_name + 1 : cue.start()] + "\u3000" + clause_s[cue.end() :]
        sentence = folded[s0:s1]
        before = folded[s0 : m.start]
        if _agg_re().search(before) and _COUNT_RE.search(before) or _MULTI_DEAL.search(before):
            continue
        if _rank_after_re().match(folded, m.end) and not any(s0 <= a < m.start for a, _ in spans):
            continue  # "X公司以发行规模320亿元位列第一": a firm's ranking figure (a named deal may rank)
        if _TRANCHE_SENT.search(before[: cs - s0]) and "合计" not in clause_s and "总额" not in clause_s:
            continue
        bad = [x.group() for x in excl.finditer(rest)]
        if "合计" in clause_s and bad and all(b in _TRANCHE_WORDS for b in bad):
            bad = []
        if bad:
            continue
        if "合计" in clause_s and _COUNT_RE.search(folded[s0 : m.start]):
            continue
        if m.qualifier in ("累计", "合计", "共计", "总计") and _COUNT_RE.search(sentence):
            continue
        if m.qualifier in ("不超过",) and klass in ("issue", "final"):
            klass = "cap"
        k = linker.link(m.start, fallback=False)
        if k is None:
            if _OTHER_DEAL.search(sentence):
                continue
            k = linker.link(m.start)
        if k is None:
            continue
        d = deals[k]
        shelf = bool(_SHELF_NAME.search(d.canon.key))
        d.scale.append(((_rank(klass, shelf), 0 if m.currency == "CNY" else 1, m.start), _money_dict(m)))
        used.add(idx)


_KV_RE = re.compile(
    r"(?m)^[ \t]*([^\n\t:：]{2,24}?)\((?:单位[:：])?\s*((?:亿|万)?元)\)[ \t]*[:：\t][ \t]*"
    r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)[ \t]*$"
)


def _kv_monies(folded: str, full: str) -> list[Money]:
    """Key-value lines "募集期间净认购金额（单位：元）<TAB>3,210,000,000.00": the unit is in the key."""
    out = []
    for m in _KV_RE.finditer(folded):
        from .money import UNITS, parse_number

        v = parse_number(m.group(3))
        if v is None:
            continue
        unit = m.group(2)[:-1]
        out.append(Money(m.start(3), m.end(3), full[m.start(3) : m.end(3)], v, unit, "CNY", None, m.start(3)))
        del UNITS
    return out


def _cur_word(m: Money) -> str:
    return {"USD": "美元", "HKD": "港元", "EUR": "欧元", "GBP": "英镑", "JPY": "日元"}.get(m.currency, "元")


def _from_tables(deals, rows, linker: Linker, full: str) -> None:
    for r in rows:
        if r.tranche_table:
            if r.is_total and len(deals) == 1 and r.amounts:
                a = r.amounts[0]
                deals[0].scale.append(((_CLASS_ORDER.index("issue"), 0, a.cell.start), _cell_money(a)))
            continue
        if r.name is None or r.is_total:
            continue
        k = None
        for p in range(r.name.start, r.name.end):
            k = linker.deal_at(p)
            if k is not None:
                break
        if k is None:
            continue
        d = deals[k]
        shelf = bool(_SHELF_NAME.search(d.canon.key))
        for a in r.amounts:
            d.scale.append(
                ((_rank(a.klass, shelf) - 10, 0 if a.currency == "CNY" else 1, a.cell.start), _cell_money(a))
            )
        for role, cells in (("issuer", r.issuers), ("manager", r.managers)):
            for c in cells:
                for _org, span in split_orgs(c.text, c.start):
                    _add_party(d, role, full[span[0] : span[1]], span)
        if r.date is not None and d.date is None:
            d.date = ("cell", r.date)


def _cell_money(a) -> dict:
    return {
        "yuan": a.yuan,
        "text": a.cell.text,
        "unit": a.unit,
        "currency": a.currency,
        "amount": a.amount,
        "qualifier": None,
        "span": [a.cell.start, a.cell.end],
    }


# ---------------------------------------------------------------- parties


def _add_party(d: Deal, role: str, name: str, span) -> None:
    book = d.issuers if role == "issuer" else d.managers
    key = norm_key(name)
    if not key:
        return
    if key in book:
        book[key][1].append(list(span))
    else:
        book[key] = (name, [list(span)])


def _parties(deals, folded: str, full: str, linker: Linker, org_aliases, full_orgs) -> None:
    alias_map: dict[str, tuple[str, tuple[int, int]]] = {}
    for a in org_aliases:
        alias_map.setdefault(norm_key(a.alias), (a.full, a.full_span))
    fulls = [(o, sp) for o, sp in full_orgs]
    for a in org_aliases:
        fulls.append((a.full, a.full_span))
    full_names = {
        norm_key(o): sp for o, sp in fulls if full_org_end().search(o) or org_suffix_end().search(o)
    }
    galias = generic_aliases()

    def resolve(org: str, span, pos: int):
        key = norm_key(org)
        if key in ("其", "后者") or (key in PRONOUNS and key not in alias_map):
            prev = [(sp, o) for o, sp in fulls if sp[1] <= pos]
            if not prev:
                return None
            sp, o = max(prev)
            return full[sp[0] : sp[1]], sp
        if key in alias_map:
            f, sp = alias_map[key]
            return full[sp[0] : sp[1]], sp
        g = galias.get(org) or galias.get(key)
        if g and norm_key(g) in full_names:
            sp = full_names[norm_key(g)]
            return full[sp[0] : sp[1]], sp
        if not full_org_end().search(key):
            cands = {k for k in full_names if k.startswith(key) and k != key}
            if len(cands) == 1:
                sp = full_names[cands.pop()]
                return full[sp[0] : sp[1]], sp
        return full[span[0] : span[1]], span

    hits: list[RoleHit] = list(find_roles(folded))
    rm = role_map()
    for a in org_aliases:  # (以下简称“发行人”) makes the org the issuer
        if a.alias in rm and rm[a.alias] != "neither":
            hits.append(RoleHit(a.full, a.full_span, rm[a.alias], a.pos, None))
    for h in hits:
        if h.role == "neither":
            continue
        if h.need_follow:
            k = linker.deal_near(h.follow)
            targets = [] if k is None else [k]
        elif h.shared:
            targets = linker.deals_before_in_paragraph(h.pos) or [linker.link(h.pos, h.follow)]
        else:
            targets = [linker.link(h.pos, h.follow)]
        targets = [k for k in targets if k is not None]
        if not targets:
            continue
        r = resolve(h.org, h.span, h.span[0])
        if r is None:
            continue
        name, span = r
        name = clean_name(name)
        if len(norm_key(name)) < 2:
            continue
        for k in targets:
            _add_party(deals[k], h.role, name, span)
    for k, d in enumerate(deals):
        if d.canon.type == "REIT" and not d.managers:
            for m in re.finditer(
                r"([\u4e00-\u9fff]{2,12}基金管理(?:股份)?有限公司)(?:[^，。]{0,4}(?:发布|公告)|关于)", folded
            ):
                if linker.link(m.end()) == k:
                    _add_party(d, "manager", full[m.start(1) : m.end(1)], (m.start(1), m.end(1)))
        if d.canon.type in ("bond", "ABN") and not d.issuers:
            _issuer_from_subject(d, folded, full, alias_map)
        if d.canon.type in ("bond", "ABN") and not d.issuers:
            h = d.canon
            seg = folded[h.start : h.end]
            m = re.match(
                r"\s*(?:(?:19|20)\d\d年度?)?\s*(.{2,40}?(?:股份有限公司|有限责任公司|有限公司|总公司|集团公司|"
                r"省政府|市政府|自治区政府|财政厅|银行(?!股份|有限)))",
                seg,
            )
            if m:
                _add_party(
                    d,
                    "issuer",
                    clean_name(full[h.start + m.start(1) : h.start + m.end(1)]),
                    (h.start + m.start(1), h.start + m.end(1)),
                )
            else:
                for ak, (_f, sp) in alias_map.items():
                    if len(ak) >= 2 and norm_key(seg).startswith(ak):
                        _add_party(d, "issuer", full[sp[0] : sp[1]], sp)
                        break
        _dedupe_parties(d)


def _issuer_from_subject(d: Deal, folded: str, full: str, alias_map) -> None:
    for h in d.hits:
        if h.in_title:
            continue
        cs = max(folded.rfind(c, 0, h.start) for c in "，。；\n") + 1
        clause = folded[cs : h.start]
        m = re.match(
            r"\s*([\u4e00-\u9fff()]{2,40}?(?:股份有限公司|有限责任公司|有限公司|总公司|集团公司|集团(?![\u4e00-\u9fff]{0,3}公司)))"
            r"(?:\([^)]{0,30}\))?[^，。]{0,24}?(?:发行|招标发行|公开发行)\s*[“\"]?\s*\Z",
            clause,
        )
        if m:
            _add_party(
                d,
                "issuer",
                clean_name(full[cs + m.start(1) : cs + m.end(1)]),
                (cs + m.start(1), cs + m.end(1)),
            )
            return


def _dedupe_parties(d: Deal) -> None:
    for book in (d.issuers, d.managers):
        keys = list(book)
        for k in keys:
            if any(
                o != k and o.startswith(k) and len(o) > len(k) for o in keys
            ) and not full_org_end().search(k):
                book.pop(k, None)
    for k in list(d.managers):
        if k in d.issuers:
            d.managers.pop(k)


# ---------------------------------------------------------------- aggregates


_AGG_COUNT_RE = re.compile(
    r"(?:(?<![\d.])\d{1,6}|[两三四五六七八九十]{1,3})\s?(?:单|只|家|个|笔)(?![\u4e00-\u9fff]{0,1}元)"
)
_AGG_COUNT_ANCHORS = "单只家个笔"
_AGG_SHARE_RE = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,4})?%")
_PCT_ANCHOR = "%"
_SENT_END = "。；\n"  # an aggregate's scope words count from the sentence start
_CLAUSE_END = "。；，\n"  # a share's "占/份额" must be in its own clause
_DIGITS = re.compile(r"\d+")
_QUAL_SCOPES = ("累计", "合计", "共计")


def sentence_start(breaks: list[int], pos: int) -> int:
    """``max(text.rfind(c, 0, pos) for c in chars) + 1`` given ``breaks = char_offsets(text, chars)``.

    WHY: a backward search per figure for each break character re-reads the text; a document's few
    breaks are found once (``char_offsets``) and each figure then costs one bisect.
    """
    k = bisect.bisect_left(breaks, pos)
    return breaks[k - 1] + 1 if k else 0


def _scope(folded: str, s0: int, e: int) -> set[str]:
    """Scope words in ``folded[s0:e]`` (pos/endpos: no slice; the cues are plain literals)."""
    return {x.group() for x in _agg_re().finditer(folded, s0, e)}


def _aggregates(folded: str, full: str, monies: list[Money], used: set[int]) -> list[dict]:
    out = []
    sent = char_offsets(folded, _SENT_END)
    for idx, m in enumerate(monies):
        if idx in used:
            continue
        scope = _scope(folded, sentence_start(sent, m.start), m.start)
        if m.qualifier in _QUAL_SCOPES:
            scope.add(m.qualifier)
        if not scope:
            continue
        out.append(
            {
                "doc_id": None,
                "what": "amount",
                "value": m.yuan if m.yuan is not None else m.amount,
                "unit": "元" if m.currency == "CNY" else m.unit + _cur_word(m),
                "text": m.text,
                "scope": sorted(scope),
                "span": [m.start, m.end],
            }
        )
    for m in anchored_finditer(_AGG_COUNT_RE, _AGG_COUNT_ANCHORS, folded, 12, 2):
        scope = _scope(folded, sentence_start(sent, m.start()), m.start())
        if not scope:
            continue
        num = _DIGITS.match(m.group())
        out.append(
            {
                "doc_id": None,
                "what": "count",
                "value": Decimal(num.group()) if num else None,
                "unit": m.group()[-1],
                "text": full[m.start() : m.end()],
                "scope": sorted(scope),
                "span": [m.start(), m.end()],
            }
        )
    clause = None
    for m in anchored_finditer(_AGG_SHARE_RE, _PCT_ANCHOR, folded, 10):
        if clause is None:
            clause = char_offsets(folded, _CLAUSE_END)
        s0 = sentence_start(clause, m.start())
        if folded.find("占", s0, m.start()) >= 0 or folded.find("份额", s0, m.start()) >= 0:
            out.append(
                {
                    "doc_id": None,
                    "what": "share",
                    "value": Decimal(m.group()[:-1]),
                    "unit": "%",
                    "text": full[m.start() : m.end()],
                    "scope": sorted(_scope(folded, s0, m.start())),
                    "span": [m.start(), m.end()],
                }
            )
    return out


# ---------------------------------------------------------------- output


def _mention_dict(d: Deal, folded: str, full: str, linker: Linker, published_at) -> dict:
    h = d.canon
    scale = min(d.scale, key=lambda x: x[0])[1] if d.scale else None
    first = min((x for x in d.hits if not x.in_title), key=lambda x: x.start, default=h)
    s0, s1 = linker.sentence(first.start)
    while s0 < s1 and full[s0].isspace():
        s0 += 1
    sentence_after = folded[first.end : s1]
    sentence_before = folded[s0 : first.start]
    ev = event(sentence_after[:60], sentence_before[-30:])
    date_text, date_val = None, None
    if d.date and d.date[0] == "cell":
        r = find_date(folded[d.date[1].start : d.date[1].end], published_at)
        if r:
            date_text, date_val = full[d.date[1].start : d.date[1].end], r[1]
    p0, p1 = linker.paragraph(first.start)
    for lo, hi in ((s0, s1), (p0, first.start), (p0, p1)):
        if date_text is None:
            r = find_date(folded[lo:hi], published_at)
            if r:
                date_text, date_val = r
    ctx = folded[s0:s1]
    exch = exchange(ctx, None) or exchange(folded[p0:p1], None)
    if exch is None:
        found = {exchange(folded[x.start : x.end + 40], None) for x in d.hits} - {None}
        exch = found.pop() if len(found) == 1 else exchange(folded, h.type)
    issuers = list(d.issuers.values())
    managers = list(d.managers.values())
    return {
        "doc_id": None,
        "deal_name": h.name,
        "aliases": d.aliases,
        "type": h.type,
        "asset_class": asset_class(norm_key(h.name), ctx),
        "scale_yuan": scale["yuan"] if scale else None,
        "scale_text": scale["text"] if scale else None,
        "scale_unit": scale["unit"] if scale else None,
        "scale_currency": scale["currency"] if scale else None,
        "scale_amount": scale["amount"] if scale else None,
        "scale_qualifier": scale["qualifier"] if scale else None,
        "issuers": [clean_name(n) for n, _ in issuers],
        "managers": [clean_name(n) for n, _ in managers],
        "exchange": exch,
        "event": ev,
        "event_date": date_val,
        "date_text": date_text,
        "name_span": [h.start, h.end],
        "scale_span": scale["span"] if scale else None,
        "issuer_spans": [sp for _, sps in issuers for sp in sps[:1]],
        "manager_spans": [sp for _, sps in managers for sp in sps[:1]],
        "evidence": full[s0:s1],
        "evidence_span": [s0, s1],
    }
