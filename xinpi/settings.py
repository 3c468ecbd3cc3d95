"""Scrapy settings for every xinpi spider. Components are wired here, one job each.

Override on the command line (``scrapy crawl cninfo -s DATA_DIR=/srv/xinpi``) or through the flow.
"""

from __future__ import annotations

import os

from xinpi.config import cache_dir

BOT_NAME = "xinpi"
SPIDER_MODULES = ["xinpi.spiders"]
NEWSPIDER_MODULE = "xinpi.spiders"

# --- where the sites are ---------------------------------------------------------------------
# Empty: the real sites. A URL: every host is served by the site emulator under /<hostname>/.
XINPI_EMULATOR_URL = os.environ.get("XINPI_EMULATOR_URL", "")
XINPI_HOST_URLS: dict[str, str] = {}

# --- where the data goes ---------------------------------------------------------------------
DATA_DIR = os.environ.get("DATA_DIR", "data")
XINPI_RUN_ID = os.environ.get("XINPI_RUN_ID", "")  # set by the flow; a fresh one otherwise
XINPI_STATS_FILE = ""  # the flow asks each crawl to leave its stats here as JSON
PARQUET_BATCH_SIZE = 500

# The item pipelines, in order. Scrapy itself sees one pipeline, the worker, which runs this chain
# in a child process beside the crawl (the crawl keeps one core busy fetching and parsing; the chain
# uses the other). XINPI_PIPELINE_WORKER = False runs the same chain in the crawl's own process.
XINPI_PIPELINES = {
    "xinpi.pipelines.normalise.NormalisePipeline": 100,
    "xinpi.pipelines.extract.ExtractPipeline": 300,
    "xinpi.pipelines.dedupe.DedupePipeline": 500,
    "xinpi.pipelines.parquet.ParquetWriterPipeline": 800,
}
ITEM_PIPELINES = {"xinpi.pipelines.worker.WorkerPipeline": 100}  # {} switches all pipelines off
XINPI_PIPELINE_WORKER = True
XINPI_PIPELINE_WORKER_NICE = 10  # nice steps below the crawl: it keeps its core (pipelines/worker.py)
XINPI_PIPELINE_WORKER_START = "auto"  # fork at spider open where safe, else spawn (pipelines/worker.py)
XINPI_PIPELINE_BATCH = 32  # items per hand-off to the worker ...
XINPI_PIPELINE_BATCH_WAIT = 0.05  # ... or fewer, after this many seconds
EXTENSIONS = {
    "xinpi.heap.FreezeStartupHeapExtension": 0,  # start-up objects out of the GC's walks (xinpi/heap.py)
    "xinpi.heap.YoungGenerationThresholdExtension": 0,  # fewer young collections (xinpi/heap.py)
    "xinpi.pipelines.stats.StatsFileExtension": 500,
    "xinpi.pipelines.watermark.WatermarkExtension": 510,
    "xinpi.pipelines.lock.CrawlLockExtension": 100,
}
XINPI_GC_FREEZE = True  # False: full collections walk the start-up heap too (xinpi/heap.py)
XINPI_GC_YOUNG_THRESHOLD = 50000  # young GC every N allocations in a crawl (xinpi/heap.py); 0 keeps Python's
# --- one crawl per source at a time (see pipelines/lock.py; flock: one host or a shared-lock FS) ----
XINPI_LOCK_ENABLED = True  # False only to bypass on purpose; the commit re-check keeps data exact
XINPI_LOCK_WAIT_SECONDS = 0.0  # 0: a crawl that finds its source locked closes at once ("locked")
XINPI_LOCK_POLL_SECONDS = 1.0  # how often a waiting crawl tries the lock again
XINPI_LOCK_COMMIT_RECHECK = True  # re-check each flush against the store under a commit lock

# --- incremental crawling and focus (see spiders/base.py) --------------------------------------
XINPI_INCREMENTAL = True  # skip stored documents, stop paging at a page of stored ones
XINPI_DEFAULT_DAYS = 7  # window length when there is neither `since` nor a watermark
XINPI_OVERLAP_DAYS = 2  # a watermark-based window starts this many days before the watermark
# Empty: spiders.base.DEFAULT_TOPIC_WORDS. Per source: XINPI_TOPIC_WORDS_<SPIDER NAME>.
XINPI_TOPIC_WORDS: list[str] = []

