"""Benchmark: the full crawl (zqrb spider + every item pipeline -> Parquet) vs a bare fetch-only crawl.

    .venv/bin/python benchmarks/crawl_bench.py [--docs 2000] [--mem-docs 1000,10000] [--repeat 5] \
        [--set NAME=VALUE] [--bare-gc] [--profile] [--json]

Targets (sources issue):
  * speed: the full crawl of ``--docs`` documents takes <= 1.3 x the bare crawl of the same pages;
  * memory: peak RSS of a full crawl of 10k documents <= 1.2 x that of a 1k crawl (memory stays flat).

Every crawl is its own ``python -m scrapy`` subprocess (Scrapy's reactor cannot restart) against a
fresh emulator subprocess serving the synthetic channel ``bulk/n{N}`` of
:mod:`xinpi.emulator.sites.bulk` (fresh, so no crawl profits from the emulator's page cache warmed by
another); the emulator gets its own process so it does not compete with the crawl for one GIL. Time
is Scrapy's ``elapsed_time_seconds`` (open to close of the spider: interpreter start-up and imports
excluded, jieba's dictionary load included); wall time is printed too. The full crawl runs its item
pipelines in a worker process (:mod:`xinpi.pipelines.worker`), so the second core does the
extraction and the Parquet writing: "cpu s" comes from ``os.wait4`` and covers the crawl process and
that worker (the crawl reaps it), "peak RSS" is the larger of their own high-water marks
(``benchmarks/peak_memory.py``: not ``wait4``'s, which never reads below the bench's own peak), and
"crawl cpu" is the crawl process alone between spider open and close. Each full crawl writes
Parquet to a temp DATA_DIR, and the documents landed there are counted, so a fast crawl that lost
documents cannot pass.

The bare crawl is stock Scrapy: its only extension is the stats file the bench reads. The xinpi
crawls (full and spider) also tune the garbage collector (:mod:`xinpi.heap`: the start-up heap
frozen out of its walks, young collections less often than Python's 700), which would
save a bare crawl time too; ``--bare-gc`` gives the bare crawl the same, so the ratio can be read
both ways.

Each repeat also crawls the same pages with the full crawl's spider and no item pipelines at all
("spider", ``--no-spider-alone`` skips it): parsing the pages and Scrapy's own handling of every
item (scraper, signals, stats) cost time before any pipeline runs, and this ratio shows that floor.

``--profile`` runs one more full crawl under cProfile and prints where its time went, by component,
for the crawl process and for its item-pipeline worker process (:mod:`xinpi.pipelines.worker`).
Always exits 0: this is a report, not a gate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks run from a checkout

from benchmarks.peak_memory import PeakMemoryExtension  # noqa: E402
from xinpi import settings as project_settings  # noqa: E402
from xinpi.emulator.sites import bulk  # noqa: E402
from xinpi.heap import FreezeStartupHeapExtension, YoungGenerationThresholdExtension  # noqa: E402

SPEED_TARGET = 1.3
#: xinpi's garbage-collector extensions, which ``--bare-gc`` gives the bare crawl too.
GC_EXTENSIONS = [f"{e.__module__}.{e.__qualname__}"
                 for e in (FreezeStartupHeapExtension, YoungGenerationThresholdExtension)]
#: Listed before the stats file's extension (500), so its figures reach the file (see peak_memory.py).
PEAK_MEMORY_EXTENSION = f"{PeakMemoryExtension.__module__}.{PeakMemoryExtension.__qualname__}"
MEMORY_TARGET = 1.2
COMMON_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "INFO",
}


@dataclass
class CrawlRun:
    label: str
    docs: int
    returncode: int
    elapsed: float  # Scrapy's elapsed_time_seconds
    wall: float
    cpu: float  # user + system seconds of the crawl process, start-up included
    crawl_cpu: float | None  # the same between spider open and close
    peak_rss_mb: float
    pages: int  # responses received
    stored: int | None = None  # documents rows in Parquet (full crawls)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.elapsed if self.elapsed else 0.0


class EmulatorProcess:
    """The emulator server (``python -m xinpi.emulator.server``) in its own process on a free port,
    stopped by its own pid."""

    def __init__(self, log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "xinpi.emulator.server", "--port", str(self.port)],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/robots.txt", timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"emulator did not start; see {log}") from None
                time.sleep(0.1)

    def cpu_seconds(self) -> float:
        got = _proc_sample(self.proc.pid)
        return got[0] if got else 0.0

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def _proc_sample(pid: int) -> tuple[float, float] | None:
    """(CPU seconds, RSS MB) of a live process from /proc, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK, int(fields[21]) * _PAGE / 2**20


