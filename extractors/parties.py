"""Parties: organisation names next to role cue words, with their role.

WHY: the guide scores issuers (原始权益人/发行人/发起机构) and managers (计划管理人/主承销商/受托人 ...)
while guarantors, custodians, rating agencies, pool enterprises and promoters are neither. The role is
read from the cue word touching the name ("X担任计划管理人", "原始权益人为X", "原始权益人：X", a role
label on the line above a name on a cover page), never guessed from the name alone. The name's left
edge comes from punctuation and stop words, refined with jieba on the small window; short names are
resolved to full names only when the text (简称/下称) or the shipped alias table links them to a full
name that appears in the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from ._resources import alternation, anchored_finditer, lines, table
from .names import _is_name_char
from .segment import cut


@dataclass
class RoleHit:
    org: str  # folded name text as found
    span: tuple[int, int]
    role: str  # issuer | manager | neither
    pos: int  # where the cue sits (for linking)
    follow: int | None = None  # position of a deal named right after "…的"
    shared: bool = False  # "…均为X": X holds the role for every deal named before in the paragraph
    need_follow: bool = False  # only valid when a deal is named right at ``follow``


@cache
def role_map() -> dict[str, str]:
    return {r[0]: r[1] for r in table("roles.tsv")}


@cache
def role_group_re() -> re.Pattern:
    alt = alternation(role_map())
    alt = alt.replace("发行人", "发行人(?!民币)")
    return re.compile(rf"(?:{alt})(?:\s{{0,2}}[/／、及和]\s{{0,2}}(?:{alt}))*")


@cache
def role_word_re() -> re.Pattern:
    return re.compile(alternation(role_map()).replace("发行人", "发行人(?!民币)"))


@cache
def org_suffix_end() -> re.Pattern:
    return re.compile(r"(?:" + alternation(lines("org_suffixes.txt")) + r")\)?\Z")


@cache
def full_org_end() -> re.Pattern:
    return re.compile(r"(?:股份有限公司|有限责任公司|有限公司|总公司|集团公司|分行|\(特殊普通合伙\))\Z")


@cache
def _prefix_trim_re() -> re.Pattern:
    return re.compile("(?:" + "|".join(lines("org_prefix_trim.txt")) + ")")


_LEFT_STOP = re.compile(
    r"(?:由|以|是|经|通过|其中|同意|并|且|即|而|则|为|的|在|及其|从|对|向|将|与其|"
    r"关于|显示|介绍|表示|认为|指出|其中)\Z"
)
# every _LEFT_STOP word ends in one of these: the regex runs only where one of them sits
_LEFT_STOP_LAST = frozenset(w[-1] for w in _LEFT_STOP.pattern[3:-3].split("|"))
_ADVERBS = re.compile(r"(?:拟|将|已|同时|共同|分别|也|均|则|继续|正式|拟将|亦|还|依然|仍|再次|此次|本次)\Z")
_RIGHT_STOP = re.compile(
    r"担任|作为|提供|负责|出具|发起|认购|全额|持有|拥有|发布|于\d|将|已|在|为|对|是|等|共同|联合|获得|"
    r"通过|设立|承担|下属|自\d|向|就|给予|以|联席|独家|牵头|签署|与其|及其|合计|占|发行|申报"
)
_ROLE_NOUN_SPLIT = re.compile(  # the leading lookahead only skips positions no split can start at
    r"(?=[、,/／和与及])(?:[、,/／]|(?<=公司)(?:和|与|及)|(?<=银行)(?:和|与|及)|(?<=证券)(?:和|与|及)|"
    r"(?<=集团)(?:和|与|及)|(?<=基金)(?:和|与|及)|(?<=资管)(?:和|与|及)|(?<=\))(?:和|与|及))"
)
PRONOUNS = {"其", "公司", "本公司", "该公司", "发行人", "我公司", "集团", "本集团"}


def _strip_unbalanced(s: str) -> str:
    depth = 0
    for i, ch in enumerate(s):
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return s[:i]
            depth -= 1
    if depth:
        return s[: s.rfind("(")]
    return s


_EXTRA_DROP = ("首次", "此外", "另外", "目前", "随后", "最终", "今年", "近期")


@cache
def _drop_words() -> frozenset[str]:
    return frozenset(lines("org_prefix_trim.txt")) | frozenset(_EXTRA_DROP)


@cache
def _droppable_head_re() -> re.Pattern:
    """Can the first jieba token of a window be dropped? (a drop word or a date-digit run)."""
    return re.compile(r"[\d月日年号]|" + alternation(_drop_words()))


@lru_cache(maxsize=8192)
def _trim_left(item: str, use_jieba: bool = True) -> str:
    last = None
    for m in _prefix_trim_re().finditer(item):
        if len(item) - m.end() >= 2:
            last = m.end()
    if last:
        item = item[last:]
    if (
        use_jieba
        and len(item) > 6
        and _droppable_head_re().match(item)
        and not full_org_end().search(item[:8])
    ):
        # jieba only when the window starts with a droppable word or a date digit: otherwise its
        # first token cannot be dropped and the cut would change nothing
        toks = cut(item)
        drop = _drop_words()
        k = 0
        while k < len(toks) - 1 and (toks[k] in drop or re.fullmatch(r"[\d月日年号]+", toks[k])):
            k += 1
        item = "".join(toks[k:])
    return item


def split_orgs(run: str, base: int) -> list[tuple[str, tuple[int, int]]]:
    out = []
    pos = 0
    for m in list(_ROLE_NOUN_SPLIT.finditer(run)) + [None]:
        e = m.start() if m else len(run)
        piece = run[pos:e]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        if piece:
            out.append((piece, (base + pos + lead, base + pos + lead + len(piece))))
        pos = m.end() if m else len(run)
    return out


def org_right(folded: str, p: int, whole_line: bool = False) -> list[tuple[str, tuple[int, int]]]:
    n = len(folded)
    while p < n and folded[p] in " \t":
        p += 1
    j = p
    while j < n and j - p < 100:
        ch = folded[j]
        if ch in "、,/／()":
            j += 1
            continue
        if ch == " " and j + 1 < n and folded[j + 1] != " " and not whole_line:
            break
        if not _is_name_char(ch):
            break
        j += 1
    run = folded[p:j]
    m = _RIGHT_STOP.search(run, 2)
    if m:
        run = run[: m.start()]
    if "的" in run:
        k = run.rfind("的")
        run = run[k + 1 :] if org_suffix_end().search(run) and len(run) - k > 3 else run[: run.find("的")]
        if k + 1 <= len(folded[p:j]) and folded[p : p + len(run)] != run:
            p = p + k + 1
    run = _strip_unbalanced(run).rstrip("、,/")
    items = []
    for piece, span in split_orgs(run, p):
        if len(piece) >= 2:
            items.append((piece, span))
    return items


def org_left(folded: str, q: int) -> list[tuple[str, tuple[int, int]]]:
    # skip adverbs and one alias parenthesis right before the verb
    while True:
        m = _ADVERBS.search(folded[max(0, q - 4) : q])
        if m:
            q -= len(m.group())
            continue
        break
    if q > 0 and folded[q - 1] == ")":
        o = folded.rfind("(", max(0, q - 40), q - 1)
        if o >= 0:
            q = o
    i, depth = q, 0
    rw = role_word_re()
    while i > 0 and q - i < 100:
        ch = folded[i - 1]
        if "\u4e00" <= ch <= "\u9fff":  # the common case: only the stop-word test applies
            if (
                depth == 0
                and i < q
                and ch in _LEFT_STOP_LAST
                and _LEFT_STOP.search(folded[max(0, i - 4) : i])
            ):
                break
            i -= 1
            continue
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                break
            depth -= 1
        elif ch in "、,":
            if org_suffix_end().search(folded[max(0, i - 31) : i - 1]) and not rw.search(
                folded[max(0, i - 12) : i - 1] + "\x00"
            ):
                i -= 1
                continue
            break
        elif not _is_name_char(ch):
            break
        if (
            depth == 0
            and i < q
            and folded[i - 1] in _LEFT_STOP_LAST
            and _LEFT_STOP.search(folded[max(0, i - 4) : i])
        ):
            break
        i -= 1
    run = folded[i:q]
    if run.startswith(")"):
        run, i = run[1:], i + 1
    items = split_orgs(run, i)
    out = []
    for n, (piece, span) in enumerate(items):
        if n == 0:
            t = _trim_left(piece)
            span = (span[1] - len(t), span[1])
            piece = t
        if len(piece) >= 1:
            out.append((piece, span))
    return out


_VERB_GAP = re.compile(
    r"(?:担任|作为|担当|出任)(?:(?!担任|作为|担当)[^，。；;,、\n“”]){0,80}?\Z|(?<![认以因])为(?:[^，。；;,\n]{0,14}的)?\Z"
)
_AFTER_ROLE = re.compile(r"(?:名称)?\s{0,2}(?:均|都|皆)?(?:为|是|系|:|：)\s{0,3}|(?:名称)?(?:\t| {2,})")
_FOLLOW = re.compile(r"[及和、][^，。；\n]{0,30}?的\s{0,2}[“「《\"]?|的\s{0,2}[“「《\"]?")


# a clause or item number before a role heading on its own line ("第二条 原始权益人", "(三)计划管理人")
_HEADING = re.compile(
    r"|第[一二三四五六七八九十百\d]{1,4}条|[一二三四五六七八九十\d]{1,3}[、.]|[(（][一二三四五六七八九十\d]{1,3}[)）]"
)
# "(以下简称“X”)。" after the name on its own line: the alias is found elsewhere
_ALIAS_TAIL = re.compile(r"\s*[(（](?:以下|下文)?简称[^)）]*[)）]\s*[。;；]?$|[。;；]$")


def _role_of(group: str) -> str:
    roles = [role_map()[w] for w in role_word_re().findall(group)]
    if "issuer" in roles:
        return "issuer"
    if "manager" in roles:
        return "manager"
    return "neither"


_NOT_ORG = re.compile(r"金额|规模|日期|名称|状态|代码|亿元|序号|基础资产|底层资产|资产池|^其他$|^[\d.,\s-]+$")


def find_roles(folded: str) -> list[RoleHit]:
    hits = [h for h in _find_roles(folded) if not _NOT_ORG.search(h.org) and not role_word_re().search(h.org)]
    return hits


def _find_roles(folded: str) -> list[RoleHit]:
    hits: list[RoleHit] = []
    n = len(folded)
    for m in role_group_re().finditer(folded):
        rs, re_ = m.start(), m.end()
        role = _role_of(m.group())
        # (以下简称“管理人”) is an alias definition, handled elsewhere
        if rs > 0 and folded[rs - 1] in '“"「『':
            continue
        fm = _FOLLOW.match(folded, re_)
        follow = fm.end() if fm else None
        # role noun then the name
        am = _AFTER_ROLE.match(folded, re_)
        if am and am.end() < n and folded[am.end()] != "\n":
            shared = am.group().lstrip()[:1] in ("均", "都", "皆")
            for org, span in org_right(folded, am.end()):
                hits.append(RoleHit(org, span, role, rs, None, shared))
            continue
        ls = folded.rfind("\n", 0, rs) + 1
        le = folded.find("\n", re_)
        le = n if le < 0 else le
        if _HEADING.fullmatch(folded[ls:rs].strip()) and folded[re_:le].strip() == "":
            k = le
            while k < n and folded[k].isspace():
                k += 1
            if k < n:
                e2 = folded.find("\n", k)
                e2 = n if e2 < 0 else e2
                line = _ALIAS_TAIL.sub("", folded[k:e2].strip())
                if (
                    line
                    and all(_is_name_char(c) or c in "()、,/ " for c in line)
                    and org_suffix_end().search(line)
                ):
                    for org, span in org_right(folded, k, whole_line=True):
                        hits.append(RoleHit(org, span, role, rs, None))
            continue
        # the name, a verb, then the role noun
        win = folded[max(0, rs - 100) : rs]
        vm = _VERB_GAP.search(win)
        if vm:
            q = rs - (len(win) - vm.start())
            for org, span in org_left(folded, q):
                hits.append(RoleHit(org, span, role, rs, follow))
    for m in _by_verb_re().finditer(folded):
        if re.search(r"担任|作为|为", m.group(1)):
            continue
        role = {r[0]: r[1] for r in table("role_verbs.tsv")}[m.group(2)]
        fm = _FOLLOW.match(folded, m.end())
        for org, span in split_orgs(m.group(1), m.start(1)):
            hits.append(RoleHit(org, span, role, m.start(), fm.end() if fm else None))
    # "X发起的“deal”" / "X承销的deal": the verb gives the role when a deal is named right after 的
    verbs = {r[0]: r[1] for r in table("role_verbs.tsv")}
    for m in _verb_of_re().finditer(folded):
        if m.start() > 0 and folded[m.start() - 1] in "由所":
            continue
        fm = _FOLLOW.match(folded, m.end() - 1)
        if not fm:
            continue
        for org, span in org_left(folded, m.start())[-1:]:
            hits.append(RoleHit(org, span, verbs[m.group(1)], m.start(), fm.end(), need_follow=True))
    return hits


@cache
def _by_verb_re() -> re.Pattern:
    verbs = alternation(r[0] for r in table("role_verbs.tsv"))
    return re.compile(r"由([^，。；;\n“”]{2,80}?)(" + verbs + r")(?!机构|人)")


@cache
def _verb_of_re() -> re.Pattern:
    return re.compile("(" + alternation(r[0] for r in table("role_verbs.tsv")) + ")的")


_ORG_ALIAS_RE = re.compile(
    r"\(\s{0,2}(?:以下|下文)?(?:简称|下称|又称|简称为|以下简称)?\s{0,2}[:：为]?\s{0,2}[“\"「『]([^”\"」』\n]{1,20})[”\"」』]"
    r"(?:\s{0,2}(?:或|、|,)\s{0,2}[“\"「『]([^”\"」』\n]{1,20})[”\"」』])?(?:[^)]{0,30})\)"
)
_BARE_ALIAS_RE = re.compile(r"\(([\u4e00-\u9fff]{2,8})\)")


@dataclass
class OrgAlias:
    alias: str
    full: str
    full_span: tuple[int, int]
    pos: int


def find_org_aliases(folded: str) -> list[OrgAlias]:
    out = []
    for m in _ORG_ALIAS_RE.finditer(folded):
        items = org_left(folded, m.start() + 0) if m.start() > 0 else []
        # org_left skips a paren right before q; here q is the paren itself
        if not items:
            continue
        full, span = items[-1]
        if not org_suffix_end().search(full) or len(full) < 4:
            continue
        for g in (1, 2):
            if m.group(g):
                out.append(OrgAlias(m.group(g).strip(), full, span, m.start()))
    for m in _BARE_ALIAS_RE.finditer(folded):
        items = org_left(folded, m.start())
        if items and full_org_end().search(items[-1][0]) or items and re.search(r"银行\Z", items[-1][0]):
            full, span = items[-1]
            a = m.group(1)
            if not re.search(r"上海|北京|深圳|广州|中国|集团|特殊|普通|合伙|广东|香港|开曼", a):
                out.append(OrgAlias(a, full, span, m.start()))
    return out


_FULL_ORG_RE = re.compile(
    r"[\u4e00-\u9fff][\u4e00-\u9fff()]{1,40}?(?:股份有限公司|有限责任公司|有限公司|总公司|集团)"
)


# every match ends with 司 or 团 and is at most 1 + 40 + 6 characters long
_FULL_ORG_ANCHORS = "司团"


def find_full_orgs(folded: str) -> list[tuple[str, tuple[int, int]]]:
    """Organisation names with a legal-form suffix (for pronoun and short-name resolution)."""
    out = []
    for m in anchored_finditer(_FULL_ORG_RE, _FULL_ORG_ANCHORS, folded, 48):
        s = m.start()
        name = m.group()
        t = _trim_left(_strip_unbalanced(name), False) if len(name) > 4 else name
        t = re.sub(r"^.*(?:为|是|由|以|的|在|和|与|对|将)(?=.{4,}$)", "", t)
        if len(t) >= 4:
            out.append((t, (m.end() - len(t), m.end())))
        del s
    return out


@cache
def generic_aliases() -> dict[str, str]:
    return {r[0]: r[1] for r in table("org_aliases.tsv")}
