"""The pipeline worker: the chain in a child process behaves as the chain in the crawl's process.

These drive WorkerPipeline the way Scrapy does (open, concurrent process_item, close) on an asyncio
loop, with a real spawned worker process writing real Parquet.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import signal
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow.parquet as pq
import pytest
import scrapy
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from xinpi.emulator.sites import bulk
from xinpi.items import FailureItem
from xinpi.pipelines.worker import WORKER_LOST, PipelineWorkerError, WorkerPipeline, _can_fork
from xinpi.state import read_watermark

CHAIN = {
    "xinpi.pipelines.normalise.NormalisePipeline": 100,
    "xinpi.pipelines.extract.ExtractPipeline": 300,
    "xinpi.pipelines.dedupe.DedupePipeline": 500,
    "xinpi.pipelines.parquet.ParquetWriterPipeline": 800,
}


class CninfoSpider(scrapy.Spider):
    name = "cninfo"


def _crawler(data_dir: Path, **settings: Any):
    crawler = get_crawler(CninfoSpider, {"DATA_DIR": str(data_dir), "XINPI_PIPELINES": CHAIN, **settings})
    crawler.spider = CninfoSpider.from_crawler(crawler)
    return crawler


def _run(crawler, items: list[Any]) -> list[Any]:
    """open, every item at once (as concurrent responses do), close; results or exceptions in order."""
    out, closing = asyncio.run(_async_run(crawler, items))
    if closing is not None:
        raise closing
    return out


def _stored(data_dir: Path, dataset: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for part in sorted((data_dir / dataset).rglob("*.parquet")):
        if not any(p.startswith(".") for p in part.relative_to(data_dir / dataset).parts):
            rows += pq.read_table(part).to_pylist()
    return rows


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({k: v for k, v in r.items() if k != "run_id"} for r in rows), key=repr)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_worker_and_in_process_chain_store_the_same_rows(tmp_path: Path, make_doc, start, caplog) -> None:
    docs = [make_doc(n) for n in range(1, 41)]
    worker_dir, local_dir = tmp_path / "worker", tmp_path / "local"
    worker = _crawler(worker_dir, XINPI_PIPELINE_BATCH=7, XINPI_PIPELINE_WORKER_START=start)
    local = _crawler(local_dir, XINPI_PIPELINE_WORKER=False)
    with caplog.at_level(logging.INFO, logger="xinpi.pipelines.worker"):
        out_w = _run(worker, [d.copy() for d in docs])
    assert {"fork": "(forked)", "spawn": "(spawned)"}[start] in caplog.text
    out_l = _run(local, [d.copy() for d in docs])
    assert [o["doc_id"] for o in out_w] == [d["doc_id"] for d in docs]  # each result is its own item
    assert [o["content_sha256"] for o in out_w] == [o["content_sha256"] for o in out_l]
    assert all(o["mentions"] for o in out_w), "the processed item (with its facts) comes back"
    for dataset in ("documents", "mentions", "aggregates"):
        assert _comparable(_stored(worker_dir, dataset)) == _comparable(_stored(local_dir, dataset))
    assert len(_stored(worker_dir, "documents")) == 40
    # the worker's stats reach the crawl's collector
    stats = worker.stats.get_stats()
    assert stats["xinpi/documents/written"] == 40
    assert stats["xinpi/documents/new"] == 40
    assert stats["xinpi/mentions"] == local.stats.get_value("xinpi/mentions") > 0


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_the_worker_yields_the_cpu_to_the_crawl(tmp_path: Path, make_doc, start) -> None:
    chain = {"worker_components.ReportNiceness": 100}
    crawl_nice = os.nice(0)
    lowered = _crawler(tmp_path / "a", XINPI_PIPELINES=chain, XINPI_PIPELINE_WORKER_START=start)
    assert _run(lowered, [make_doc(1)])[0]["extra"]["nice"] == min(19, crawl_nice + 10)  # the default
    assert lowered.stats.get_value("xinpi/pipeline_worker/nice") == min(19, crawl_nice + 10)
    same = _crawler(tmp_path / "b", XINPI_PIPELINES=chain, XINPI_PIPELINE_WORKER_START=start,
                    XINPI_PIPELINE_WORKER_NICE=0)
    assert _run(same, [make_doc(1)])[0]["extra"]["nice"] == crawl_nice
    assert os.nice(0) == crawl_nice  # the crawl's own priority is untouched


def test_a_niceness_the_worker_may_not_take_still_processes_every_item(
    tmp_path: Path, make_doc, monkeypatch
) -> None:
    """Without the privilege a negative value asks for, os.nice raises; the forked worker inherits
    this stand-in that refuses any change, as the kernel would for an unprivileged user."""
    real_nice = os.nice

    def refusing(steps: int) -> int:
        if steps:
            raise PermissionError(1, "Operation not permitted")
        return real_nice(0)

    monkeypatch.setattr(os, "nice", refusing)
    chain = {"worker_components.ReportNiceness": 100}
    crawler = _crawler(tmp_path / "a", XINPI_PIPELINES=chain, XINPI_PIPELINE_WORKER_NICE=-5,
                       XINPI_PIPELINE_WORKER_START="fork")
    out = _run(crawler, [make_doc(1), make_doc(2)])
    assert [o["extra"]["nice"] for o in out] == [real_nice(0)] * 2
    assert crawler.stats.get_value("xinpi/pipeline_worker/nice") == real_nice(0)


def _exact(item: Any) -> dict[str, tuple[str, str]]:
    """Every field with its type and repr: tells a +08:00 offset from Asia/Shanghai, 1.0 from 1.00."""
    return {k: (type(v).__name__, repr(v)) for k, v in dict(item).items()}


def test_the_crawl_gets_back_exactly_the_item_the_chain_made(tmp_path: Path, make_doc) -> None:
    """Only what the chain changed travels back; applied to the crawl's own item, it must give the
    same item, field for field, as running the chain in the crawl's process."""
    docs = [make_doc(n) for n in range(1, 5)] + [make_doc(5, text="规模为５.５０亿元，期限３年。")]
    sent = copy.deepcopy(docs)  # deep: a shallow copy would share each extra dict between runs
    out_w = _run(_crawler(tmp_path / "w"), sent)
    out_l = _run(_crawler(tmp_path / "l", XINPI_PIPELINE_WORKER=False), copy.deepcopy(docs))
    assert [_exact(o) for o in out_w] == [_exact(o) for o in out_l]
    assert all(o is s for o, s in zip(out_w, sent, strict=True))  # the spider's item, updated
    assert str(out_w[0]["published_at"].tzinfo) == "Asia/Shanghai"  # the offset the test sent, changed
    assert out_w[4]["text"] != docs[4]["text"]  # NFKC changed the text: the new text came back