_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _run(cmd: list[str], log: Path) -> tuple[int, float, float, float, list[tuple[float, float, float]]]:
    """Run a child; returns (returncode, wall s, cpu s, peak RSS MB, samples) of that child alone.

    ``samples`` are (epoch s, CPU s, RSS MB) taken every 0.1 s, so the CPU spent between the
    spider's open and close (without interpreter start-up) can be read off afterwards.
    """
    env = {**os.environ, "XINPI_CACHE_DIR": str(ROOT / ".tmp" / "cache")}
    samples: list[tuple[float, float, float]] = []
    with log.open("w") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                got = _proc_sample(proc.pid)
                if got is not None:
                    samples.append((time.time(), *got))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        sampler.join()
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, samples


def _cpu_between(samples: list[tuple[float, float, float]], start: float, end: float) -> float | None:
    """CPU seconds the child spent between two epoch times (nearest samples at or inside them)."""
    inside = [cpu for at, cpu, _ in samples if start - 0.05 <= at <= end + 0.15]
    return inside[-1] - inside[0] if len(inside) >= 2 else None


def _settings_args(settings: dict[str, str]) -> list[str]:
    return [a for k, v in settings.items() for a in ("-s", f"{k}={v}")]


def crawl(kind: str, docs: int, work: Path, profile: Path | None = None,
          full_settings: dict[str, str] | None = None, bare_gc: bool = False) -> CrawlRun:
    """One crawl of ``docs`` synthetic documents: ``kind`` is "bare", "spider" or "full".

    "spider" is the full crawl's spider with no item pipelines at all (``ITEM_PIPELINES={}``): its
    parsing and Scrapy's handling of the items it yields, without normalising, extracting or writing.
    The bare crawl runs stock Scrapy's extensions only, unless ``bare_gc`` gives it xinpi's
    garbage-collector extensions (:mod:`xinpi.heap`) as well.
    """
    work.mkdir(parents=True, exist_ok=True)
    stats_file = work / "stats.json"
    data_dir = work / "data"
    with EmulatorProcess(work / "emulator.log") as emu:
        settings = {**COMMON_SETTINGS, "XINPI_STATS_FILE": str(stats_file), "DATA_DIR": str(data_dir)}
        python = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
        if kind == "bare":
            settings["ITEM_PIPELINES"] = "{}"
            extensions = {"xinpi.pipelines.stats.StatsFileExtension": 500, PEAK_MEMORY_EXTENSION: 10}
            if bare_gc:
                extensions.update(dict.fromkeys(GC_EXTENSIONS, 0))
            settings["EXTENSIONS"] = json.dumps(extensions)
            start = f"{emu.url}/{bulk.HOST}/{bulk.channel(docs)}/index.html"
            cmd = python + ["-m", "scrapy", "runspider", str(ROOT / "benchmarks" / "bare_spider.py"),
                            "-a", f"start_url={start}"]
        else:
            since, until = bulk.window(docs)
            settings["XINPI_EMULATOR_URL"] = emu.url
            settings["EXTENSIONS"] = json.dumps({**project_settings.EXTENSIONS, PEAK_MEMORY_EXTENSION: 10})
            settings.update(full_settings or {})
            if kind == "spider":
                settings["ITEM_PIPELINES"] = "{}"
            cmd = python + ["-m", "scrapy", "crawl", "zqrb", "-a", f"channels={bulk.channel(docs)}",
                            "-a", f"since={since}", "-a", f"until={until}", "-a", "all=1"]
        emu_cpu0 = emu.cpu_seconds()
        rc, wall, cpu, rss, samples = _run(cmd + _settings_args(settings), work / "crawl.log")
        emu_cpu = emu.cpu_seconds() - emu_cpu0
    stats = json.loads(stats_file.read_text("utf-8")) if stats_file.exists() else {}
    elapsed = float(stats.get("elapsed_time_seconds") or wall)
    crawl_cpu = None
    if stats.get("start_time"):
        opened = dt.datetime.fromisoformat(stats["start_time"]).timestamp()
        crawl_cpu = _cpu_between(samples, opened, opened + elapsed)
    own = [stats[k] for k in ("bench/peak_rss_mb/crawl", "bench/peak_rss_mb/children") if k in stats]
    run = CrawlRun(
        label=f"{kind} {docs}", docs=docs, returncode=rc, elapsed=elapsed, wall=wall, cpu=cpu,
        crawl_cpu=crawl_cpu, peak_rss_mb=max(own) if own else rss,
        pages=int(stats.get("downloader/response_count") or 0),
        extra={
            "peak_rss_mb_crawl": stats.get("bench/peak_rss_mb/crawl"),
            "peak_rss_mb_children": stats.get("bench/peak_rss_mb/children"),  # the worker
            # what wait4 says: never below the bench's own peak (see benchmarks/peak_memory.py)
            "wait4_maxrss_mb": round(rss, 1),
            "emulator_cpu_s": round(emu_cpu, 2),
            "items": stats.get("item_scraped_count"),
            "failures": sum(v for k, v in stats.items() if k.startswith("xinpi/failures/")),
            "status_200": stats.get("downloader/response_status_count/200"),
            "finish_reason": stats.get("finish_reason"),
        },
    )
    if kind == "full":
        run.stored = _stored_documents(data_dir)
    return run


