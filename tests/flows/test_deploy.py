"""The deployments as built for ``xinpi serve`` (no server: serving them is in test_prefect_ui.py)."""

from __future__ import annotations

import pytest
from prefect.utilities.callables import parameter_schema

from xinpi.cli import main
from xinpi.flows import deploy
from xinpi.flows.crawl import backfill_windows

SOURCES = ["cs", "sse_bond"]


@pytest.fixture(scope="module")
def built() -> dict:
    return {d.name: d for d in deploy.build("/srv/data", SOURCES)}


def cron_of(d) -> tuple[str, str] | None:
    if not d.schedules:
        return None
    s = d.schedules[0].schedule
    return s.cron, s.timezone


def test_schedule_times_are_beijing_crons(built):
    assert {n: cron_of(d) for n, d in built.items()} == {
        "nightly-crawl": ("0 2 * * *", "Asia/Shanghai"),
        "weekly-rescan": ("0 12 * * 0", "Asia/Shanghai"),
        "backfill": None,
        "nightly-deals": ("0 5 * * *", "Asia/Shanghai"),
        "weekly-compact": ("0 6 * * 0", "Asia/Shanghai"),
    }


def test_every_deployment_runs_one_at_a_time_and_cancels_the_newcomer(built):
    for d in built.values():
        assert d.concurrency_limit == 1, d.name
        assert d.concurrency_options.collision_strategy.value == "CANCEL_NEW", d.name


def test_crawl_parameters_weekly_refreshes_and_backfill_needs_a_window(built):
    assert built["nightly-crawl"].parameters == {"sources": SOURCES, "data_dir": "/srv/data"}
    weekly = built["weekly-rescan"].parameters
    assert weekly["refresh"] is True and weekly["settings"] == {"XINPI_DEFAULT_DAYS": deploy.RESCAN_DAYS}
    backfill = built["backfill"]
    assert backfill.entrypoint == "xinpi.flows.crawl.backfill_flow"
    assert "since" not in backfill.parameters  # asked for on each run: the UI form requires it
    job = next(j for j in deploy.jobs("/d", SOURCES) if j.name == "backfill")
    assert set(parameter_schema(job.load_flow()).required) == {"since", "until"}


def test_parameters_match_the_flows_signatures(built):
    """A renamed flow parameter would otherwise only fail at 02:00 on the server."""
    for job in deploy.jobs("/d", SOURCES):
        props = parameter_schema(job.load_flow()).properties
        assert set(job.parameters) <= set(props), (job.name, set(job.parameters) - set(props))
    for d in built.values():
        assert d.entrypoint.startswith("xinpi.flows.") and ":" not in d.entrypoint  # module path


def test_emulator_rehearsal_reaches_only_the_crawls():
    params = {j.name: j.parameters for j in deploy.jobs("/d", SOURCES, "http://127.0.0.1:9")}
    assert params["nightly-crawl"]["emulator_url"] == "http://127.0.0.1:9"
    assert params["backfill"]["emulator_url"] == "http://127.0.0.1:9"
    assert "emulator_url" not in params["nightly-deals"]


def test_unknown_deployment_name_is_refused(capsys):
    with pytest.raises(ValueError, match="nightly-crawls"):
        deploy.build("/d", SOURCES, only=["nightly-crawls"])
    assert main(["serve", "--list", "--only", "nightly-crawls"]) == 2
    assert "known: nightly-crawl" in capsys.readouterr().err


def test_serve_list_prints_the_schedule_without_serving(capsys):
    assert main(["serve", "--list", "--data-dir", "/tmp/x"]) == 0
    err = capsys.readouterr().err
    assert "nightly-crawl" in err and "'0 2 * * *' Asia/Shanghai" in err and "backfill" in err


def test_backfill_windows_newest_first_and_cover_the_range_exactly():
    assert backfill_windows("2026-01-01", "2026-03-10", 31) == [
        ("2026-02-08", "2026-03-10"), ("2026-01-08", "2026-02-07"), ("2026-01-01", "2026-01-07")]
    assert backfill_windows("2026-01-05", "2026-01-05", 31) == [("2026-01-05", "2026-01-05")]
    with pytest.raises(ValueError, match="empty"):
        backfill_windows("2026-02-01", "2026-01-01", 31)
    with pytest.raises(ValueError):
        backfill_windows("2026-01-01", "2026-02-01", 0)