def test_changes_made_in_place_removed_fields_and_new_items_come_back(tmp_path: Path, make_doc) -> None:
    chain = {"worker_components.EditInPlace": 100}
    docs = [make_doc(1), make_doc(2, title="REPLACE me")]
    out_w = _run(_crawler(tmp_path / "w", XINPI_PIPELINES=chain), copy.deepcopy(docs))
    out_l = _run(_crawler(tmp_path / "l", XINPI_PIPELINES=chain, XINPI_PIPELINE_WORKER=False),
                 copy.deepcopy(docs))
    assert [_exact(o) for o in out_w] == [_exact(o) for o in out_l]
    assert out_w[0]["extra"]["touched"] == ["in place"] and "sec_code" not in out_w[0]
    assert out_w[1]["title"] == "replaced"


def test_a_lone_item_is_sent_without_waiting_for_a_full_batch(tmp_path: Path, make_doc) -> None:
    crawler = _crawler(tmp_path / "data", XINPI_PIPELINE_BATCH=1000, XINPI_PIPELINE_BATCH_WAIT=0.01)

    async def go() -> Any:
        pipeline = WorkerPipeline.from_crawler(crawler)
        pipeline.open_spider()
        try:  # resolves long before a 1000-item batch could fill
            return await asyncio.wait_for(pipeline.process_item(make_doc(1)), timeout=60)
        finally:
            await pipeline.close_spider()

    assert asyncio.run(go())["doc_id"] == "cninfo:1"


