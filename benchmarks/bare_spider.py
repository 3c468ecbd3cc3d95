"""The baseline for crawl_bench.py: fetch the same zqrb-shaped pages as the real spider, do nothing else.

It follows list pages (article links and ``下一页``) and fetches every article, but parses no article,
yields no item and runs no pipeline, so its time is what Scrapy and the emulator cost on their own.
It lives here, not in ``spiders/``, so it never joins the production spider list. Run it with::

    .venv/bin/python -m scrapy runspider benchmarks/bare_spider.py -a start_url=<list page URL> \
        -s ITEM_PIPELINES={} ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response


class BareSpider(scrapy.Spider):
    name = "bare"
    start_url: str = ""

    async def start(self) -> AsyncIterator[Any]:
        if not self.start_url:
            raise ValueError("bare spider: pass -a start_url=<first list page>")
        yield scrapy.Request(self.start_url, callback=self.parse_list)

    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.css("div.news_content li a.lista::attr(href)").getall():
            yield response.follow(href, callback=self.parse_article)
        more = response.xpath('//div[@class="page"]/a[contains(., "下一页")]/@href').get()
        if more:
            yield response.follow(more, callback=self.parse_list)

    def parse_article(self, response: Response) -> None:
        self.crawler.stats.inc_value("bare/articles")
