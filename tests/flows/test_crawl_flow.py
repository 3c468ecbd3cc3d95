"""The crawl flow end to end, in ONE Prefect flow run (each costs 5-20 s here): a real crawl of one
source against the emulator next to a crawl process that crashes, with a seeded runs/ history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from xinpi.flows import runs
from xinpi.flows.crawl import crawl_command, crawl_flow, spider_args

FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}


def test_spider_args_carry_refresh_and_topic_flags_to_the_crawl_command():
    args = spider_args("2026-01-01", None, refresh=True, all_topics=True)
    assert args == {"since": "2026-01-01", "refresh": "1", "all": "1"}
    cmd = crawl_command("cs", {"DATA_DIR": "/d"}, args)
    assert cmd[-8:] == ["-s", "DATA_DIR=/d", "-a", "since=2026-01-01", "-a", "refresh=1", "-a", "all=1"]
    assert spider_args() == {}


def test_a_crashed_crawl_fails_only_its_source_and_the_run_is_recorded(emulator, tmp_path: Path):
    data = tmp_path / "data"
    # sse_bond normally brings new documents: five earlier runs with 4-6 new each.
    day = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    seed = [runs.run_row({"status": "ok", "source": "sse_bond", "documents_new": n, "documents_seen": 1,
                          "started": (day + dt.timedelta(days=i)).isoformat()}, run_id=f"seed{i}")
            for i, n in enumerate([4, 5, 6, 5, 5])]
    runs.write_runs(data, "seed", seed)

    # An incremental crawl (no since: the default days before until) over a stretch with nothing in
    # it: the crawl works (listing requests answered) but finds nothing new.
    state = crawl_flow(["sse_bond", "no_such_spider"], str(data), emulator.url, None, "2001-01-31",
                       FAST, all_topics=True, retry_delays=[0], return_state=True)

    results = state.result(raise_on_failure=False)
    assert state.is_failed()
    assert "sources failed: no_such_spider" in state.message and "sse_bond silent" in state.message
    assert results["sse_bond"]["status"] == "ok" and results["sse_bond"]["health"] == ["silent"]
    bad = results["no_such_spider"]
    assert bad["status"] == "failed" and "Spider not found" in bad["error"] and bad["attempts"] == 2

    rows = {r["source"]: r for r in runs.read_runs(data) if not r["run_id"].startswith("seed")}
    assert set(rows) == {"sse_bond", "no_such_spider"}
    good = rows["sse_bond"]
    assert good["requests"] >= 1 and good["responses_2xx"] >= 1 and good["documents_new"] == 0
    assert good["mode"] == "incremental" and good["all_topics"] is True and good["attempts"] == 1
    assert good["since"] < good["until"] == "2001-01-31"  # the window the spider computed
    assert good["health"] == ["silent"] and "trailing median 5" in good["health_detail"]
    assert good["flow_run_id"] == str(state.state_details.flow_run_id)
    assert good["start"] <= good["end"]
    assert rows["no_such_spider"]["status"] == "failed"
    assert "Spider not found" in rows["no_such_spider"]["first_error"]
    assert emulator.count("query.sse.com.cn") >= 1  # the crawl really asked the (emulated) site
