"""The runs/ table and the health check, as pure functions over constructed rows (no Prefect run)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq

from xinpi.flows import runs

T0 = dt.datetime(2026, 3, 1, 18, 0, tzinfo=dt.UTC)


def result(source: str = "cninfo", **figures) -> dict:
    """A source result as crawl_source returns it (figures given override the defaults)."""
    base = dict(
        status="ok", source=source, started=T0.isoformat(), ended=(T0 + dt.timedelta(minutes=3)).isoformat(),
        requests=40, responses=39, documents_new=10, documents_seen=5, documents_changed=1, failures=2,
        failures_by_stage={"fetch": 1, "parse": 1},
        responses_by_status={"200": 35, "301": 1, "404": 2, "503": 1},
        mentions=7, retries=3, attempts=1, finish_reason="finished", window_since="2026-02-27",
        window_until="2026-03-01",
    )
    base.update(figures)
    return base


def history(source: str, new: list[int], parse_failures: list[int] | None = None,
            docs: int = 20) -> list[dict]:
    """Earlier ok rows of one source, one per day before T0."""
    rows = []
    for i, n in enumerate(new):
        fails = (parse_failures or [0] * len(new))[i]
        rows.append(dict(run_id=f"r{i:02d}", source=source, status="ok",
                         start=T0 - dt.timedelta(days=len(new) - i), documents_new=n,
                         documents_seen=docs - n, documents_changed=0, parse_failures=fails))
    return rows


def test_run_row_splits_status_classes_and_counts_parse_failures_apart_from_fetch_failures():
    log = (
        "2026-03-01 18:00:01 [scrapy.core.engine] INFO: Spider opened\n"
        "2026-03-01 18:00:02 [cninfo] ERROR: http://x/1 failed at parse: no table\n"
        "Traceback line one\n"
        "2026-03-01 18:00:03 [cninfo] ERROR: http://x/2 failed at fetch: 503\n"
    )
    row = runs.run_row(result(), run_id="R1", flow_run_id="F1", log_text=log, refresh=True)
    classes = [row[f"responses_{c}xx"] for c in "2345"]
    assert classes == [35, 1, 2, 1]
    assert row["documents_failed"] == 2 and row["parse_failures"] == 1
    assert row["first_error"] == "http://x/1 failed at parse: no table\nTraceback line one"
    assert row["since"] == "2026-02-27" and row["refresh"] is True and row["flow_run_id"] == "F1"


def test_failed_source_row_takes_the_task_error_when_the_log_has_none():
    row = runs.run_row({"status": "failed", "source": "sina", "error": "crawl of sina exited with 1: boom",
                        "attempts": 3}, run_id="R1", log_text="2026-03-01 18:00:01 [x] INFO: hello\n")
    assert row["status"] == "failed" and row["attempts"] == 3
    assert row["first_error"] == "crawl of sina exited with 1: boom"
    assert row["requests"] is None and row["responses_5xx"] is None


def test_silent_source_is_flagged_against_its_trailing_median():
    row = runs.run_row(result("cs", documents_new=0), run_id="now")
    flags, detail = runs.health_flags(row, history("cs", [4, 0, 6, 3, 5]))
    assert flags == ["silent"] and "median 4" in detail


def test_zero_new_is_normal_for_a_source_that_usually_has_none():
    row = runs.run_row(result("szse_projects", documents_new=0), run_id="now")
    assert runs.health_flags(row, history("szse_projects", [0, 0, 1, 0, 0]))[0] == []


def test_only_the_trailing_fourteen_runs_and_the_same_source_count():
    old_busy = history("cs", [9] * 10)
    recent_quiet = [dict(r, run_id=f"q{i}", start=T0 - dt.timedelta(hours=20 - i))
                    for i, r in enumerate(history("cs", [0] * 14))]
    other = history("cninfo", [50] * 14)
    row = runs.run_row(result("cs", documents_new=0), run_id="now")
    assert runs.health_flags(row, old_busy + recent_quiet + other)[0] == []
    assert runs.health_flags(row, old_busy + recent_quiet[:3] + other)[0] == ["silent"]


def test_too_little_history_gives_no_verdict_and_failed_runs_are_not_history():
    row = runs.run_row(result("cs", documents_new=0), run_id="now")
    assert runs.health_flags(row, history("cs", [5, 5]))[0] == []
    crashed = [dict(r, status="failed") for r in history("cs", [5, 5, 5, 5])]
    assert runs.health_flags(row, crashed)[0] == []


def test_silent_is_judged_on_incremental_runs_only():
    past = history("cs", [5, 5, 5, 5])
    rescan = runs.run_row(result("cs", documents_new=0), run_id="now", refresh=True)
    window = runs.run_row(result("cs", documents_new=0), run_id="now", since="2025-01-01")
    assert (rescan["mode"], window["mode"]) == ("refresh", "window")
    assert runs.health_flags(rescan, past)[0] == [] and runs.health_flags(window, past)[0] == []
    # a busy backfill in between neither counts as history for "silent" nor hides a quiet source
    backfills = [dict(r, mode="window", run_id=f"b{i}") for i, r in enumerate(history("cs", [0, 0, 0]))]
    nightly = runs.run_row(result("cs", documents_new=0), run_id="now")
    assert runs.health_flags(nightly, past + backfills)[0] == ["silent"]
    assert runs.health_flags(nightly, backfills)[0] == []


def test_parse_failure_jump_is_a_layout_flag_but_steady_failures_are_not():
    past = history("stcn", [5] * 6, parse_failures=[1, 0, 1, 1, 0, 1])  # ~0-5 % normally
    jumped = runs.run_row(result("stcn", documents_new=2, documents_seen=0, documents_changed=0,
                                 failures_by_stage={"parse": 8}, failures=8), run_id="now")
    flags, detail = runs.health_flags(jumped, past)
    assert flags == ["layout"] and "80%" in detail
    chronic = history("stcn", [5] * 6, parse_failures=[8] * 6, docs=2)  # always 80 %: known, not new
    assert runs.health_flags(jumped, chronic)[0] == []
    fetch_only = runs.run_row(result("stcn", failures_by_stage={"fetch": 30}, failures=30), run_id="now")
    assert runs.health_flags(fetch_only, past)[0] == []  # 404s/503s are not a layout change


def test_check_health_marks_rows_and_flagged_names_them():
    rows = [runs.run_row(result("cs", documents_new=0), run_id="now"),
            runs.run_row(result("cninfo"), run_id="now")]
    runs.check_health(rows, history("cs", [3, 3, 3]) + history("cninfo", [3, 3, 3]))
    assert runs.flagged(rows) == {"cs": ["silent"]}
    assert rows[0]["health_detail"] and rows[1]["health"] == [] and rows[1]["health_detail"] is None


def test_write_then_read_round_trips_and_publishes_nothing_partial(tmp_path: Path):
    failed = {"status": "failed", "source": "sina", "error": "x"}
    rows = runs.check_health([runs.run_row(result("cs"), run_id="R1", flow_run_id="F1"),
                              runs.run_row(failed, run_id="R1")], [])
    path = runs.write_runs(tmp_path, "R1", rows)
    assert path == tmp_path / "runs" / "R1.parquet"
    assert pq.read_schema(path) == runs.RUNS
    runs.write_runs(tmp_path, "R2", [runs.run_row(result("cs", documents_new=0), run_id="R2")])
    back = runs.read_runs(tmp_path)
    assert sorted((r["run_id"], r["source"], r["status"]) for r in back) == [
        ("R1", "cs", "ok"), ("R1", "sina", "failed"), ("R2", "cs", "ok")]
    assert [r["documents_new"] for r in runs.read_runs(tmp_path, "cs")] == [10, 0]
    assert back[0]["start"] == T0
    assert not list(tmp_path.rglob("*.tmp")) and not (tmp_path / ".staging" / "R1").exists()


def test_read_runs_of_an_empty_data_dir_is_empty(tmp_path: Path):
    assert runs.read_runs(tmp_path) == []


def test_summary_and_artifact_rows_show_failed_and_flagged_sources():
    ok = runs.run_row(result("cs", documents_new=0), run_id="R1")
    ok["health"], ok["health_detail"] = ["silent"], "0 new documents, trailing median 4 over 5 runs"
    error = "crawl of sina exited with 1: KeyError"
    bad = runs.run_row({"status": "failed", "source": "sina", "error": error}, run_id="R1")
    md = runs.markdown_summary([ok, bad], "R1", "/data")
    assert "1 of 2 sources finished" in md and "**sina failed**" in md and "KeyError" in md
    assert "**cs: silent**" in md and "/data/runs/R1.parquet" in md
    table = runs.artifact_rows([ok, bad])
    assert [r["health"] for r in table] == ["silent", "ok"]
    assert table[1]["first_error"].startswith("crawl of sina") and set(table[0]) == set(runs.ARTIFACT_COLUMNS)
