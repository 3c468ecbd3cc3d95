"""Run the item pipelines (normalise -> extract -> dedupe -> Parquet) in a child process of the crawl.

Why a second process: Scrapy runs the downloader, the spider's parsing and every item pipeline on one
thread, so a crawl uses one core while the second idles. Measured with ``benchmarks/crawl_bench.py``
(2,000 emulator documents), the four pipelines cost about as much CPU per document as Scrapy's own
fetching, which made the full crawl ~2.3x slower than a fetch-only crawl. Moving the chain into a
worker process lets the crawl keep fetching while documents are normalised, extracted and written
beside it. Per-document hand-off to a process pool was tried and cost about what it saved; here
documents travel in batches (``XINPI_PIPELINE_BATCH`` items or ``XINPI_PIPELINE_BATCH_WAIT``
seconds, whichever comes first, or at once when nothing is left to fetch) over a non-blocking pipe,
so the crawl never waits on the worker (see :class:`_WorkerHandle` for why there are no threads on
the crawl's side).

What stays the same as running the pipelines in the crawl's own process:

* the chain is ``XINPI_PIPELINES`` (a Scrapy-style ``{path: order}`` dict), its components built
  with a crawler of their own: the crawl's settings, a spider of the same name, their own signals
  (so a failure recorded by extract still reaches the writer), and stats whose every change is
  replayed into the crawl's stats (``xinpi/documents/written``, ``log_count/ERROR`` ...);
* an item counts as scraped only once the worker has processed it (the crawl awaits the result), so
  ``item_scraped`` listeners such as the watermark see the processed item: the very item the spider
  yielded, with the fields the chain set or changed copied back onto it (only those travel back, see
  :func:`_changes`), as if the chain had run in the crawl's process; a DropItem in the worker
  is a DropItem of the crawl, an exception there is logged by Scrapy as an error for that item;
* the worker's log lines go to the same stream as the crawl's, in the same format.

How the worker starts (``XINPI_PIPELINE_WORKER_START``): by default ("auto") it is forked from the
crawl when the spider opens, if the crawl is still single-threaded on Linux (it is: Scrapy starts its
thread pool later). A fork starts in milliseconds with Scrapy already imported, where a spawned
interpreter re-imports it (~0.7 s of CPU taken from the crawl on a two-core machine, and ~1 s of
every test crawl). The forked worker builds its chain (jieba, pyarrow, the extractors' data) at the
first item, so a crawl that finds nothing new (or is skipped by the crawl lock) costs a fork and
nothing more. Otherwise, or with "spawn", a fresh interpreter is spawned at the first item.

The worker runs at a lower CPU priority than the crawl (``XINPI_PIPELINE_WORKER_NICE``, default 10
steps of ``nice``). The crawl process is the critical path: it fetches, parses and keeps the
politeness timers, and the worker's work can wait a moment (the crawl keeps handing it batches, and
Scrapy's scraper stops taking responses if too many items are still unprocessed). On two cores the
crawl, the worker and the site (the emulator in the benchmark) want ~2 cores between them; at the same
priority the scheduler let the worker take the crawl's core at times. Measured on the 2,000-document
bulk crawl, six interleaved rounds: 7.32 s median at nice 10 against 8.07 s at 0, faster in every
round; the crawl's own CPU fell too (7.1 against 7.8 s), as it kept its core and its caches.
``0`` leaves the worker at the crawl's priority.

If the worker dies, every item it still held is reported as an error and the crawl closes with
reason ``pipeline_worker_lost``: the watermark is not advanced, and the next run fetches what was
not stored. ``XINPI_PIPELINE_WORKER = False`` runs the same chain in the crawl's own process (for a
debugger, or a one-core machine).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import itertools
import logging
import multiprocessing
import os
import pickle
import signal
import struct
import sys
import threading
import traceback
from collections.abc import Callable
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.settings import Settings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import build_from_crawler, load_object

logger = logging.getLogger(__name__)

#: Close reason when the worker process is lost mid-crawl (not "finished": no watermark is written).
WORKER_LOST = "pipeline_worker_lost"
_STATS_OPS = ("inc_value", "set_value", "max_value", "min_value")


class PipelineChain:
    """The ``XINPI_PIPELINES`` components, in order, on one crawler: what Scrapy's item pipeline
    manager does for synchronous components, without its per-item Deferred and coroutine plumbing."""

    def __init__(self, crawler: Crawler) -> None:
        paths = build_component_list(crawler.settings.getdict("XINPI_PIPELINES"))
        self.components = [build_from_crawler(load_object(path), crawler) for path in paths]

    def open(self) -> None:
        for component in self.components:
            if hasattr(component, "open_spider"):
                component.open_spider()

    def process(self, item: Any) -> Any:
        for component in self.components:
            if hasattr(component, "process_item"):
                item = component.process_item(item)
        return item

    def close(self) -> None:
        errors = []
        for component in reversed(self.components):  # the writer flushes before the others close
            if hasattr(component, "close_spider"):
                try:
                    component.close_spider()
                except Exception as exc:  # one component's close must not skip the others'
                    logger.exception("closing %s failed", type(component).__name__)
                    errors.append(exc)
        if errors:
            raise errors[0]


class WorkerPipeline:
    """The one item pipeline Scrapy sees: hands items to the chain, in a worker process or here."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.use_worker = settings.getbool("XINPI_PIPELINE_WORKER", True)
        self.batch_size = max(1, settings.getint("XINPI_PIPELINE_BATCH", 32))
        self.batch_wait = max(0.0, settings.getfloat("XINPI_PIPELINE_BATCH_WAIT", 0.05))
        self.start_method = settings.get("XINPI_PIPELINE_WORKER_START", "auto")
        if self.start_method not in ("auto", "fork", "spawn"):
            raise ValueError("XINPI_PIPELINE_WORKER_START must be auto, fork or spawn, "
                             f"not {self.start_method!r}")
        self.chain: PipelineChain | None = None
        self.worker: _WorkerHandle | None = None
        self._seq = itertools.count()
        # seq -> (what process_item awaits, the item sent: the worker's changes are applied to it)
        self._waiting: dict[int, tuple[asyncio.Future[Any], Any]] = {}
        self._batch: list[tuple[int, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._closed: asyncio.Future[None] | None = None
        self._lost = False
        # The engine's downloader and scheduler, found at open (None outside a running crawl)
        self._fetching: tuple[Any, Any] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self._fetching = self._downloader_and_scheduler()
        if not self.use_worker:
            self.chain = PipelineChain(self.crawler)
            self.chain.open()
        elif _can_fork(self.start_method):
            self.worker = _WorkerHandle.start(self.crawler, self._on_message, "fork")

    async def process_item(self, item: Any) -> Any:
        if self.chain is not None:
            return self.chain.process(item)
        if self._lost:
            raise RuntimeError("the pipeline worker is gone; item not processed")
        if self.worker is None:
            self.worker = _WorkerHandle.start(self.crawler, self._on_message, "spawn")
        loop = asyncio.get_running_loop()
        seq = next(self._seq)
        future = loop.create_future()
        self._waiting[seq] = future, item
        self._batch.append((seq, item))
        if len(self._batch) >= self.batch_size or self._nothing_left_to_fetch():
            self._send_batch()
        elif self._timer is None:
            self._timer = loop.call_later(self.batch_wait, self._send_batch)
        return await future

    def _nothing_left_to_fetch(self) -> bool:
        """Whether no request is downloading or waiting in the scheduler: the items still to come
        are from responses already in hand, so holding a batch for more only delays the crawl's end.

        WHY: at the end of a crawl the last batch used to wait out ``XINPI_PIPELINE_BATCH_WAIT``
        (crawl_bench: ~45 ms of a ~2 s crawl, every run). Mid-crawl the scheduler is rarely empty,
        and with a download delay the downloader holds its queued requests, so batching is kept.
        Outside a running engine (tests driving the pipeline directly) the timer decides.
        """
        if self._fetching is None:
            return False
        downloader, scheduler = self._fetching
        return not downloader.active and not scheduler.has_pending_requests()

    def _downloader_and_scheduler(self) -> tuple[Any, Any] | None:
        """Looked up once, at open: the scheduler exists by then (the engine opens it before the
        item pipelines), and :meth:`_nothing_left_to_fetch` runs for nearly every item."""
        engine = self._engine()
        if engine is None:
            return None
        scheduler = getattr(engine, "scheduler", None)  # a property from Scrapy 2.19; before, slot's
        if scheduler is None:
            scheduler = getattr(getattr(engine, "slot", None), "scheduler", None)
        return None if scheduler is None else (engine.downloader, scheduler)

    def _engine(self) -> Any:
        """The crawl's engine, or None outside a running crawl (Scrapy 2.19 raises on reading it)."""
        try:
            return self.crawler.engine
        except RuntimeError:
            return None

    async def close_spider(self) -> None:
        if self.chain is not None:
            self.chain.close()
            return
        if self.worker is None:
            return
        if self._lost:
            self.worker.join(5)
            return
        self._send_batch()
        self._closed = asyncio.get_running_loop().create_future()
        self.worker.send(("close",))
        try:
            await self._closed
        finally:
            self.worker.join()

    # --- talking to the worker ----------------------------------------------------------------

    def _send_batch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._batch = self._batch, []
        if not batch or self.worker is None or self._lost:
            return
        try:
            self.worker.send(("items", batch))
        except Exception:  # an item that does not pickle (a spider bug): fail it, send the rest
            for entry in batch:
                try:
                    self.worker.send(("items", [entry]))
                except Exception as exc:
                    logger.error("item %s cannot be sent to the pipeline worker: %s",
                                 _describe(entry[1]), exc)
                    self._waiting.pop(entry[0])[0].set_exception(
                        PipelineWorkerError(f"item could not be sent to the pipeline worker: {exc}"))

    def _on_message(self, message: tuple[Any, ...] | None) -> None:
        """Runs on the crawl's event loop, once per message from the worker (None: it is gone)."""
        if message is None:
            self._on_lost()
            return
        kind, payload, stats_ops = message
        _replay(self.crawler.stats, stats_ops)
        if kind == "done":
            for seq, status, value in payload:
                future, item = self._waiting.pop(seq)
                if status == "changed":
                    future.set_result(_apply_changes(item, value))
                elif status == "ok":
                    future.set_result(value)
                elif status == "drop":
                    future.set_exception(DropItem(value))
                else:
                    future.set_exception(PipelineWorkerError(value))
        elif kind == "closed" and self._closed is not None and not self._closed.done():
            if payload:
                self._closed.set_exception(PipelineWorkerError(payload))
            else:
                self._closed.set_result(None)

    def _on_lost(self) -> None:
        if self._closed is not None and self._closed.done():
            return  # a normal exit after "closed"
        self._lost = True
        code = self.worker.exitcode() if self.worker else None
        message = (f"the pipeline worker process exited (code {code}) "
                   f"with {len(self._waiting)} item(s) unprocessed")
        logger.error("%s; closing the crawl (%s): what was not stored is fetched again next run",
                     message, WORKER_LOST)
        self.crawler.stats.inc_value("xinpi/failures/pipeline_worker")
        for future, _ in self._waiting.values():
            if not future.done():
                future.set_exception(PipelineWorkerError(message))
        self._waiting.clear()
        if self._closed is not None and not self._closed.done():
            self._closed.set_exception(PipelineWorkerError(message))
        engine = self._engine()
        if self._closed is None and engine is not None and self.crawler.spider is not None:
            asyncio.ensure_future(engine.close_spider_async(reason=WORKER_LOST))


def _can_fork(start_method: str) -> bool:
    """Fork now (the spider is opening) rather than spawn at the first item?

    "auto" forks only where it is safe: on Linux (macOS system libraries break after fork), inside
    the crawl's running event loop, and while the process has one thread, since a lock that another
    thread holds at the fork stays locked forever in the child. "fork" skips the thread check.
    """
    if start_method == "spawn" or "fork" not in multiprocessing.get_all_start_methods():
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    if start_method == "fork":
        return True
    return sys.platform == "linux" and threading.active_count() == 1


class PipelineWorkerError(RuntimeError):
    """An item the worker could not process (its traceback is the message), or a lost worker."""


def _replay(stats: StatsCollector | None, ops: list[tuple[str, tuple[Any, ...]]]) -> None:
    if stats is None:
        return
    for name, args in ops:
        getattr(stats, name)(*args)


# --- the crawl's side of the process ------------------------------------------------------------


class _WorkerHandle:
    """The child process and two one-way pipes, driven from the crawl's event loop (no threads).

    WHY no threads on this side: a thread in the crawl process (a pickling sender, a blocking
    receiver) competes for the GIL with the event loop, and each time the loop gives it up for a
    socket call it may wait a whole switch interval (5 ms) to get it back, which measurably slowed
    fetching. So results are read when their pipe is readable (``add_reader``), and batches are
    written to a non-blocking pipe: what does not fit waits in a buffer, written when the pipe
    drains (``add_writer``), so the crawl never blocks on a worker that is busy or still starting.
    Both ways, frames are those of :class:`multiprocessing.connection.Connection` (a 4-byte
    big-endian length, or -1 and an 8-byte length, then a pickle), which the worker reads and writes.
    """

    def __init__(self, process: multiprocessing.process.BaseProcess, results: Connection,
                 batches: Connection, on_message: Callable[[tuple[Any, ...] | None], None]) -> None:
        self.process = process
        self.results = results
        self._batches = batches
        self._wfd = batches.fileno()
        os.set_blocking(self._wfd, False)
        self._pending = bytearray()
        self._writing = False
        self._rfd = results.fileno()
        os.set_blocking(self._rfd, False)
        self._received = bytearray()
        self._on_message = on_message
        self._loop = asyncio.get_running_loop()
        self._reading = True
        self._loop.add_reader(self._rfd, self._readable)

    @classmethod
    def start(cls, crawler: Crawler, on_message: Callable[[tuple[Any, ...] | None], None],
              method: str) -> _WorkerHandle:
        """Start the worker by ``method``: "fork" (see :func:`_can_fork`) or "spawn"."""
        ctx = multiprocessing.get_context(method)
        batches_in, batches_out = ctx.Pipe(duplex=False)
        results_in, results_out = ctx.Pipe(duplex=False)
        spider = crawler.spider
        # A forked child holds copies of every descriptor, our ends of the pipes too: it closes
        # those first, or it would never see end-of-file when the crawl goes away.
        ours = (batches_out, results_in) if method == "fork" else ()
        process = ctx.Process(
            target=worker_main,
            args=(batches_in, results_out, _picklable_settings(crawler.settings),
                  spider.name if spider else "unknown", ours),
            name="xinpi-pipeline-worker",
            daemon=True,
        )
        process.start()
        batches_in.close()
        results_out.close()
        logger.info("item pipelines run in worker process %s (%s)", process.pid,
                    "forked" if method == "fork" else "spawned")
        return cls(process, results_in, batches_out, on_message)

    def send(self, message: tuple[Any, ...]) -> None:
        """Queue ``message`` for the worker; raises what pickling raises. A worker that is gone is
        not an error here: the end-of-file on its results pipe reports it (``on_message(None)``)."""
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        size = len(data)
        self._pending += struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!iQ", -1, size)
        self._pending += data
        self._write()

    def _write(self) -> None:
        try:
            while self._pending:
                written = os.write(self._wfd, self._pending)
                del self._pending[:written]
        except BlockingIOError:  # the pipe is full: go on when the worker has read some
            if not self._writing:
                self._writing = True
                self._loop.add_writer(self._wfd, self._write)
            return
        except OSError:  # the worker is gone; the end-of-file on its results pipe reports it
            self._pending.clear()
            self._stop_writing()
            return
        self._stop_writing()

    def _stop_writing(self) -> None:
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._wfd)

    def _readable(self) -> None:
        """Read what the pipe holds without waiting for the rest of a message (the worker may be
        in the middle of writing a large one); deliver every complete frame."""
        try:
            chunk = os.read(self._rfd, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # end of file: the worker has exited
            self._stop_reading()
            self._on_message(None)
            return
        self._received += chunk
        while True:
            frame = _next_frame(self._received)
            if frame is None:
                return
            start, end = frame
            message = pickle.loads(self._received[start:end])
            del self._received[:end]
            self._on_message(message)
            if not self._reading:
                return

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._rfd)

    def join(self, timeout: float = 60) -> None:
        self._stop_reading()
        self._stop_writing()
        self.process.join(timeout)
        if self.process.is_alive():
            logger.error("pipeline worker %s did not exit; terminating it", self.process.pid)
            self.process.terminate()
            self.process.join(5)
        self.results.close()
        self._batches.close()

    def exitcode(self) -> int | None:
        self.process.join(1)
        return self.process.exitcode


def _picklable_settings(settings: Settings) -> dict[str, Any]:
    """The crawl's settings as a plain dict, without values that cannot cross a process boundary."""
    out = {}
    for key, value in settings.copy_to_dict().items():
        try:
            pickle.dumps(value)
        except Exception:
            logger.debug("setting %s not passed to the pipeline worker (not picklable)", key)
            continue
        out[key] = value
    return out


# --- the worker process -------------------------------------------------------------------------


def _next_frame(buffer: bytearray) -> tuple[int, int] | None:
    """(start, end) of the first complete frame's pickle in ``buffer``, None if it is not all there."""
    if len(buffer) < 4:
        return None
    (size,) = struct.unpack_from("!i", buffer)
    start = 4
    if size == -1:
        if len(buffer) < 12:
            return None
        (size,) = struct.unpack_from("!Q", buffer, 4)
        start = 12
    return (start, start + size) if len(buffer) >= start + size else None


class _RecordingStats(StatsCollector):
    """Stats that remember each change, so the crawl's collector can replay them."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.ops: list[tuple[str, tuple[Any, ...]]] = []

    def take_ops(self) -> list[tuple[str, tuple[Any, ...]]]:
        ops, self.ops = self.ops, []
        return ops

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.ops.append(("inc_value", (key, count, start)))
        super().inc_value(key, count, start)

    def set_value(self, key: str, value: Any) -> None:
        self.ops.append(("set_value", (key, value)))
        super().set_value(key, value)

    def max_value(self, key: str, value: Any) -> None:
        self.ops.append(("max_value", (key, value)))
        super().max_value(key, value)

    def min_value(self, key: str, value: Any) -> None:
        self.ops.append(("min_value", (key, value)))
        super().min_value(key, value)


def _worker_crawler(settings: dict[str, Any], spider_name: str) -> tuple[Crawler, _RecordingStats]:
    from scrapy.utils.log import LogCounterHandler, configure_logging

    # Append to the crawl's LOG_FILE, if any: opening it afresh ("w") would erase the crawl's lines.
    settings = {**settings, "LOG_FILE_APPEND": True, "LOG_INSTALL_ROOT_HANDLER": True}
    spidercls = type("PipelineWorkerSpider", (Spider,), {"name": spider_name})
    crawler = Crawler(spidercls, Settings(settings))
    stats = _RecordingStats(crawler)
    crawler.stats = stats
    crawler.spider = spidercls()
    configure_logging(crawler.settings)
    logging.root.addHandler(LogCounterHandler(crawler, level=crawler.settings.get("LOG_LEVEL")))
    return crawler, stats


def worker_main(batches: Connection, conn: Connection, settings: dict[str, Any], spider_name: str,
                parent_ends: tuple[Connection, ...] = ()) -> None:
    """The child: build the chain, process batches until "close", report results and stats.

    ``parent_ends`` (forked workers only) are the crawl's ends of the pipes, closed here at once.
    ``XINPI_PIPELINE_WORKER_PROFILE`` (a file path) runs it under cProfile and leaves the stats
    there (``benchmarks/crawl_bench.py --profile`` uses it)."""
    if parent_ends:
        _forget_the_crawl(parent_ends)
    # Ctrl-C in a terminal reaches the whole process group; the crawl shuts down gracefully on it
    # and then closes the worker (which flushes), so the worker itself must not die of it first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    profile_to = settings.get("XINPI_PIPELINE_WORKER_PROFILE")
    if not profile_to:
        _serve(batches, conn, settings, spider_name)
        return
    import cProfile

    profiler = cProfile.Profile()
    try:
        profiler.runcall(_serve, batches, conn, settings, spider_name)
    finally:
        profiler.dump_stats(profile_to)


def _forget_the_crawl(parent_ends: tuple[Connection, ...]) -> None:
    """In a forked worker, drop what belongs to the crawl's process rather than to this one.

    The crawl's pipe ends are closed (end-of-file must reach us when the crawl exits). Its signal
    handlers would stop a reactor this process does not run, and its wake-up fd would hand our
    signals to the crawl's event loop: both are reset. Its log handlers (the crawl's stats counter
    among them) are removed; :func:`_worker_crawler` installs this process's own, as in a spawned
    worker. The inherited objects are frozen, so the garbage collector neither walks them on every
    full collection nor writes to their (shared, copy-on-write) memory pages.
    """
    for end in parent_ends:
        end.close()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    asyncio.set_event_loop(None)
    for handler in list(logging.root.handlers):
        logging.root.removeHandler(handler)
    gc.freeze()


def _serve(batches: Connection, conn: Connection, settings: dict[str, Any], spider_name: str) -> None:
    """Answer each message; the chain is built at the first batch, so a worker that is closed before
    any item arrives (a forked worker on a quiet night) imports and opens nothing."""
    crawler, stats = _worker_crawler(settings, spider_name)
    _lower_priority(crawler)
    chain: PipelineChain | None = None
    broken: str | None = None  # why the chain could not start; every item then fails with it
    while True:
        try:
            message = batches.recv()
        except EOFError:  # the crawl is gone: nothing to report to
            if chain is not None:
                chain.close()
            return
        if message[0] == "close":
            error = broken
            try:
                if chain is not None:
                    chain.close()
            except Exception:
                error = traceback.format_exc()
            conn.send(("closed", error, stats.take_ops()))
            return
        if chain is None and broken is None:
            try:
                chain = PipelineChain(crawler)
                chain.open()
            except Exception:
                logger.exception("the pipeline worker could not start its pipelines")
                chain, broken = None, traceback.format_exc()
        if chain is None:
            results = [(seq, "error", broken) for seq, _ in message[1]]
        else:
            results = [(seq, *_process_one(chain, item)) for seq, item in message[1]]
        conn.send(("done", results, stats.take_ops()))


def _lower_priority(crawler: Crawler) -> None:
    """Step this process ``XINPI_PIPELINE_WORKER_NICE`` down in CPU priority (see the module
    docstring); the niceness it ends at is the stat ``xinpi/pipeline_worker/nice``."""
    steps = crawler.settings.getint("XINPI_PIPELINE_WORKER_NICE", 10)
    if not hasattr(os, "nice"):  # not POSIX: the worker keeps the crawl's priority
        return
    if steps:
        try:
            os.nice(steps)
        except OSError as exc:  # a negative value without the privilege to raise priority
            logger.warning("pipeline worker: XINPI_PIPELINE_WORKER_NICE=%d not applied: %s", steps, exc)
    crawler.stats.set_value("xinpi/pipeline_worker/nice", os.nice(0))


def _process_one(chain: PipelineChain, item: Any) -> tuple[str, Any]:
    """Run the chain on one item: ("changed", what changed in it), ("ok", a new item the chain
    returned instead), ("drop", why) or ("error", the traceback)."""
    try:
        before = dict(item) if hasattr(item, "items") else None
        result = chain.process(item)
        if result is item and before is not None:
            return "changed", _changes(before, result)
        return "ok", result
    except DropItem as exc:
        return "drop", str(exc)
    except Exception:
        logger.exception("pipeline error for %r", _describe(item))
        return "error", traceback.format_exc()


def _describe(item: Any) -> str:
    get = getattr(item, "get", None)
    return str(get("doc_id") or get("url") or type(item).__name__) if get else type(item).__name__


# --- what travels back --------------------------------------------------------------------------
#: Values the crawl's own copy can stand for when equal to the worker's: immutable, and equal only
#: when identical in every visible way (not float: 0.0 == -0.0; not Decimal: 1.0 == 1.00).
_EXACT_WHEN_EQUAL = frozenset({str, bytes, int, bool, type(None)})


def _unchanged(before: Any, after: Any) -> bool:
    """Whether a field the crawl already holds (``before``, as it sent it) is still the worker's value.

    A mutable value (dict, list ...) counts as changed even when it is the same object, since a
    pipeline may have changed it in place; a datetime is unchanged when equal with the same tzinfo
    and fold (so the same wall time in the same zone, not only the same instant).
    """
    kind = type(after)
    if type(before) is not kind:
        return False
    if kind in _EXACT_WHEN_EQUAL:
        return before == after
    if kind is dt.datetime:
        return before == after and before.tzinfo is after.tzinfo and before.fold == after.fold
    return before is after and kind in (float, Decimal, dt.date, dt.time)


def _changes(before: dict[str, Any], after: Any) -> tuple[dict[str, Any], list[str]]:
    """The fields the chain set or changed, and those it removed, in an item it returned itself.

    WHY not the whole item: the crawl still holds the item it sent, and unpickling every document's
    text, datetimes and facts again cost the crawl's core ~35 us a document (crawl_bench), for a
    text the pipelines mostly leave as it was. Only what differs travels back.
    """
    changed = {k: v for k, v in after.items() if k not in before or not _unchanged(before[k], v)}
    return changed, [k for k in before if k not in after]


def _apply_changes(item: Any, changes: tuple[dict[str, Any], list[str]]) -> Any:
    """The crawl's copy of ``item`` made equal to the one the worker's chain returned."""
    changed, removed = changes
    for key, value in changed.items():
        item[key] = value
    for key in removed:
        del item[key]
    return item
