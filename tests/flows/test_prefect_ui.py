"""Against a real local Prefect server: ``xinpi serve`` registers the nightly crawl, a second run while
the first is active is cancelled (CANCEL_NEW), the crawl lands its runs/ row and artifacts, and the
UI renders the run (headless Chromium screenshot, plus the rendered DOM of the artifact page).

Chromium is a system package (Debian ``chromium``); without it this test FAILS on purpose.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from xinpi.flows import runs

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,900", "--virtual-time-budget=15000",
]
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{base}{path}", data=data, method="GET" if body is None else "POST",
                                 headers={"content-type": "application/json"})
    # The server answers 503 while its SQLite database is busy (Prefect's own client retries those):
    # a few waits before giving up, so a busy 2-core machine does not fail the test.
    for attempt in range(6):
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            if err.code not in (429, 503) or attempt == 5:
                raise
            time.sleep(1 + attempt)


def wait_for(what: str, check, timeout: float, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def stop(proc: subprocess.Popen | None, grace: float = 20) -> None:
    """SIGTERM the process group, then SIGKILL what is left (serve spawns flow-run subprocesses)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        pass


def chromium(*args: str, tmp: Path, timeout: float = 90) -> subprocess.Popen:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium is not installed: apt-get install -y chromium (the UI test needs it)"
    profile = tmp / f"profile-{time.monotonic_ns()}"
    return subprocess.Popen([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)


def test_served_nightly_crawl_cancels_a_second_run_and_shows_in_the_ui(emulator, tmp_path: Path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": f"{base}/api",
        "PREFECT_UI_API_URL": f"{base}/api",  # else the UI calls the default port 4200
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "INFO",  # the run page shows the crawl's log lines
    }
    data = tmp_path / "data"
    logs = tmp_path / "logs"
    logs.mkdir()
    server = serve = None
    try:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=open(logs / "server.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_for("the Prefect server", lambda: api(base, "/api/health"), timeout=150)

        serve = subprocess.Popen(
            [sys.executable, "-m", "xinpi.cli", "serve", "--only", "nightly-crawl", "--sources", "sse_bond",
             "--emulator", emulator.url, "--data-dir", str(data)],
            env=env, cwd=ROOT, stdout=open(logs / "serve.log", "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        dep = wait_for("the served deployment",
                       lambda: api(base, "/api/deployments/name/xinpi-crawl/nightly-crawl"), timeout=90)
        assert [s["schedule"]["cron"] for s in dep["schedules"]] == ["0 2 * * *"]
        assert dep["schedules"][0]["schedule"]["timezone"] == "Asia/Shanghai"
        assert dep["global_concurrency_limit"]["limit"] == 1
        assert dep["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
        assert dep["entrypoint"] == "xinpi.flows.crawl.crawl_flow"

        params = {"parameters": {"since": "2020-01-01", "until": "2026-12-31", "settings": FAST}}
        first = api(base, f"/api/deployments/{dep['id']}/create_flow_run", params)["id"]
        second = api(base, f"/api/deployments/{dep['id']}/create_flow_run", params)["id"]

        def finished() -> dict[str, dict] | None:
            found = {r["id"]: r for r in api(base, "/api/flow_runs/filter",
                                              {"flow_runs": {"id": {"any_": [first, second]}}})}
            done = all(r["state"] and r["state"]["type"] in ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")
                       for r in found.values())
            return found if len(found) == 2 and done else None

        states = wait_for("both flow runs to finish", finished, timeout=240, every=2)
        by_type = {r["state"]["type"]: r for r in states.values()}
        assert set(by_type) == {"COMPLETED", "CANCELLED"}, {k: v["state"] for k, v in states.items()}
        assert "concurrency limit" in by_type["CANCELLED"]["state"]["message"]
        done = by_type["COMPLETED"]
        assert done["state"]["message"] == "1 sources crawled"

        # The run's figures: the runs/ row and both artifacts, attached to that flow run.
        rows = runs.read_runs(data)
        assert [(r["source"], r["status"], r["flow_run_id"]) for r in rows] == [
            ("sse_bond", "ok", done["id"])]
        assert rows[0]["documents_new"] > 0 and rows[0]["responses_2xx"] > 0
        artifacts = {a["key"]: a for a in api(base, "/api/artifacts/filter",
                                              {"artifacts": {"flow_run_id": {"any_": [done["id"]]}}})}
        assert set(artifacts) == {"crawl-summary", "crawl-report"}
        table = json.loads(artifacts["crawl-summary"]["data"])
        assert table[0]["source"] == "sse_bond" and table[0]["documents_new"] == rows[0]["documents_new"]

        # The UI: a screenshot of the flow-run page and the rendered DOM of the report artifact page.
        png = tmp_path / "flow-run.png"
        shot = chromium(f"--screenshot={png}", f"{base}/runs/flow-run/{done['id']}", tmp=tmp_path)
        dom = chromium("--dump-dom", f"{base}/artifacts/artifact/{artifacts['crawl-report']['id']}",
                       tmp=tmp_path)
        html = dom.communicate(timeout=90)[0].decode("utf-8", "replace")
        shot.wait(90)
        # An error or blank UI page is ~38 KB at this size; the run page with its timeline is ~95 KB.
        assert png.exists() and png.stat().st_size > 60_000
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if (ROOT / ".tmp").is_dir():  # the last screenshot, for a person to look at
            shutil.copy(png, ROOT / ".tmp" / "prefect-ui-flow-run.png")
        for text in (done["name"], "sse_bond", "1 sources crawled", "crawl-report"):
            assert text in html, f"{text!r} not rendered on the artifact page"
    finally:
        stop(serve)  # before the server: a serve process whose API vanished hangs
        stop(server)