class _Engine:
    """What the pipeline asks of Scrapy's engine: the downloader's active requests, the scheduler."""

    def __init__(self, downloading: bool, queued: bool) -> None:
        self.downloader = SimpleNamespace(active={"a request"} if downloading else set())
        self.scheduler = SimpleNamespace(has_pending_requests=lambda: queued)


@pytest.mark.parametrize(("downloading", "queued"), [(False, False), (True, False), (False, True)])
def test_the_last_batch_goes_at_once_when_nothing_is_left_to_fetch(
        tmp_path: Path, make_doc, downloading, queued) -> None:
    crawler = _crawler(tmp_path / "data", XINPI_PIPELINE_BATCH=1000, XINPI_PIPELINE_BATCH_WAIT=3600)
    crawler.engine = _Engine(downloading, queued)
    idle = not downloading and not queued

    async def go() -> bool:
        pipeline = WorkerPipeline.from_crawler(crawler)
        pipeline.open_spider()
        task = asyncio.ensure_future(pipeline.process_item(make_doc(1)))
        try:  # the worker answers within seconds once it has the item; the timer waits an hour
            await asyncio.wait_for(asyncio.shield(task), timeout=30 if idle else 3)
        except TimeoutError:
            pass
        sent = task.done()
        await pipeline.close_spider()  # sends what is still held
        assert (await task)["doc_id"] == "cninfo:1"
        return sent

    assert asyncio.run(go()) is idle


def test_drop_and_error_in_the_worker_are_drop_and_error_of_the_crawl(tmp_path: Path, make_doc) -> None:
    data = tmp_path / "data"
    chain = {**CHAIN, "worker_components.RaiseOnBoom": 400}
    crawler = _crawler(data, XINPI_PIPELINES=chain)
    items = [make_doc(1), make_doc(1), make_doc(2, title="BOOM 公告"), make_doc(3)]
    out = _run(crawler, items)
    assert out[0]["doc_id"] == "cninfo:1"
    assert isinstance(out[1], DropItem) and "already stored" in str(out[1])  # same content twice
    assert isinstance(out[2], PipelineWorkerError) and "boom in a pipeline" in str(out[2])
    assert "Traceback" in str(out[2])  # the worker's traceback travels with the error
    assert out[3]["doc_id"] == "cninfo:3"
    assert sorted(r["doc_id"] for r in _stored(data, "documents")) == ["cninfo:1", "cninfo:3"]
    assert crawler.stats.get_value("log_count/ERROR", 0) >= 1  # the worker's error log is counted


def test_a_failure_recorded_in_the_worker_is_written_there(tmp_path: Path, make_doc) -> None:
    data = tmp_path / "data"
    crawler = _crawler(data)
    failure = FailureItem(source="cninfo", url="http://x/1.pdf", stage="pdf", error="cut-off PDF",
                          http_status=200)
    out = _run(crawler, [make_doc(1, title="", text=""), failure])
    assert isinstance(out[0], DropItem)  # empty document: normalise drops it and records why
    stages = sorted(r["stage"] for r in _stored(data, "failures"))
    assert stages == ["normalise", "pdf"]
    assert crawler.stats.get_value("xinpi/failures/normalise") == 1


