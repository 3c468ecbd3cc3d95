"""The crawl benchmark's memory figure must be the crawl's own peak, not the bench's."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from scrapy import Spider
from scrapy.utils.test import get_crawler

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("peak_memory", ROOT / "benchmarks" / "peak_memory.py")
peak_memory = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(peak_memory)

# A parent whose peak is ~200 MB spawns a small child; the child reports both figures.
_PARENT = """
import subprocess, sys
block = bytearray(200 * 2**20)
block[::4096] = b"x" * len(block[::4096])  # touch every page: resident
del block
child = (
    "import json, resource\\n"
    "from benchmarks.peak_memory import own_peak_rss_mb\\n"
    "print(json.dumps({'own': own_peak_rss_mb(),"
    " 'maxrss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\\n"
)
sys.stdout.write(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True).stdout)
"""


def test_a_spawned_crawl_reads_its_own_peak_not_its_parents():
    out = subprocess.run([sys.executable, "-c", _PARENT], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    figures = json.loads(out)
    assert figures["maxrss"] >= 190  # the trap: Linux starts it at the parent's peak
    assert figures["own"] < 100  # a bare interpreter: tens of MB


def test_the_extension_leaves_both_figures_in_the_stats():
    crawler = get_crawler(Spider)
    ext = peak_memory.PeakMemoryExtension.from_crawler(crawler)
    ext.spider_closed(Spider("x"), "finished")
    stats = crawler.stats.get_stats()
    assert stats["bench/peak_rss_mb/crawl"] == round(peak_memory.own_peak_rss_mb(), 1) > 10
    assert stats["bench/peak_rss_mb/children"] >= 0