def _stored_documents(data_dir: Path) -> int:
    """Distinct doc_ids in the published documents files (hidden staging folders skipped)."""
    import pyarrow.parquet as pq

    folder = data_dir / "documents"
    ids: set[str] = set()
    for part in folder.rglob("*.parquet") if folder.exists() else ():
        if not any(p.startswith(".") for p in part.relative_to(folder).parts):
            ids.update(pq.read_table(part, columns=["doc_id"]).column("doc_id").to_pylist())
    return len(ids)


# --- profile ----------------------------------------------------------------------------------------
_XINPI_PARTS = (  # first match wins: (label, path fragment) for the project's own code
    ("xinpi extractors (deal extraction)", "/extractors/"),
    ("xinpi pipelines.parquet/store/schema", "/pipelines/parquet"),
    ("xinpi pipelines.parquet/store/schema", "/pipelines/store"),
    ("xinpi pipelines.parquet/store/schema", "/pipelines/schema"),
    ("xinpi pipelines.dedupe", "/pipelines/dedupe"),
    ("xinpi pipelines.normalise", "/pipelines/normalise"),
    ("xinpi pipelines (other)", "/pipelines/"),
    ("xinpi spiders", "/spiders/"),
)


def _component(filename: str) -> str:
    """Who owns a profiled function: a xinpi part, a site-package, a stdlib module, or C builtins."""
    if filename == "~":
        return "C builtins (str, re matching, socket ...)"
    if filename.startswith("<frozen"):
        return "python imports (start-up)"
    if "/site-packages/" in filename:
        return filename.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if str(ROOT) in filename:
        return next((lab for lab, frag in _XINPI_PARTS if frag in filename), "xinpi (other)")
    if "/lib/python3" in filename:
        rest = filename.split("/lib/python3", 1)[1].split("/", 1)[-1]
        return "stdlib " + rest.split("/", 1)[0].removesuffix(".py")
    return "other"