def test_a_lost_worker_fails_its_items_and_the_call_returns(tmp_path: Path, make_doc) -> None:
    data = tmp_path / "data"
    chain = {**CHAIN, "worker_components.DieOnCrash": 50}
    crawler = _crawler(data, XINPI_PIPELINES=chain, XINPI_PIPELINE_BATCH=1)
    items = [make_doc(1), make_doc(2, title="CRASH"), make_doc(3)]
    out, _ = asyncio.run(asyncio.wait_for(_async_run(crawler, items), timeout=120))
    assert out[0]["doc_id"] == "cninfo:1"
    assert any(isinstance(o, PipelineWorkerError) and "exited" in str(o) for o in out)
    assert crawler.stats.get_value("xinpi/failures/pipeline_worker") == 1


async def _async_run(crawler, items: list[Any]) -> tuple[list[Any], BaseException | None]:
    """Like _run, and also what close_spider raised (None if nothing)."""
    pipeline = WorkerPipeline.from_crawler(crawler)
    pipeline.open_spider()
    out = await asyncio.gather(*(pipeline.process_item(i) for i in items), return_exceptions=True)
    try:
        await pipeline.close_spider()
    except Exception as exc:
        return out, exc
    return out, None


def test_a_chain_that_cannot_start_fails_items_instead_of_hanging(tmp_path: Path, make_doc) -> None:
    crawler = _crawler(tmp_path / "data", XINPI_PIPELINES={"no_such_module.Pipeline": 1})
    out, closing = asyncio.run(asyncio.wait_for(_async_run(crawler, [make_doc(1)]), timeout=120))
    assert isinstance(out[0], PipelineWorkerError) and "no_such_module" in str(out[0])
    assert isinstance(closing, PipelineWorkerError)  # Scrapy logs it as an error closing the pipeline


def test_a_forked_worker_closed_before_any_item_builds_no_chain(tmp_path: Path) -> None:
    """A quiet night: the worker forked at open is closed at once; it never imports the chain, so
    even a chain that cannot be built costs nothing and raises nothing."""
    crawler = _crawler(tmp_path / "data", XINPI_PIPELINES={"no_such_module.Pipeline": 1},
                       XINPI_PIPELINE_WORKER_START="fork")

    async def go() -> WorkerPipeline:
        pipeline = WorkerPipeline.from_crawler(crawler)
        pipeline.open_spider()
        assert pipeline.worker is not None  # forked at open, not at the first item
        await pipeline.close_spider()
        return pipeline

    pipeline = asyncio.run(asyncio.wait_for(go(), timeout=60))
    assert pipeline.worker.process.exitcode == 0
    assert not (tmp_path / "data").exists()  # no writer was opened


def test_auto_forks_only_a_single_threaded_process_inside_its_event_loop() -> None:
    assert not _can_fork("auto") and not _can_fork("fork")  # no running loop: spawn at the first item

    async def inside() -> tuple[bool, bool, bool]:
        started, stop = threading.Event(), threading.Event()
        other = threading.Thread(target=lambda: (started.set(), stop.wait()))
        other.start()
        started.wait()
        try:
            return _can_fork("auto"), _can_fork("fork"), _can_fork("spawn")
        finally:
            stop.set()
            other.join()

    assert asyncio.run(inside()) == (False, True, False)


def test_in_process_mode_starts_no_process(tmp_path: Path, make_doc) -> None:
    crawler = _crawler(tmp_path / "data", XINPI_PIPELINE_WORKER=False)
    children_before = set(os.listdir("/proc"))
    out = _run(crawler, [make_doc(1)])
    assert out[0]["version"] == 1
    pipeline_workers = [
        p for p in set(os.listdir("/proc")) - children_before
        if p.isdigit() and "xinpi-pipeline-worker" in _cmdline(p)
    ]
    assert not pipeline_workers


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_an_item_that_cannot_be_pickled_fails_alone(tmp_path: Path, make_doc) -> None:
    crawler = _crawler(tmp_path / "data", XINPI_PIPELINE_BATCH=1)
    odd = make_doc(2, extra={"callback": lambda: None})  # a spider bug: not data
    out, closing = asyncio.run(asyncio.wait_for(_async_run(crawler, [make_doc(1), odd, make_doc(3)]), 120))
    assert isinstance(out[1], PipelineWorkerError) and "could not be sent" in str(out[1])
    assert [out[0]["doc_id"], out[2]["doc_id"]] == ["cninfo:1", "cninfo:3"] and closing is None


