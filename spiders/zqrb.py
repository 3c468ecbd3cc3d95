"""证券日报 zqrb.cn news: static channel list pages, then each article in the date window.

List pages are newest first, so paging a channel stops at the first page whose dates all fall before
the window (or when there is no ``下一页`` link). Pages are parsed from ``response.text``, never raw
bytes: old pages declare gb2312 while holding GBK characters (镕, 喆), which Scrapy decodes correctly
(it widens gb2312 to GB18030) and a parser reading the bytes would lose. The info line
("<date> 来源：<outlet> <author>") prints its date in many shapes (二〇二五年…, 3月12日 下午2点,
3小时前 ...); it is read with :func:`~xinpi.extractors.dates.parse_cn_datetime`, keeping the reading
closest to the URL's date folder, so a month-day gets the folder's year and 昨天 means the day before
the crawl.

Why lxml with compiled XPath, not BeautifulSoup or selectors: zqrb is the high-volume static
source (the benchmark's bulk channel has its page shapes), and ``benchmarks/crawl_bench.py`` holds
a full crawl to at most 1.3x the cost of fetching alone. BeautifulSoup's tree builder is pure
Python, with a fixed ~0.26 ms per ``BeautifulSoup()`` even for tiny input (~0.7 ms for an article
page). Scrapy selectors parse with lxml (C) but wrap the tree and every match in ``Selector``
objects and translate CSS on each call; reading an article through them cost ~0.78 ms a page on the
bulk channel, against ~0.32 ms with the CSS translated once (``_css``) and run on the bare tree
(list pages of 20 entries: ~3.3 -> ~2.2 ms, most of it now building the article requests). An
article page is now read in one walk over its ``div``/``h1`` elements (``_article_parts``) rather
than five CSS queries, from its UTF-8 bytes when that reads the same as its text (``_html_root``),
and with a plain-ISO date shortcut in the date reader: ~0.76x the time of the query-per-part
reading, same output on 20,000 random pages. Checking for hidden ancestors by walking up with
``getparent`` (``_hidden``), once per body rather than once per paragraph, and reading a childless
info line without XPath took another ~15% off (745k -> 632k instructions a page, callgrind; same
output on 15,000 random pages). zqrb's pages are small and regular, so a few lookups
read them; the news spiders with messy pages keep bs4 through :mod:`xinpi.spiders.html_text`. The
text is gathered the way bs4's ``get_text`` does: the text nodes under an element in document
order, minus those inside ``script``/``style``/``template``/``rt``/``rp`` (which bs4 does not count
as text), stripped and joined with a space (see ``_STRINGS``).

Focus and cost: the site has no topic or bond channel and every channel is its own list, so each
channel read costs at least one listing request per run. The default reads ONE channel,
``jrjg/bank`` (金融机构·银行), where the bond/ABS stories of our corpus are filed, so a quiet
incremental run costs one request; other channels (``finance/hongguanjingji``, ``jrjg/insurance``,
``fund/jijindongtai``, ``gscy/qiyexinxi`` ...) are one ``channels`` argument away. List entries
are kept only if their title passes the topic filter (``all=1`` keeps all); an entry already stored
is not fetched again, and a list page whose entries are all stored ends the paging (``refresh=1``
re-reads). ``extra.story_id``, which links syndicated copies on sina/eastmoney, is added by the
normalise pipeline stage (:mod:`xinpi.pipelines.normalise`), not here.

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
from lxml import etree
from parsel.csstranslator import HTMLTranslator
from scrapy.http import Response

from xinpi.extractors.dates import parse_cn_datetime
from xinpi.items import DocumentItem
from xinpi.spiders.base import SHANGHAI, XinpiSpider

#: One channel: one listing request on a quiet run (see the module docstring).
DEFAULT_CHANNELS = ["jrjg/bank"]
_ARTICLE_URL = re.compile(r"/(?P<date>\d{4}-\d{2}-\d{2})/(?P<aid>A\d{13})\.html")
SOURCE_MARK = "来源："


def split_info(info: str) -> tuple[str, str | None, str | None]:
    """``"2025-04-25 18:30 来源：证券日报网 记者 王丽"`` -> (date text, outlet, author)."""
    info = _squash(info)
    date_text, mark, rest = info.partition(SOURCE_MARK)
    if not mark:
        return info, None, None
    media, _, author = rest.strip().partition(" ")
    return date_text.strip(), media or None, author.strip() or None


#: The text nodes bs4's ``get_text()`` reads under an element, in document order: not comments, and
#: not text inside ``script``/``style``/``template`` or the ruby ``rt``/``rp`` (bs4 gives those
#: strings their own types, which ``get_text`` skips). The text helpers below run compiled XPath on
#: lxml nodes and get plain strings back: ``.xpath().getall()`` would wrap every text node in a
#: ``Selector`` first, most of the cost on nodes this small.
#: Unstripped, ``"".join`` of the result is bs4's ``get_text()`` and ``" ".join`` its ``get_text(" ")``.
_NOT_TEXT_TAGS = ("script", "style", "template", "rt", "rp")
_NOT_TEXT = " or ".join(f"self::{tag}" for tag in _NOT_TEXT_TAGS)
_STRINGS = etree.XPath(f"descendant::text()[not(ancestor::*[{_NOT_TEXT}])]", smart_strings=False)


def _squash(text: str) -> str:
    """Whitespace runs (ideographic and no-break spaces too) to one space, ends stripped.

    ``str.split()`` splits on exactly the characters regex ``\\s`` matches in a str pattern (both ask
    ``str.isspace``), so this equals ``re.sub(r"\\s+", " ", text).strip()`` at a fraction of the cost.
    """
    return " ".join(text.split())


def _hidden(node: etree._Element | None, stop: etree._Element | None = None) -> bool:
    """Whether ``node`` or an ancestor (up to, not including, ``stop``) is an element whose text bs4
    does not count (``_NOT_TEXT_TAGS``).

    A walk up with ``getparent``, not ``iterancestors(*tags)``: that builds a tag matcher on every
    call, ~3.5 us against ~0.3 us a level, and a paragraph is usually one level below its ``stop``.
    """
    while node is not None and node is not stop:
        if node.tag in _NOT_TEXT_TAGS:
            return True
        node = node.getparent()
    return False


def _joined(node: etree._Element, stop: etree._Element | None = None) -> str:
    """bs4's ``get_text(" ", strip=True)``: each text node stripped, empty ones dropped, joined by a
    space. ``stop``: an ancestor already known to be visible, so the check for hidden ancestors ends there."""
    if len(node) == 0:  # no child nodes (the usual title or paragraph): its own text is all there is
        return "" if _hidden(node, stop) else (node.text or "").strip()
    return " ".join(s for s in (t.strip() for t in _STRINGS(node)) if s)


def _lines(node: etree._Element) -> str:
    """Paragraph text, one line per ``p`` (or the element's own text when it has none)."""
    if _hidden(node):
        return ""
    lines = (_squash(_joined(p, node)) for p in list(node.iterdescendants("p")) or [node])
    return "\n".join(line for line in lines if line)


def _spaced(node: etree._Element) -> str:
    """The text nodes bs4 reads under ``node``, unstripped, joined by a space: ``get_text(" ")``."""
    if len(node) == 0:  # one text node at most: nothing to join
        return "" if _hidden(node) else (node.text or "")
    return " ".join(_STRINGS(node))


def _css(query: str) -> etree.XPath:
    """A CSS selector compiled once to lxml XPath, translated exactly as ``Selector.css`` does."""
    return etree.XPath(HTMLTranslator().css_to_xpath(query))


_LIST_ITEMS = _css("div.news_content ul li")
_LISTMAIN_ITEMS = _css("div.listMain li")
_LISTA = _css("a.lista")
_HREF_LINKS = etree.XPath("descendant::a[@href]")
_DATE = _css("span.date")
#: XPath's string value (.) holds all descendant text, so it narrows the links cheaply; a link
#: holding script/style/... text is checked on its bs4-style text, which leaves that out.
_NEXT_CANDIDATES = etree.XPath(f"//a[@href][contains(., '下一页') or descendant::*[{_NOT_TEXT}]]")

#: What XPath's ``normalize-space`` (and so CSS class matching) counts as whitespace: space, tab, CR, LF.
_XML_SPACE = str.maketrans("\t\r\n", "   ")


def _classes(element: etree._Element) -> list[str]:
    """The element's class tokens, split as CSS ``.name`` matching splits them."""
    value = element.get("class")
    return value.translate(_XML_SPACE).split(" ") if value else []


_ARTICLE_DIVS = frozenset({"content-lcq", "content", "info_news"})


def _article_parts(root: etree._Element) -> dict[str, etree._Element]:
    """The elements an article is read from, found in one walk over the page's ``div`` and ``h1``:
    ``news_h1`` (the first ``div.news_content > h1``), ``h1`` (the first ``h1``), and the first
    ``div.content-lcq``, ``div.content`` and ``div.info_news``, keyed by class. Missing ones are absent.

    One walk instead of five CSS queries: each compiled query scans the whole tree and tests every
    element's class with XPath string functions; together they cost about as much as the parse.
    """
    found: dict[str, etree._Element] = {}
    for element in root.iter("div", "h1"):
        if element.tag == "h1":
            found.setdefault("h1", element)
            parent = element.getparent()
            if "news_h1" not in found and parent is not None and parent.tag == "div" \
                    and "news_content" in _classes(parent):
                found["news_h1"] = element
        else:
            value = element.get("class")
            if value in _ARTICLE_DIVS:  # the usual single class, without splitting it
                found.setdefault(value, element)
            elif value:
                for name in _ARTICLE_DIVS.intersection(_classes(element)):
                    found.setdefault(name, element)
    return found


def doc_id_of(url: str) -> str:
    """``zqrb:A<13 digits>`` from an article URL (the URL itself when it has no such id)."""
    m = _ARTICLE_URL.search(url)
    return f"zqrb:{m['aid']}" if m else f"zqrb:{url}"


#: One parser for every page: lxml parsers are reusable, and Scrapy runs callbacks on one thread. The
#: plain etree parser, not ``lxml.html``'s: that one asks a Python class lookup for every element
#: the queries touch, and the spider uses nothing ``HtmlElement`` adds.
_PARSER = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)


