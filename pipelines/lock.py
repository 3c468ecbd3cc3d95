"""At most one crawl per source at a time, and short commit locks that keep the data exact anyway.

Two kinds of lock, both ``fcntl.flock`` on files under ``DATA_DIR/_state/locks/``:

* ``<source>.lock``, held for a whole crawl by :class:`CrawlLockExtension` (taken at
  ``spider_opened``, released at ``spider_closed``). A second crawl of the same source that finds it
  taken is SKIPPED: it closes at once with reason ``locked`` and the stat ``xinpi/lock = "skipped"``
  (or, with ``XINPI_LOCK_WAIT_SECONDS > 0``, it polls that long first). The holder writes its pid,
  host, run id and start time into the file for humans; the lock itself is the flock, not the text.
* ``commit-<name>.lock``, held by the Parquet writer only while it re-checks a batch against the
  store and publishes it (milliseconds). This one is what makes the data exact when the crawl lock
  is bypassed or lost (a double-fired deployment, ``XINPI_LOCK_ENABLED=False``): see
  :mod:`xinpi.pipelines.parquet`.

Why flock: the kernel drops it when the process dies, however it dies (SIGKILL, OOM, power loss of
the process' host), so there is no stale-lock cleanup and no pid guessing. Lock files are never
deleted: unlinking a lock file while another process waits on it splits the lock in two.

LIMITATION: flock excludes processes on ONE host, and across hosts only if ``DATA_DIR`` is on a
filesystem whose flock really is shared (a local disk mounted on one machine; NFSv4 with working
lock manager; not many FUSE/object-store mounts, where flock may silently be host-local or a no-op).
For crawls scheduled on several machines use a real distributed lock in the orchestrator, e.g. a
Prefect global concurrency limit per source (``prefect gcl create crawl-<source> --limit 1`` and
``with concurrency("crawl-<source>")`` around the crawl task). The commit re-check still keeps the
data exact as long as the commit lock itself is honoured.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import logging
import os
import socket
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

logger = logging.getLogger(__name__)

LOCK_DIR = Path("_state") / "locks"
#: Finish reason of a crawl skipped because another crawl of its source holds the lock.
LOCKED = "locked"


def lock_dir(root: str | os.PathLike[str]) -> Path:
    return Path(root) / LOCK_DIR


def lock_file_name(name: str) -> str:
    """A lock name as a file name (source names are plain; registers may not be)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
    return f"{cleaned or '_'}.lock"


#: Locks this process holds, so a forked child can let go of its copies (see _drop_inherited).
_HELD: weakref.WeakSet[FileLock] = weakref.WeakSet()


def _drop_inherited() -> None:
    """In a forked child (the pipeline worker): close the inherited lock descriptors.

    A flock belongs to the open file, which the child's copy of the descriptor keeps open: a child
    that outlived a killed crawl would go on holding that crawl's source lock. Closing the copy
    (never LOCK_UN, which would unlock the parent's lock too) leaves the lock to the parent alone.
    """
    for lock in list(_HELD):
        fd, lock._fd = lock._fd, None
        if fd is not None:
            os.close(fd)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited)


class FileLock:
    """One flock'ed file. Not re-entrant; one instance per holder (flock is per open file)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if free; never blocks."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        self._fd = fd
        _HELD.add(self)
        return True

    def acquire(self, timeout: float | None = None, poll: float = 0.05) -> bool:
        """Wait for the lock (polling, so a timeout is possible); False if it timed out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.try_acquire():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(poll)
        return True

    def write_holder(self, info: dict[str, Any]) -> None:
        """Replace the file's text with who holds the lock (for humans and the skip message)."""
        if self._fd is None:
            raise RuntimeError("lock not held")
        data = json.dumps(info, ensure_ascii=False).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def read_holder(self) -> dict[str, Any]:
        """What the current holder wrote; empty if nothing (yet) or unreadable."""
        try:
            return json.loads(self.path.read_text("utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        _HELD.discard(self)
        try:
            os.ftruncate(fd, 0)  # an empty file reads as "nobody"; the flock is what counts
        except OSError:
            pass
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


@contextmanager
def hold_locks(root: str | os.PathLike[str], names: Iterable[str], timeout: float = 300.0) -> Iterator[None]:
    """Hold the commit locks ``names`` (taken in sorted order, so two committers never deadlock)."""
    held: list[FileLock] = []
    try:
        for name in sorted(set(names)):
            lock = FileLock(lock_dir(root) / lock_file_name(name))
            if not lock.acquire(timeout=timeout):
                raise TimeoutError(f"commit lock {lock.path} still held after {timeout:.0f} s")
            held.append(lock)
        yield
    finally:
        for lock in reversed(held):
            lock.release()


def commit_lock_name(dataset: str, key: Any) -> str:
    """``commit-cninfo`` for a source's documents, ``commit-projects-sse`` for a register's rows."""
    return f"commit-{key}" if dataset == "documents" else f"commit-{dataset}-{key}"


class CrawlLockExtension:
    """Settings: ``XINPI_LOCK_ENABLED`` (default True), ``XINPI_LOCK_WAIT_SECONDS`` (0: skip at once),
    ``XINPI_LOCK_POLL_SECONDS`` (how often a waiting crawl retries)."""

    def __init__(self, crawler: Crawler) -> None:
        from xinpi.config import data_dir

        settings = crawler.settings
        self.crawler = crawler
        self.root = data_dir(settings.get("DATA_DIR"))
        self.wait = max(0.0, settings.getfloat("XINPI_LOCK_WAIT_SECONDS", 0.0))
        self.poll = max(0.01, settings.getfloat("XINPI_LOCK_POLL_SECONDS", 1.0))
        self.enabled = settings.getbool("XINPI_LOCK_ENABLED", True)
        self.lock: FileLock | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlLockExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    async def spider_opened(self, spider: Spider) -> None:
        stats = self.crawler.stats
        if not self.enabled:  # the stats say so: a bypassed lock is worth noticing in a report
            stats.set_value("xinpi/lock", "disabled")
            logger.warning("crawl lock of %s disabled (XINPI_LOCK_ENABLED=False)", spider.name)
            return
        lock = FileLock(lock_dir(self.root) / lock_file_name(spider.name))
        started = time.monotonic()
        acquired = first_try = lock.try_acquire()
        while not acquired and time.monotonic() - started < self.wait:
            await _sleep(min(self.poll, self.wait - (time.monotonic() - started)))
            acquired = lock.try_acquire()
        if not acquired:
            holder = lock.read_holder()
            stats.set_value("xinpi/lock", "skipped")
            stats.set_value("xinpi/lock/holder", holder)
            logger.warning(
                "another crawl of %s is running (pid %s on %s, run %s, since %s); skipping",
                spider.name, holder.get("pid", "?"), holder.get("host", "?"),
                holder.get("run_id") or "?", holder.get("started_at", "?"),
            )
            raise CloseSpider(LOCKED)
        self.lock = lock
        waited = time.monotonic() - started
        lock.write_holder({
            "source": spider.name,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "run_id": self.crawler.settings.get("XINPI_RUN_ID", ""),
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        })
        stats.set_value("xinpi/lock", "acquired")
        if waited > 0 and not first_try:
            stats.set_value("xinpi/lock/waited_seconds", round(waited, 1))
            logger.info("crawl lock of %s acquired after waiting %.1f s", spider.name, waited)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None


async def _sleep(seconds: float) -> None:
    """Wait without blocking the reactor (the crawl's other components stay responsive)."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    await maybe_deferred_to_future(deferLater(reactor, max(0.0, seconds), lambda: None))