def test_a_crawl_whose_worker_dies_closes_cleanly_and_the_next_run_stores_everything(
    crawl, tmp_path: Path, monkeypatch
) -> None:
    """Real Scrapy crawl of 60 emulator articles; the worker process dies at the 25th document."""
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))  # the crawl's worker imports DieOnCrash
    since, until = bulk.window(60)
    args = {"channels": bulk.channel(60), "since": str(since), "until": str(until), "all": "1"}
    dying = crawl("zqrb", args=args, pipelines=True, workdir=tmp_path, settings={
        "XINPI_PIPELINES": {**CHAIN, "worker_components.DieOnCrash": 50},
        "XINPI_TEST_DIE_AT": 25, "XINPI_PIPELINE_BATCH": 4, "PARQUET_BATCH_SIZE": 8,
    })
    assert "(forked)" in dying.log  # a Scrapy crawl is single-threaded when the spider opens
    assert dying.stats["finish_reason"] == WORKER_LOST
    assert dying.stats["xinpi/failures/pipeline_worker"] == 1
    assert "pipeline worker process exited" in dying.log
    assert read_watermark(dying.data_dir, "zqrb") is None  # not "finished": no watermark advance
    stored_first = {r["doc_id"] for r in _stored(dying.data_dir, "documents")}
    assert len(stored_first) < 60

    again = crawl("zqrb", args=args, pipelines=True, workdir=tmp_path)
    assert again.stats["finish_reason"] == "finished"
    ids = [r["doc_id"] for r in _stored(again.data_dir, "documents")]
    assert len(ids) == len(set(ids)) == 60  # nothing lost, nothing twice
    assert again.stats.get("xinpi/documents/written") == 60 - len(stored_first)


def test_a_document_larger_than_the_pipe_travels_both_ways(tmp_path: Path, make_doc) -> None:
    """A 3 MB document fills the pipe many times over; it arrives whole and comes back whole (its
    full-width digits make normalising change the text, so the text itself travels back)."""
    data = tmp_path / "data"
    crawler = _crawler(data)
    body = "专项计划于2025年4月24日成立，发行规模为５.５０亿元。" * 100_000
    out = _run(crawler, [make_doc(1, text=body), make_doc(2)])
    assert out[0]["text"] == body.replace("５.５０", "5.50") and out[1]["doc_id"] == "cninfo:2"
    stored = {r["doc_id"]: r["text"] for r in _stored(data, "documents")}
    assert stored["cninfo:1"] == out[0]["text"]


def test_ctrl_c_reaching_the_worker_leaves_the_shutdown_to_the_crawl(tmp_path: Path, make_doc) -> None:
    """A terminal's Ctrl-C goes to the whole process group; the worker keeps going until closed."""
    data = tmp_path / "data"
    crawler = _crawler(data, XINPI_PIPELINE_BATCH=1)

    async def go() -> list[Any]:
        pipeline = WorkerPipeline.from_crawler(crawler)
        pipeline.open_spider()
        first = await pipeline.process_item(make_doc(1))
        os.kill(pipeline.worker.process.pid, signal.SIGINT)
        await asyncio.sleep(0.2)
        second = await pipeline.process_item(make_doc(2))
        await pipeline.close_spider()
        return [first, second]

    out = asyncio.run(asyncio.wait_for(go(), timeout=120))
    assert [o["doc_id"] for o in out] == ["cninfo:1", "cninfo:2"]
    assert sorted(r["doc_id"] for r in _stored(data, "documents")) == ["cninfo:1", "cninfo:2"]