# --- per-source knobs (each spider's docstring says more; defaults shown) --------------------------
# Lists accept a Python list, a JSON list or a comma-separated string. Unset = the spider's default.
XINPI_PDF_MAX_BYTES = 20 * 1024 * 1024  # attachment download cap; a larger PDF is a recorded failure
# XINPI_CNINFO_SEARCHKEYS: unset = one category query (公司债+其他融资) with the topic filter on titles;
#   "资产支持;专项计划" = keyword mode, one query per keyword (spiders/cninfo.py)
XINPI_CNINFO_PAGE_SIZE = 30  # the real API caps pages at 30 rows
XINPI_CNINFO_MAX_PAGES = 100  # past ~100 pages the real API repeats page 1: the window is sliced
# XINPI_ZQRB_CHANNELS: channel paths to read, default ["jrjg/bank"]
# XINPI_SSE_BOND_TYPES: bondType lists, default one comma list of the ABS and corporate types
# XINPI_SSE_PROJECT_TYPES: ZQ_XMLB BOND_TYPE codes, default none (one query, every type)
# XINPI_SSE_PDF_HOST: "www.sse.com.cn"  # relative PDF paths are joined to this host, never query.sse
# XINPI_SZSE_CHANNELS: ["bondinfoNotice_disc"]
# XINPI_SZSE_PROJECT_CATEGORIES: zqlb codes, default [""] (one query, every category)
# XINPI_SINA_LIDS: [2516] 财经
# XINPI_EASTMONEY_COLUMNS: [1207]
# XINPI_CS_CHANNELS: default ["gppd/zqxw"] 债市研究
# XINPI_STCN_TYPES: default ["finance"]

# --- politeness and robustness ----------------------------------------------------------------
USER_AGENT = "xinpi/0.1 (+https://github.com/xinpi; disclosure research crawler)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.5
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 50 * 1024 * 1024  # absurd sizes are refused, logged and counted
DOWNLOAD_WARNSIZE = 10 * 1024 * 1024
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Retries wait: Retry-After when the site sends one (capped), else 1 s, 2 s, 4 s ...
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "xinpi.middlewares.BackoffRetryMiddleware": 550,
}
XINPI_RETRY_BACKOFF_BASE = 1.0
XINPI_RETRY_AFTER_MAX = 60.0
HTTPERROR_ALLOW_ALL = False
COOKIES_ENABLED = True

# --- unattended crawls: no debugging consoles ---------------------------------------------------
# Scrapy opens two in every crawl process: the telnet console and (2.19) RemoteControl, an HTTP
# endpoint that runs the Python sent to it and leaves a job file under ~/.local/state/scrapy/
# job_files (one stays behind for every crawl that is killed). Nightly crawls have nobody at the
# console; for a debugging session pass -s TELNETCONSOLE_ENABLED=True or -s REMOTE_CONTROL_ENABLED=True.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# --- offline hygiene --------------------------------------------------------------------------
# tldextract (used by the cookie middleware) would try to download the public suffix list.
os.environ.setdefault("TLDEXTRACT_CACHE", str(cache_dir() / "tldextract"))
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
# Scrapy would re-read and re-parse a generator callback's source to warn about `return value`;
# that costs real CPU per response on a long crawl, and our callbacks return nothing.
WARN_ON_GENERATOR_RETURN_VALUE = False
# Items per response processed at once. Scrapy (2.19) starts that many tasks for every response,
# most with nothing to do (scrapy#5182): crawl_bench's 2,000-page bare crawl took 3.67 s at its
# default of 100 against 1.79 s at 4 (medians of three). More buys nothing either: a response
# rarely yields more than one document, and the worker gets items in batches anyway; the full
# crawl took 2.07 s at 4, 2.05 s at 8 and 2.38 s at 32 (medians of five rotated rounds).
CONCURRENT_ITEMS = 4
LOG_LEVEL = os.environ.get("XINPI_LOG_LEVEL", "INFO")
