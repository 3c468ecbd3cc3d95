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
    extract_error = scrapy.Field()  # why extraction failed on this document, if it did


class FailureItem(scrapy.Item):
    source = scrapy.Field()
    url = scrapy.Field()
    stage = scrapy.Field()  # "fetch" | "parse" | "date" | "pdf" | "body" | "pipeline"
    error = scrapy.Field()  # one line, human readable
    http_status = scrapy.Field()  # int or None
    doc_id = scrapy.Field()  # the document concerned, when there is one
    at = scrapy.Field()  # datetime, tz-aware (UTC)


class ProjectItem(scrapy.Item):
    """One row of an exchange's project register (SSE ZQ_XMLB, SZSE xmjdxx) in one status.

    A project seen again in a new status is a new row: the register keeps every status change.
    """

    register = scrapy.Field()  # "sse" | "szse"
    project_id = scrapy.Field()  # SSE BOND_NUM, SZSE xmbh
    name = scrapy.Field()  # AUDIT_NAME / zqmc text
    type = scrapy.Field()  # "ABS", "小公募", "私募", "大公募", "REIT" ... as the register says
    planned_scale_yuan = scrapy.Field()  # Decimal, yuan
    planned_scale_text = scrapy.Field()  # as written, e.g. "19" (亿元)
    issuer = scrapy.Field()  # originator / issuer full name
    manager = scrapy.Field()  # plan manager / underwriter
    status = scrapy.Field()  # status text, e.g. "已受理", "通过", "注册生效"
    status_code = scrapy.Field()  # the register's own code, if any
    accepted_date = scrapy.Field()  # datetime.date or None
    updated_date = scrapy.Field()  # datetime.date or None
    url = scrapy.Field()  # detail page
    fetched_at = scrapy.Field()
    extra = scrapy.Field()  # dict, stored as JSON
