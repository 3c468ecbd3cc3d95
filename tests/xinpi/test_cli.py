"""The command line's own logic (the commands themselves run end to end in tests/test_demo.py)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from xinpi.cli import build_parser, demo_window_end, pin_emulator_clock
from xinpi.emulator.fixtures import CLOCK_ENV


def test_the_demo_clock_is_pinned_by_the_first_run_into_a_data_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(CLOCK_ENV, "")  # unset; setenv (not delenv) so the value set below is undone
    first = pin_emulator_clock(tmp_path)
    assert dt.datetime.fromisoformat(first).utcoffset() == dt.timedelta(hours=8)
    assert (tmp_path / "_state" / "emulator_now").read_text("utf-8").strip() == first
    monkeypatch.setenv(CLOCK_ENV, "")  # a later run, a new process
    (tmp_path / "_state" / "emulator_now").write_text("2026-01-02T03:04:05+08:00\n", "utf-8")
    assert pin_emulator_clock(tmp_path) == "2026-01-02T03:04:05+08:00"
    assert os.environ[CLOCK_ENV] == "2026-01-02T03:04:05+08:00"  # what the emulator reads


def test_the_environment_wins_and_a_damaged_pin_is_replaced(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(CLOCK_ENV, "2025-05-19T09:00:00+08:00")
    assert pin_emulator_clock(tmp_path) == "2025-05-19T09:00:00+08:00"
    assert not (tmp_path / "_state" / "emulator_now").exists()
    monkeypatch.setenv(CLOCK_ENV, "")
    (tmp_path / "_state").mkdir()
    (tmp_path / "_state" / "emulator_now").write_text("not a time", "utf-8")
    assert pin_emulator_clock(tmp_path) != "not a time"
    dt.datetime.fromisoformat((tmp_path / "_state" / "emulator_now").read_text("utf-8").strip())


def test_the_demo_window_ends_on_the_emulator_clocks_shanghai_date(monkeypatch) -> None:
    """03:18 in Shanghai is still the previous day in UTC: the window must not end that day."""
    assert build_parser().parse_args(["demo"]).until is None  # not the machine's date
    monkeypatch.setenv(CLOCK_ENV, "2026-11-30T03:18:15+08:00")
    assert demo_window_end() == "2026-11-30"
    monkeypatch.setenv(CLOCK_ENV, "2026-11-29T19:18:15+00:00")  # the same moment, written in UTC
    assert demo_window_end() == "2026-11-30"