def _html_root(response: Response) -> etree._Element:
    """The page's lxml tree, the one an HTML ``Selector`` builds from ``response.text`` (parsel's
    ``create_root_node``), whatever the Content-Type says.

    A UTF-8 page is parsed from its bytes, saving the decode to ``str`` and the encode back that
    ``create_root_node`` does; the tree is the same unless the bytes hold NULs (parsel drops them
    after decoding, and one inside a multi-byte character changes what is decoded) or invalid UTF-8
    (decoded as replacement characters either way, but not always the same number): those pages,
    and every other encoding, go through ``response.text``.

    Not ``response.css``: that picks the selector type from the response class, so a page served as
    JSON (the emulator's ``garbage`` fault, or a misconfigured server) would get a JSON selector, on
    which CSS raises instead of the spider recording a parse failure. Not ``Selector(response)``
    either: the pages are read with XPath compiled once (``_css``) on the bare tree, and wrapping the
    tree and every match in selectors cost as much as parsing the page.
    """
    if getattr(response, "encoding", None) == "utf-8" and b"\x00" not in response.body:
        root = _parse(response.body.strip(), response.url)
        if not any(e.type == _INVALID_ENCODING for e in _PARSER.error_log):
            return root
    return _parse(response.text.strip().replace("\x00", "").encode("utf-8"), response.url)


