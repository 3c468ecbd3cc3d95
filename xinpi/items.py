"""The items spiders hand to the pipelines.

A spider yields one :class:`DocumentItem` per document it read and one :class:`FailureItem` per thing
it could not read (HTTP error, broken JSON, no body, unparseable date ...). Failures are data: the
writer lands them in ``failures/`` and the crawl stats count them, so a bad page never goes unseen.
"""

from __future__ import annotations

import scrapy


class DocumentItem(scrapy.Item):
    doc_id = scrapy.Field()  # "<source>:<the source's own id>", stable across runs
    source = scrapy.Field()  # spider name, e.g. "cninfo", "zqrb"
    kind = scrapy.Field()  # "news" | "announcement"
    url = scrapy.Field()  # canonical URL of the document (detail page or attachment)
    title = scrapy.Field()
    published_at = scrapy.Field()  # datetime, tz-aware (Asia/Shanghai); None if not parseable
    published_at_raw = scrapy.Field()  # the date as the source wrote it
    fetched_at = scrapy.Field()  # datetime, tz-aware (UTC)
    text = scrapy.Field()  # clean plain text, line breaks kept (pipelines NFKC-normalise it)
    content_sha256 = scrapy.Field()  # set by the normalise pipeline
    sec_code = scrapy.Field()
    sec_name = scrapy.Field()
    attachment_url = scrapy.Field()
    author = scrapy.Field()
    media_name = scrapy.Field()  # original outlet (来源) of a news story
    extra = scrapy.Field()  # dict of further source fields, stored as JSON
    # set by pipelines
    version = scrapy.Field()
    mentions = scrapy.Field()
    aggregates = scrapy.Field()


class FailureItem(scrapy.Item):
    source = scrapy.Field()
    url = scrapy.Field()
    stage = scrapy.Field()  # "fetch" | "parse" | "date" | "pdf" | "body" | "pipeline"
    error = scrapy.Field()  # one line, human readable
    http_status = scrapy.Field()  # int or None
    at = scrapy.Field()  # datetime, tz-aware (UTC)
