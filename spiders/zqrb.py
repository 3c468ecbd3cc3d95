"""证券日报 zqrb.cn news: static channel list pages, then each article in the date window.

List pages are newest first, so paging a channel stops at the first page whose dates all fall before
the window (or when there is no ``下一页`` link). Article pages are parsed from ``response.text``,
never raw bytes: old pages declare gb2312 while holding GBK characters (镕, 喆), which Scrapy decodes
correctly and BeautifulSoup on bytes would lose. The info line ("<date> 来源：<outlet> <author>")
prints its date in many shapes (二〇二五年…, 3月12日 下午2点, 3小时前 ...); it is read with
:func:`~xinpi.extractors.dates.parse_cn_datetime`, keeping the reading closest to the URL's date
folder, so a month-day gets the folder's year and 昨天 means the day before the crawl.

Focus and cost: the site has no topic or bond channel and every channel is its own list, so each
channel read costs at least one listing request per run. The default reads ONE channel,
``jrjg/bank`` (金融机构·银行), where the bond/ABS stories of our corpus are filed, so a quiet
incremental run costs one request; other channels (``finance/hongguanjingji``, ``jrjg/insurance``,
``fund/jijindongtai``, ``gscy/qiyexinxi`` ...) are one ``channels`` argument away. List entries
are kept only if their title passes the topic filter (``all=1`` keeps all); an entry already stored
is not fetched again, and a list page whose entries are all stored ends the paging (``refresh=1``
re-reads). ``extra.story_id`` (:mod:`xinpi.spiders.story`) links syndicated copies on sina/eastmoney.

Arguments: ``since``/``until``/``refresh``/``all`` (base class), ``channels`` (comma-separated
``channel/sub``; default from the ``XINPI_ZQRB_CHANNELS`` setting, else ``DEFAULT_CHANNELS``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from bs4 import BeautifulSoup, SoupStrainer, Tag
from scrapy.http import Response

from xinpi.extractors.dates import parse_cn_datetime
from xinpi.items import DocumentItem
from xinpi.spiders.base import SHANGHAI, XinpiSpider

#: One channel: one listing request on a quiet run (see the module docstring).
DEFAULT_CHANNELS = ["jrjg/bank"]
_ARTICLE_URL = re.compile(r"/(?P<date>\d{4}-\d{2}-\d{2})/(?P<aid>A\d{13})\.html")
_SPACE = re.compile(r"[\s\u3000\xa0]+")
SOURCE_MARK = "来源："


def split_info(info: str) -> tuple[str, str | None, str | None]:
    """``"2025-04-25 18:30 来源：证券日报网 记者 王丽"`` -> (date text, outlet, author)."""
    info = _SPACE.sub(" ", info).strip()
    date_text, mark, rest = info.partition(SOURCE_MARK)
    if not mark:
        return info, None, None
    media, _, author = rest.strip().partition(" ")
    return date_text.strip(), media or None, author.strip() or None


def _lines(element: Tag) -> str:
    """Paragraph text, one line per ``p`` (or the element's own text when it has none)."""
    paragraphs = element.find_all("p") or [element]
    lines = [_SPACE.sub(" ", p.get_text(" ", strip=True)).strip() for p in paragraphs]
    return "\n".join(line for line in lines if line)


def doc_id_of(url: str) -> str:
    """``zqrb:A<13 digits>`` from an article URL (the URL itself when it has no such id)."""
    m = _ARTICLE_URL.search(url)
    return f"zqrb:{m['aid']}" if m else f"zqrb:{url}"


def _is_div(tag: Any, css_class: str) -> bool:
    """Whether ``tag`` is a ``div`` carrying ``css_class`` (what CSS ``div.<class>`` matches)."""
    return isinstance(tag, Tag) and tag.name == "div" and css_class in (tag.get("class") or ())


def _under(tag: Tag, *outer: tuple[str, str | None]) -> bool:
    """What a CSS descendant chain checks: walking up from ``tag``, ancestors matching ``outer``
    (innermost first; ``(name, class or None)``) in that order. Taking the nearest match of each step
    is exact: a farther match has only a subset of the nearer one's ancestors."""
    steps = iter(outer)
    want = next(steps, None)
    node = tag.parent
    while want is not None and node is not None:
        name, css_class = want
        if node.name == name and (css_class is None or css_class in (node.get("class") or ())):
            want = next(steps, None)
        node = node.parent
    return want is None


def _list_items(soup: BeautifulSoup) -> list[Tag]:
    """``div.news_content ul li`` (else ``div.listMain li``), in document order, without soupsieve."""
    items = soup.find_all("li")
    return [li for li in items if _under(li, ("ul", None), ("div", "news_content"))] or [
        li for li in items if _under(li, ("div", "listMain"))
    ]


_ARTICLE_CLASSES = frozenset({"news_content", "content-lcq", "content", "info_news"})


class _ArticleParts(SoupStrainer):
    """Build only the parts of an article page the spider reads: every ``h1`` and the divs of
    ``_ARTICLE_CLASSES``. bs4 asks a strainer only while no kept element is open, so a kept element
    keeps its whole subtree (paragraphs, inline tags, nested divs) and an ``h1`` anywhere is found.
    Skipping the page's navigation, scripts and footer saves about a third of the tree building."""

    def allow_tag_creation(self, nsprefix: str | None, name: str, attrs: Any) -> bool:
        if name == "h1":
            return True
        classes = str((attrs or {}).get("class") or "").split()
        return name == "div" and not _ARTICLE_CLASSES.isdisjoint(classes)

    def allow_string_creation(self, string: str) -> bool:
        return False  # text outside the kept elements is never read


_ARTICLE_PARTS = _ArticleParts()


class ZqrbSpider(XinpiSpider):
    name = "zqrb"
    kind = "news"
    channels: str | None = None

    def channel_list(self) -> list[str]:
        raw: Any = self.channels or self.settings.get("XINPI_ZQRB_CHANNELS") or DEFAULT_CHANNELS
        if isinstance(raw, str):  # -s XINPI_ZQRB_CHANNELS='["a/b"]' or -a channels=a/b,c/d
            raw = json.loads(raw) if raw.lstrip().startswith("[") else raw.split(",")
        return [c.strip().strip("/") for c in raw if c and c.strip()]

    async def start(self) -> AsyncIterator[Any]:
        self._since, self._until = self.window()
        base = self.host("www.zqrb.cn")
        for channel in self.channel_list():
            yield scrapy.Request(
                f"{base}/{channel}/index.html", callback=self.parse_list, errback=self.on_error,
                cb_kwargs={"channel": channel},
            )

    # --- list pages -----------------------------------------------------------------------------
    # Both callbacks return lists rather than being generators: for a generator callback Scrapy
    # re-reads and re-parses the method's source (inspect.getsource + ast) whenever its weak cache
    # of bound methods misses, which cost more than the parse itself. Elements are found with
    # find()/find_all() (no CSS engine: soupsieve costs ~5x more per lookup on these small pages).
    def parse_list(self, response: Response, channel: str) -> list[Any]:
        return list(self._parse_list(response, channel))

    def _parse_list(self, response: Response, channel: str) -> Iterator[Any]:
        soup = BeautifulSoup(response.text, "lxml")
        items = _list_items(soup)
        if not items:
            yield self.failure(response.url, "parse", "list page without items (div.news_content ul li)",
                               response.status)
            return
        dates: list[dt.date] = []
        wanted: list[tuple[str, str]] = []  # (url, doc_id) of in-window, on-topic entries
        for li in items:
            link = li.find("a", class_="lista") or li.find("a", href=True)
            if link is None or not link.get("href"):
                continue
            url = response.urljoin(str(link["href"]))
            span = li.find("span", class_="date")
            listed = parse_cn_datetime(span.get_text(strip=True), base=self.crawl_started) if span else None
            if listed is not None:
                dates.append(listed.date())
                if not self._since <= listed.date() <= self._until:
                    continue
            if not self.on_topic(link.get_text(" ", strip=True)):
                continue
            wanted.append((url, doc_id_of(url)))
        all_known = self.page_is_all_known([d for _, d in wanted])
        for url, doc_id in wanted:
            if not self.is_known(doc_id):
                yield scrapy.Request(url, callback=self.parse_article, errback=self.on_error)
        more = next((a for a in soup.find_all("a", href=True) if "下一页" in a.get_text()), None)
        if all_known:
            self.logger.info("%s: every entry stored already, no further pages", response.url)
        elif dates and max(dates) < self._since:
            self.logger.debug("%s: all dates before %s, stop paging", response.url, self._since)
        elif more is not None:
            yield scrapy.Request(
                response.urljoin(str(more["href"])), callback=self.parse_list, errback=self.on_error,
                cb_kwargs={"channel": channel},
            )

    # --- articles -------------------------------------------------------------------------------
    def parse_article(self, response: Response) -> list[Any]:
        return list(self._parse_article(response))

    def _parse_article(self, response: Response) -> Iterator[Any]:
        url = response.url
        m = _ARTICLE_URL.search(url)
        soup = BeautifulSoup(response.text, "lxml", parse_only=_ARTICLE_PARTS)
        h1 = next((h for h in soup.find_all("h1") if _is_div(h.parent, "news_content")), None)
        h1 = h1 or soup.find("h1")
        title = _SPACE.sub(" ", h1.get_text(" ", strip=True)).strip() if h1 else ""
        if not title:
            yield self.failure(url, "parse", "article without a title (div.news_content > h1)",
                               response.status)
            return
        body = soup.find("div", class_="content-lcq") or soup.find("div", class_="content")
        text = _lines(body) if body else ""
        if not text:
            yield self.failure(url, "body", "article without body text (div.content-lcq)", response.status)
            return
        info_node = soup.find("div", class_="info_news")
        date_text, media, author = split_info(info_node.get_text(" ") if info_node else "")
        folder = dt.date.fromisoformat(m["date"]) if m else None
        published = self.published_at(date_text, folder)
        # extra.story_id is added by document_defaults (the base spider), once per document
        extra: dict[str, Any] = {"channel": "/".join(url.split("/")[-4:-2]) if m else None}
        if published is None:
            yield self.failure(url, "date", f"unparseable date {date_text!r}", response.status)
            if folder is not None:  # the URL's date folder is the best evidence left
                published = dt.datetime.combine(folder, dt.time(0, 0), SHANGHAI)
                extra["date_from"] = "url_folder"
        if published is not None and not self._since <= published.date() <= self._until:
            self.logger.debug("%s: %s outside the window", url, published)
            return
        yield DocumentItem(
            **self.document_defaults(
                doc_id=doc_id_of(url),
                url=url,
                title=title,
                published_at=published,
                published_at_raw=date_text,
                text=text,
                author=author,
                media_name=media,
                extra=extra,
            )
        )

    def published_at(self, date_text: str, folder: dt.date | None) -> dt.datetime | None:
        """The info-line date, read the way that lands closest to the URL's date folder.

        Relative forms (昨天, 3小时前) mean "before the crawl"; a month-day without a year belongs to the
        folder's year. The text alone does not say which applies, so both anchors are tried and the
        reading nearest the folder day wins (the crawl-time reading when there is no folder).
        """
        readings = [parse_cn_datetime(date_text, base=self.crawl_started)]
        if folder is not None:
            end_of_folder = dt.datetime.combine(folder, dt.time(23, 59, 59), SHANGHAI)
            readings.append(parse_cn_datetime(date_text, base=min(self.crawl_started, end_of_folder)))
        found = [r for r in readings if r is not None]
        if not found or folder is None:
            return found[0] if found else None
        return min(found, key=lambda r: abs((r.date() - folder).days))