_INVALID_ENCODING = etree.ErrorTypes.ERR_INVALID_ENCODING


def _parse(body: bytes, url: str) -> etree._Element:
    """``create_root_node``'s parse: an empty or unparseable page is an empty ``<html/>``."""
    try:
        root = etree.fromstring(body or b"<html/>", parser=_PARSER, base_url=url)
    except etree.XMLSyntaxError:
        root = None
    return root if root is not None else etree.fromstring(b"<html/>", parser=_PARSER, base_url=url)


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
    # of bound methods misses, which cost more than the parse itself.
    def parse_list(self, response: Response, channel: str) -> list[Any]:
        return list(self._parse_list(response, channel))

    def _parse_list(self, response: Response, channel: str) -> Iterator[Any]:
        root = _html_root(response)
        items = _LIST_ITEMS(root) or _LISTMAIN_ITEMS(root)
        if not items:
            yield self.failure(response.url, "parse", "list page without items (div.news_content ul li)",
                               response.status)
            return
        dates: list[dt.date] = []
        wanted: list[tuple[str, str]] = []  # (url, doc_id) of in-window, on-topic entries
        for li in items:
            links = _LISTA(li) or _HREF_LINKS(li)
            href = links[0].get("href") if links else None
            if not href:
                continue
            url = response.urljoin(href)
            span = _DATE(li)
            day = "".join(t.strip() for t in _STRINGS(span[0])) if span else None  # get_text(strip=True)
            listed = parse_cn_datetime(day, base=self.crawl_started) if day is not None else None
            if listed is not None:
                dates.append(listed.date())
                if not self._since <= listed.date() <= self._until:
                    continue
            if not self.on_topic(_joined(links[0])):
                continue
            wanted.append((url, doc_id_of(url)))
        all_known = self.page_is_all_known([d for _, d in wanted])
        for url, doc_id in wanted:
            if not self.is_known(doc_id):
                yield scrapy.Request(url, callback=self.parse_article, errback=self.on_error)
        more = next((a for a in _NEXT_CANDIDATES(root) if "下一页" in "".join(_STRINGS(a))), None)
        if all_known:
            self.logger.info("%s: every entry stored already, no further pages", response.url)
        elif dates and max(dates) < self._since:
            self.logger.debug("%s: all dates before %s, stop paging", response.url, self._since)
        elif more is not None:
            yield scrapy.Request(
                response.urljoin(more.get("href")), callback=self.parse_list, errback=self.on_error,
                cb_kwargs={"channel": channel},
            )

    # --- articles -------------------------------------------------------------------------------
    def parse_article(self, response: Response) -> list[Any]:
        return list(self._parse_article(response))

    def _parse_article(self, response: Response) -> Iterator[Any]:
        url = response.url
        m = _ARTICLE_URL.search(url)
        parts = _article_parts(_html_root(response))
        h1 = parts.get("news_h1", parts.get("h1"))
        title = _squash(_joined(h1)) if h1 is not None else ""
        if not title:
            yield self.failure(url, "parse", "article without a title (div.news_content > h1)",
                               response.status)
            return
        body = parts.get("content-lcq", parts.get("content"))
        text = _lines(body) if body is not None else ""
        if not text:
            yield self.failure(url, "body", "article without body text (div.content-lcq)", response.status)
            return
        info = parts.get("info_news")
        date_text, media, author = split_info(_spaced(info) if info is not None else "")
        folder = dt.date.fromisoformat(m["date"]) if m else None
        published = self.published_at(date_text, folder)
        # extra.story_id is added later, by the normalise pipeline stage (in the pipeline worker)
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
        if readings[0] is not None and folder is not None and readings[0].date() == folder:
            return readings[0]  # no other reading can land closer (the usual, absolute date)
        if folder is not None:
            end_of_folder = dt.datetime.combine(folder, dt.time(23, 59, 59), SHANGHAI)
            readings.append(parse_cn_datetime(date_text, base=min(self.crawl_started, end_of_folder)))
        found = [r for r in readings if r is not None]
        if not found or folder is None:
            return found[0] if found else None
        return min(found, key=lambda r: abs((r.date() - folder).days))