def profile_summary(path: Path, top: int = 15) -> dict[str, Any]:
    """Self time by component (file path) and the functions with the most self time."""
    st = pstats.Stats(str(path))
    by_component: dict[str, float] = defaultdict(float)
    total = 0.0
    rows = []
    for (filename, line, func), (_cc, _nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        total += tt
        by_component[_component(filename)] += tt
        rows.append((tt, ct, f"{Path(filename).name}:{line}:{func}" if filename != "~" else func))
    rows.sort(reverse=True)
    return {
        "total_self_s": round(total, 2),
        "by_component": {k: round(v, 2) for k, v in sorted(by_component.items(), key=lambda kv: -kv[1])},
        "top_self": [
            {"self_s": round(tt, 2), "cum_s": round(ct, 2), "fn": name} for tt, ct, name in rows[:top]
        ],
        "top_cumulative": _top_cumulative(st, top),
    }


def _top_cumulative(st: pstats.Stats, top: int) -> list[dict[str, Any]]:
    """Cumulative time of the xinpi functions (the project's own code paths only)."""
    rows = [
        (ct, f"{'/'.join(Path(fn).parts[-2:])}:{line}:{func}")
        for (fn, line, func), (_cc, _nc, _tt, ct, _c) in st.stats.items()  # type: ignore[attr-defined]
        if str(ROOT) in fn and "/.venv/" not in fn
    ]
    rows.sort(reverse=True)
    return [{"cum_s": round(ct, 2), "fn": name} for ct, name in rows[:top]]


# --- report -----------------------------------------------------------------------------------------
def _print_profile(what: str, prof: dict[str, Any]) -> None:
    print(f"\nprofile of {what} ({prof['total_self_s']} s of self time), by component:")
    for name, secs in list(prof["by_component"].items())[:18]:
        print(f"  {secs:>7.2f} s  {100 * secs / prof['total_self_s']:5.1f}%  {name}")
    print("xinpi code paths by cumulative time:")
    for row in prof["top_cumulative"]:
        print(f"  {row['cum_s']:>7.2f} s  {row['fn']}")
    print("functions by self time:")
    for row in prof["top_self"]:
        print(f"  {row['self_s']:>7.2f} s  {row['fn']}")


def _each(ratios: list[float]) -> str:
    """" (median of 1.52, 1.41)" after a median of several runs; nothing after a single one."""
    return "" if len(ratios) == 1 else " (median of " + ", ".join(f"{r:.2f}" for r in ratios) + ")"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def straddles(ratios: list[float], target: float) -> bool:
    """Whether single pairs fell on both sides of ``target``: then the host's noise, not the code,
    decides the verdict, and a run minutes later can give the other one (1.51 and 1.21 were measured
    four minutes apart on the 2-vCPU development VM, same clone)."""
    return len(ratios) > 1 and min(ratios) <= target < max(ratios)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000, help="documents in the speed comparison (>= 2000)")
    ap.add_argument("--mem-docs", default="1000,10000",
                    help="small,large document counts for the RSS ratio; 'none' skips both memory crawls")
    ap.add_argument("--repeat", type=int, default=5,
                    help="run the bare/full pair this many times, interleaved; ratios use the medians "
                         "(one pair alone swings with the host's speed: even the spider without "
                         "pipelines measured 0.90-1.14x the bare crawl in one run)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a Scrapy setting for the full crawls only (XINPI_EXTRACT_WORKERS=2); repeatable")
    ap.add_argument("--no-spider-alone", dest="spider_alone", action="store_false",
                    help="skip the third crawl of each repeat: the full crawl's spider without item "
                         "pipelines, which shows how much of the ratio is parsing and Scrapy's own "
                         "per-item work rather than the pipelines")
    ap.add_argument("--bare-gc", action="store_true",
                    help="give the bare crawl xinpi's garbage-collector tuning too (xinpi/heap.py: the "
                         "start-up heap freeze and the young-generation threshold, on in every xinpi "
                         "crawl): the ratio then compares like with like on that count")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--profile", action="store_true", help="also profile a full crawl of --docs documents")
    ap.add_argument("--keep", type=Path, help="keep logs and data under this folder (default: a temp dir)")
    args = ap.parse_args(argv)
    full_settings = dict(kv.split("=", 1) for kv in args.set)
    mem = None if args.mem_docs.strip().lower() == "none" else tuple(int(x) for x in args.mem_docs.split(","))

    tmp = tempfile.TemporaryDirectory(prefix="xinpi-crawl-bench-") if args.keep is None else None
    work = args.keep or Path(tmp.name)  # type: ignore[union-attr]
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    runs: dict[str, CrawlRun] = {}
    t0 = time.perf_counter()
    load_start = os.getloadavg()
    plan = []
    for n in range(max(1, args.repeat)):  # interleaved pairs: both crawls of a pair see similar load
        suffix = "" if n == 0 else f"_{n + 1}"
        plan += [(f"bare{suffix}", "bare", args.docs), (f"full{suffix}", "full", args.docs)]
        if args.spider_alone:
            plan.append((f"spider{suffix}", "spider", args.docs))
    if mem is not None:
        plan += [("mem_small", "full", mem[0]), ("mem_large", "full", mem[1])]
    for key, kind, docs in plan:
        say(f"crawling: {kind} {docs} ...")
        runs[key] = crawl(kind, docs, work / key, full_settings=full_settings,
                          bare_gc=args.bare_gc)
    prof = None
    if args.profile:
        say(f"profiling: full {args.docs} under cProfile ...")
        crawl("full", args.docs, work / "profile", profile=work / "full.prof", full_settings={
            **full_settings, "XINPI_PIPELINE_WORKER_PROFILE": str(work / "worker.prof")})
        prof = profile_summary(work / "full.prof")
        if (work / "worker.prof").exists():  # the item pipelines' worker process, profiled on its own
            prof["worker"] = profile_summary(work / "worker.prof")

    pairs = [(runs[k], runs["full" + k[4:]]) for k in runs if k.startswith("bare")]
    speed_ratios = [f.elapsed / b.elapsed if b.elapsed else float("inf") for b, f in pairs]
    spider_ratios = [runs["spider" + k[4:]].elapsed / b.elapsed if b.elapsed else float("inf")
                     for k, b in runs.items() if k.startswith("bare") and "spider" + k[4:] in runs]
    spider_ratio = statistics.median(spider_ratios) if spider_ratios else None
    cpu_ratios = [f.crawl_cpu / b.crawl_cpu for b, f in pairs if f.crawl_cpu and b.crawl_cpu]
    speed_ratio = statistics.median(speed_ratios)
    cpu_ratio = statistics.median(cpu_ratios) if cpu_ratios else None
    straddle = straddles(speed_ratios, SPEED_TARGET)
    mem_ratio = None
    if mem is not None:
        mem_s, mem_l = runs["mem_small"], runs["mem_large"]
        mem_ratio = mem_l.peak_rss_mb / mem_s.peak_rss_mb if mem_s.peak_rss_mb else float("inf")
    complete = all(r.returncode == 0 for r in runs.values()) and all(
        r.stored == r.docs for k, r in runs.items() if not k.startswith(("bare", "spider"))
    ) and all(r.extra["items"] == r.docs for k, r in runs.items() if k.startswith("spider"))
    report = {
        "runs": {k: {**asdict(r), "pages_per_s": round(r.pages_per_s, 1)} for k, r in runs.items()},
        "speed_ratio": round(speed_ratio, 3),
        "speed_ratios": [round(r, 3) for r in speed_ratios],
        "speed_target": SPEED_TARGET,
        "speed_pass": speed_ratio <= SPEED_TARGET,
        "speed_pairs_straddle_target": straddle,
        "spider_alone_ratio": None if spider_ratio is None else round(spider_ratio, 3),
        "spider_alone_ratios": [round(r, 3) for r in spider_ratios],
        "crawl_cpu_ratio": None if cpu_ratio is None else round(cpu_ratio, 3),
        "crawl_cpu_ratios": [round(r, 3) for r in cpu_ratios],
        "memory_ratio": None if mem_ratio is None else round(mem_ratio, 3),
        "memory_target": MEMORY_TARGET,
        "memory_pass": None if mem_ratio is None else mem_ratio <= MEMORY_TARGET,
        "all_documents_stored": complete,
        "bench_seconds": round(time.perf_counter() - t0, 1),
        "full_settings": full_settings,
        "bare_gc": args.bare_gc,
        "cpus": os.cpu_count(),
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "profile": prof,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(f"{'crawl':<12}{'docs':>7}{'pages':>7}{'stored':>8}{'time s':>8}{'pages/s':>9}{'wall s':>8}"
              f"{'cpu s':>7}{'crawl cpu':>10}{'emu cpu':>8}{'peak RSS MB':>12}{'rc':>4}")
        for r in runs.values():
            print(f"{r.label:<12}{r.docs:>7}{r.pages:>7}{'-' if r.stored is None else r.stored:>8}"
                  f"{r.elapsed:>8.1f}{r.pages_per_s:>9.1f}{r.wall:>8.1f}{r.cpu:>7.1f}"
                  f"{r.crawl_cpu if r.crawl_cpu is not None else float('nan'):>10.1f}"
                  f"{r.extra['emulator_cpu_s']:>8.1f}{r.peak_rss_mb:>12.1f}{r.returncode:>4}")
        print(f"speed:  full/bare time = {speed_ratio:.2f}{_each(speed_ratios)} (target <= {SPEED_TARGET}) "
              f"{_verdict(speed_ratio <= SPEED_TARGET)}"
              + (f"; crawl CPU full/bare = {cpu_ratio:.2f}" if cpu_ratio is not None else ""))
        if straddle:
            print(f"        single pairs fall on both sides of {SPEED_TARGET}: the verdict is within the "
                  "host's noise (more pairs: --repeat; compare runs of one hour)")
        if spider_ratio is not None:
            print(f"        spider alone (parsing + Scrapy's item handling, no item pipelines)/bare time = "
                  f"{spider_ratio:.2f}{_each(spider_ratios)}: the part of the ratio the pipelines "
                  "do not cause")
        if mem is not None and mem_ratio is not None:
            print(f"memory: peak RSS {mem[1]}/{mem[0]} docs = {mem_ratio:.2f} (target <= {MEMORY_TARGET}) "
                  f"{_verdict(mem_ratio <= MEMORY_TARGET)}")
        else:
            print("memory: not measured (--mem-docs none)")
        print(f"every crawl finished and stored all its documents: {'yes' if complete else 'NO'}")
        if prof:
            _print_profile("the crawl process of a full crawl", prof)
            if prof.get("worker"):
                _print_profile("its pipeline worker process", prof["worker"])
        print("the bare crawl ran " + ("with xinpi's garbage-collector tuning, as the full crawl does"
                                       if args.bare_gc else
                                       "stock Scrapy's extensions; the xinpi crawls tune the garbage "
                                       "collector (xinpi/heap.py; --bare-gc gives bare the same)"))
        if full_settings:
            print("full crawls ran with " + " ".join(f"{k}={v}" for k, v in full_settings.items()))
        load = " ".join(f"{x:.1f}" for x in load_start)
        print(f"(bench took {report['bench_seconds']} s on {os.cpu_count()} CPUs, load at start {load}"
              + (f"; logs under {work})" if args.keep else ")"))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
