"""FileLock: a crawl's source lock ends with the crawl's process, even if a forked child lives on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from xinpi.pipelines.lock import FileLock

# Takes the lock, forks a child that sleeps (as a forked pipeline worker still flushing would), prints
# the child's pid and whether the child saw itself holding the lock, then dies without releasing.
HOLDER = textwrap.dedent(
    """
    import os, sys, time
    from xinpi.pipelines.lock import FileLock
    lock = FileLock(sys.argv[1])
    assert lock.try_acquire()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, b"held" if lock.held else b"free")
        time.sleep(60)
        os._exit(0)
    print(pid, os.read(read, 4).decode(), flush=True)
    os._exit(0)
    """
)


def test_a_forked_child_does_not_keep_a_dead_parents_lock(tmp_path: Path) -> None:
    path = tmp_path / "zqrb.lock"
    # Not subprocess.run: the sleeping child keeps stdout open, so reading to the end would wait it out.
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    out = holder.stdout.readline().split()
    assert holder.wait(timeout=60) == 0
    holder.stdout.close()
    child = int(out[0])
    try:
        assert out[1] == "free"  # the child's FileLock object no longer claims the lock
        lock = FileLock(path)
        assert lock.acquire(timeout=5), "the sleeping child still holds the dead parent's lock"
        lock.release()
    finally:
        os.kill(child, signal.SIGKILL)


def test_the_parent_keeps_its_lock_while_a_forked_child_runs(tmp_path: Path) -> None:
    path = tmp_path / "zqrb.lock"
    mine = FileLock(path)
    assert mine.try_acquire()
    pid = os.fork()
    if pid == 0:  # the child closes its copy on fork; the parent's lock must survive that
        os._exit(0 if not mine.held else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert mine.held and not FileLock(path).try_acquire()
    mine.release()
    assert FileLock(path).try_acquire()
