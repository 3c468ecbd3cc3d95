"""A synthetic zqrb.cn channel of N generated articles, so benchmarks crawl thousands of documents.

The pages have exactly the zqrb.cn shapes (see :mod:`xinpi.emulator.sites.zqrb`): list
``/bulk/n{N}/index.html`` (page P: ``index_pP.html``; ``div.news_content ul li`` with ``a.lista``
and ``span.date``, newest first, ``下一页`` while more pages exist, 404 past the last) and article
``/bulk/n{N}/{YYYY-MM-DD}/A{epoch ms}.html``, so the real ``zqrb`` spider crawls them with
``channels=bulk/n{N}``.

WHY the count sits in the channel path rather than in an environment variable: one emulator (the
tests' session emulator, or the benchmark's) serves any size at once, and a channel with digits can
never be taken by the zqrb module's ``[a-z]+/[a-z]+`` channel routes, whichever module registers
first. ``XINPI_EMULATOR_BULK_DOCS`` only sets the size of the ``bulk/default`` channel.

Nothing is stored: article ``i`` (0 = newest) is generated on request from ``i`` alone, so 100,000
documents cost no emulator memory, and the same ``i`` always gives the same page. Bodies are
original template sentences with seeded slots, 1.5-3 KB of UTF-8; every fourth article carries
deal sentences (ABS plan, medium-term note, corporate bond) for the extractor to find.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
import random
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from xinpi.emulator.server import Request, Response, route

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOST = "www.zqrb.cn"
PAGE_SIZE = 20
MAX_DOCS = 1_000_000
ENV_DOCS = "XINPI_EMULATOR_BULK_DOCS"
DEFAULT_DOCS = 2000
#: Article 0's publication time; article i is STEP earlier than article i-1 (about 110 a day).
NEWEST = dt.datetime(2025, 6, 30, 17, 45, tzinfo=SHANGHAI)
STEP = dt.timedelta(minutes=13)
_NEWEST_MS = int(NEWEST.timestamp() * 1000)
_STEP_MS = int(STEP.total_seconds() * 1000)
DEAL_EVERY = 4

_NOT_FOUND = "<html><body><h1>404 Not Found</h1></body></html>"


def channel(n: int) -> str:
    """The channel serving ``n`` documents (pass it to the zqrb spider as ``channels``)."""
    return f"bulk/n{n}"


def default_docs() -> int:
    return int(os.environ.get(ENV_DOCS) or DEFAULT_DOCS)


def published(i: int) -> dt.datetime:
    return NEWEST - i * STEP


def window(n: int) -> tuple[dt.date, dt.date]:
    """The inclusive Beijing-date window that holds all ``n`` documents (for ``since``/``until``)."""
    return published(n - 1).date(), NEWEST.date()


def article_path(n: int, i: int) -> str:
    ms = _NEWEST_MS - i * _STEP_MS
    return f"/{channel(n)}/{published(i).date().isoformat()}/A{ms:013d}.html"


def index_of(aid_ms: int) -> int | None:
    """Article index for the epoch-ms id in a URL, or None if no article has that id."""
    offset = _NEWEST_MS - aid_ms
    if offset < 0 or offset % _STEP_MS:
        return None
    return offset // _STEP_MS


# --- generated text ----------------------------------------------------------------------------
_COMPANIES = ("华辰能源", "东岳控股", "明泰建设", "嘉禾物流", "瑞丰科技", "宏远交通", "海晟置业", "中澜环保",
              "金川租赁", "北辰水务", "恒信保理", "信和医药", "远景港务", "天衡电力", "锦程文旅", "安泽新材")
_MANAGERS = ("中信证券", "华泰证券", "国泰君安证券", "招商证券", "平安证券", "中金公司", "广发证券",
             "海通证券")
_TOPICS = ("绿色金融", "数字经济", "消费升级", "基础设施建设", "城市更新", "新能源汽车", "供应链金融",
           "科技创新")
_AUTHORS = ("记者 王丽", "记者 李冰", "记者 张晓", "见习记者 陈雨", "记者 刘畅", "记者 周航")
_FILLER = (
    "{m}月{d}日，A股三大指数{dir}，沪指收报{idx}点，两市成交额合计{vol}亿元。",
    "分析人士认为，{topic}仍将是下一阶段市场关注的重点，{co}等企业有望从中受益。",
    "据{co}披露的数据，公司今年前{q}个月实现营业收入{rev}亿元，同比增长{pct}%。",
    "业内人士表示，随着{topic}持续推进，相关行业的融资环境正在逐步改善。",
    "{co}相关负责人在接受本报记者采访时表示，公司将继续聚焦主业，稳步推进{topic}相关项目。",
    "从资金面看，央行当日开展{amt}亿元7天期逆回购操作，中标利率为{rate}%。",
    "记者注意到，今年以来已有{n}家企业发布了类似公告，合计涉及金额约{vol}亿元。",
    "{topic}方面，多地出台配套措施，鼓励金融机构加大对实体经济的支持力度。",
    "有券商研究员向记者分析称，短期内市场情绪仍有波动，但中长期看{topic}的确定性较强。",
    "截至{m}月末，{co}资产负债率为{pct}%，较年初下降{small}个百分点，现金流状况保持稳健。",
)
_DEALS = (
    "{mgr}-{co}{y}年第{k}期资产支持专项计划近日在上海证券交易所挂牌，发行规模{amt}亿元，"
    "原始权益人为{co}股份有限公司，计划管理人为{mgr}。",
    "{co}集团有限公司{y}年度第{k}期中期票据于{m}月{d}日完成簿记，发行金额{amt}亿元，票面利率{rate}%。",
    "{co}股份有限公司拟面向专业投资者公开发行总额不超过{amt}亿元的公司债券，期限{term}年，"
    "募集资金将用于偿还有息债务。",
)


_HEADLINES = (("资产支持专项计划挂牌", "中期票据完成发行", "拟发行公司债券"),  # one per _DEALS entry
              ("业绩稳步增长", "加码主业布局", "获机构调研"))
_SLOT_VALUES: dict[str, Any] = {  # slot name -> draw from a seeded Random; only the slots a template uses
    "co": lambda r: r.choice(_COMPANIES), "topic": lambda r: r.choice(_TOPICS),
    "mgr": lambda r: r.choice(_MANAGERS), "dir": lambda r: r.choice(("集体上涨", "涨跌互现", "小幅回调")),
    "idx": lambda r: f"{r.uniform(2900, 3600):.2f}", "vol": lambda r: r.randint(6000, 15000),
    "q": lambda r: r.randint(2, 11), "rev": lambda r: f"{r.uniform(5, 900):.2f}",
    "pct": lambda r: f"{r.uniform(1, 60):.2f}", "amt": lambda r: f"{r.randint(2, 80) / 2:g}",
    "rate": lambda r: f"{r.uniform(1.4, 3.2):.2f}", "n": lambda r: r.randint(3, 90),
    "small": lambda r: f"{r.uniform(0.1, 3):.1f}", "k": lambda r: r.randint(1, 9),
    "term": lambda r: r.choice((3, 5, 7)),
}


class _Slots(dict[str, Any]):
    """Template slots drawn on first use, so a sentence costs only the draws it needs."""

    def __init__(self, rng: random.Random, when: dt.datetime, **fixed: Any) -> None:
        super().__init__(m=when.month, d=when.day, y=when.year, **fixed)
        self.rng = rng

    def __missing__(self, key: str) -> Any:
        value = self[key] = _SLOT_VALUES[key](self.rng)
        return value


def is_deal(i: int) -> bool:
    return i % DEAL_EVERY == 0


def headline(i: int) -> tuple[str, str, int]:
    """(company, title, deal kind or -1) of article ``i``: cheap, as every list page prints 20 titles."""
    rng = random.Random(i)
    co = rng.choice(_COMPANIES)
    if is_deal(i):
        kind = rng.randrange(len(_DEALS))
        return co, co + _HEADLINES[0][kind], kind
    return co, f"{rng.choice(_TOPICS)}提速 {co}{rng.choice(_HEADLINES[1])}", -1


@lru_cache(maxsize=256)
def article(i: int) -> dict[str, str]:
    """Title, info line and body (paragraphs joined by newlines) of article ``i``; always the same."""
    rng = random.Random(i * 7919 + 17)
    when = published(i)
    co, title, kind = headline(i)
    deal = _DEALS[kind].format_map(_Slots(rng, when, co=co)) if kind >= 0 else ""
    target = rng.randint(500, 1000)  # characters: 1.5-3 KB of UTF-8
    paragraphs: list[str] = []
    size = 0
    while size < target:
        sentences = [rng.choice(_FILLER).format_map(_Slots(rng, when)) for _ in range(rng.randint(2, 4))]
        if deal and len(paragraphs) in (0, 2):  # one deal, told twice, as news does
            sentences.insert(1, deal)
        paragraph = "".join(sentences)
        paragraphs.append(paragraph)
        size += len(paragraph)
    info = f"{when:%Y-%m-%d %H:%M} 来源：证券日报网 {rng.choice(_AUTHORS)}"
    return {"title": title, "info": info, "body": "\n".join(paragraphs)}


def _page(title: str, inner: str) -> str:
    return (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        f"<title>{html.escape(title)}_证券日报网</title></head><body>"
        '<div class="header"><a href="/">证券日报网</a></div>'
        f"{inner}"
        '<div class="footer">证券日报社 版权所有</div></body></html>'
    )


def _count(spec: str) -> int:
    return default_docs() if spec == "default" else int(spec)


_CHANNEL = r"/bulk/(?:n(?P<n>\d{1,7})|(?P<default>default))"


@route(HOST, _CHANNEL + r"/(?:index|index_p(?P<page>\d+))\.html")
def list_page(req: Request) -> Response:
    assert req.match is not None
    n = _count(req.match["n"] or "default")
    page = int(req.match["page"] or 1)
    pages = math.ceil(n / PAGE_SIZE)
    if not 0 < n <= MAX_DOCS or not 1 <= page <= pages:
        return Response.html(_NOT_FOUND, status=404)
    chan = "bulk/default" if req.match["default"] else channel(n)
    items = []
    for i in range((page - 1) * PAGE_SIZE, min(page * PAGE_SIZE, n)):
        path = article_path(n, i).replace(f"/{channel(n)}/", f"/{chan}/", 1)
        title = html.escape(headline(i)[1])
        items.append(
            f'<li><a class="lista" href="{req.base}{path}" target="_blank">{title}</a>'
            f'<span class="date">{published(i):%Y-%m-%d}</span></li>'
        )
    pager = f'<a href="index_p{page + 1}.html">下一页</a>' if page < pages else ""
    inner = f'<div class="news_content"><ul>{"".join(items)}</ul></div><div class="page">{pager}</div>'
    return Response.html(_page(chan, inner))


@route(HOST, _CHANNEL + r"/(?P<date>\d{4}-\d{2}-\d{2})/A(?P<ms>\d{13})\.html")
def article_page(req: Request) -> Response:
    assert req.match is not None
    n = _count(req.match["n"] or "default")
    i = index_of(int(req.match["ms"]))
    if i is None or not i < n <= MAX_DOCS or published(i).date().isoformat() != req.match["date"]:
        return Response.html(_NOT_FOUND, status=404)
    art = article(i)
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in art["body"].split("\n"))
    inner = (
        f'<div class="news_content"><h1>{html.escape(art["title"])}</h1>'
        f'<div class="info_news">{html.escape(art["info"])}</div>'
        f'<div class="content-lcq">{paragraphs}</div>'
        '<div class="editor">（编辑 张明）</div></div>'
    )
    return Response.html(_page(art["title"], inner))
