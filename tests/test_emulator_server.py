"""The emulator core: routing by host, 404s, the request log, fault injection and the HTTP controls."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from xinpi.emulator.server import Emulator, Request, Response, route

HOST = "core-test.example"  # routes registered only for these tests


@route(HOST, r"/echo/(?P<word>\w+)", methods=("GET", "POST"))
def _echo(req: Request) -> Response:
    assert req.match is not None
    return Response.json({"word": req.match["word"], "q": req.arg("q"), "form": req.arg("f"),
                          "base": req.base, "method": req.method})


@route(HOST, r"/boom")
def _boom(req: Request) -> Response:
    raise RuntimeError("handler bug")


def call(url: str, data: bytes | None = None, method: str | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def test_routes_by_host_and_path_with_query_and_form(emulator: Emulator) -> None:
    status, body, headers = call(f"{emulator.url}/{HOST}/echo/hello?q=1")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    got = json.loads(body)
    assert got == {"word": "hello", "q": "1", "form": "", "base": f"{emulator.url}/{HOST}", "method": "GET"}
    status, body, _ = call(f"{emulator.url}/{HOST}/echo/post", data=b"f=%E8%B5%84%E4%BA%A7", method="POST")
    assert json.loads(body)["form"] == "资产"


def test_unknown_host_path_and_method_are_404(emulator: Emulator) -> None:
    assert call(f"{emulator.url}/{HOST}/nope")[0] == 404
    assert call(f"{emulator.url}/other-host.example/echo/x")[0] == 404
    assert call(f"{emulator.url}/{HOST}/echo/x/extra")[0] == 404  # paths match in full
    assert call(f"{emulator.url}/{HOST}/boom", data=b"", method="POST")[0] == 404


def test_robots_txt_allows_everything(emulator: Emulator) -> None:
    status, body, _ = call(f"{emulator.url}/robots.txt")
    assert status == 200 and b"Allow: /" in body


def test_handler_exception_is_a_500_not_a_hang(emulator: Emulator) -> None:
    status, body, _ = call(f"{emulator.url}/{HOST}/boom")
    assert status == 500 and body == b"emulator error"


def test_head_has_headers_but_no_body(emulator: Emulator) -> None:
    full = call(f"{emulator.url}/{HOST}/echo/x")[1]
    status, body, headers = call(f"{emulator.url}/{HOST}/echo/x", method="HEAD")
    # same answer as GET (the echo names the method, one letter longer), no body sent
    assert status == 200 and body == b"" and int(headers["Content-Length"]) == len(full) + 1


def test_request_log_and_count(emulator: Emulator) -> None:
    for word in ("a", "b", "c"):
        call(f"{emulator.url}/{HOST}/echo/{word}?q={word}")
    call(f"{emulator.url}/{HOST}/missing")
    assert emulator.count(HOST) == 4
    assert emulator.count(HOST, r"^/echo/") == 3
    assert emulator.count("www.cninfo.com.cn") == 0
    logged = [r for r in emulator.requests if r.host == HOST]
    assert [r.status for r in logged] == [200, 200, 200, 404]
    assert logged[0].query == {"q": ["a"]} and logged[0].method == "GET"
    emulator.clear()
    assert emulator.count(HOST) == 0


def test_status_fault_hits_only_matching_requests_and_wears_off(emulator: Emulator) -> None:
    emulator.add_fault("status", host=HOST, path_regex=r"/echo/a", times=2, status=503)
    assert call(f"{emulator.url}/{HOST}/echo/b")[0] == 200
    assert call(f"{emulator.url}/{HOST}/echo/a")[0] == 503
    assert call(f"{emulator.url}/{HOST}/echo/a")[0] == 503
    assert call(f"{emulator.url}/{HOST}/echo/a")[0] == 200


def test_permanent_fault(emulator: Emulator) -> None:
    emulator.add_fault("status", host=HOST, times=-1, status=404)
    assert all(call(f"{emulator.url}/{HOST}/echo/x")[0] == 404 for _ in range(3))
    emulator.clear()
    assert call(f"{emulator.url}/{HOST}/echo/x")[0] == 200


def test_retry_after_fault(emulator: Emulator) -> None:
    emulator.add_fault("retry_after", host=HOST, retry_after=7)
    status, _, headers = call(f"{emulator.url}/{HOST}/echo/x")
    assert status == 429 and headers["Retry-After"] == "7"


def test_truncate_fault_halves_the_real_answer(emulator: Emulator) -> None:
    full = call(f"{emulator.url}/{HOST}/echo/truncated")[1]
    emulator.add_fault("truncate", host=HOST)
    status, cut, _ = call(f"{emulator.url}/{HOST}/echo/truncated")
    assert status == 200 and cut == full[: len(full) // 2]
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut)


def test_empty_and_garbage_faults(emulator: Emulator) -> None:
    emulator.add_fault("empty", host=HOST)
    assert call(f"{emulator.url}/{HOST}/echo/x")[:2] == (200, b"")
    emulator.add_fault("garbage", host=HOST)
    status, body, headers = call(f"{emulator.url}/{HOST}/echo/x")
    assert status == 200 and headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(body)


def test_slow_fault_delays_then_answers(emulator: Emulator) -> None:
    emulator.add_fault("slow", host=HOST, delay=0.3)
    started = time.monotonic()
    status, body, _ = call(f"{emulator.url}/{HOST}/echo/slow")
    assert status == 200 and json.loads(body)["word"] == "slow"
    assert time.monotonic() - started >= 0.3


def test_http_controls_for_crawls_in_other_processes(emulator: Emulator) -> None:
    ok = call(f"{emulator.url}/_emulator/faults", method="POST",
              data=json.dumps({"kind": "status", "host": HOST, "status": 502}).encode(),
              headers={"Content-Type": "application/json"})
    assert ok[0] == 200 and json.loads(ok[1]) == {"ok": True}
    assert call(f"{emulator.url}/{HOST}/echo/x")[0] == 502
    logged = json.loads(call(f"{emulator.url}/_emulator/requests")[1])
    assert [(r["host"], r["path"], r["status"]) for r in logged] == [(HOST, "/echo/x", 502)]
    assert call(f"{emulator.url}/_emulator/clear", data=b"", method="POST")[0] == 200
    assert json.loads(call(f"{emulator.url}/_emulator/requests")[1]) == []
    assert call(f"{emulator.url}/_emulator/unknown")[0] == 404


def test_a_second_emulator_serves_on_its_own_port() -> None:
    with Emulator() as other:
        assert other.url.startswith("http://127.0.0.1:")
        assert call(f"{other.url}/{HOST}/echo/z")[0] == 200
        assert other.count(HOST) == 1


def test_a_burst_of_connections_is_queued_not_dropped() -> None:
    """A crawl opens its 16 connections at once. With socketserver's backlog of 5 the kernel dropped
    the rest, and the client retried each only after TCP's 1 s retransmission timeout. Here nothing
    accepts (the server is not started), so every connection must wait in the listen queue."""
    emu = Emulator()
    address = urlsplit(emu.url)
    conns = []
    try:
        for _ in range(40):
            conn = socket.socket()
            conn.settimeout(0.5)  # a dropped handshake would be retried only after 1 s
            conns.append(conn)
            conn.connect((address.hostname, address.port))  # raises TimeoutError if dropped
    finally:
        for conn in conns:
            conn.close()
        emu.stop()


@route(HOST, r"/shared/(?P<name>[a-z]+)")
def _shared_first(req: Request) -> Response:
    assert req.match is not None
    if req.match["name"] != "first":
        return Response(404, "not mine", "text/plain")
    return Response(200, "first module", "text/plain")


@route(HOST, r"/shared/(?P<name>[a-z]+)")
def _shared_second(req: Request) -> Response:
    assert req.match is not None
    if req.match["name"] != "second":
        return Response(404, "not mine either", "text/plain")
    return Response(200, "second module", "text/plain")


def test_two_sites_on_one_host_each_answer_their_own_pages(emulator: Emulator) -> None:
    """A page one site module does not know falls through to the next; 404 only if none knows it."""
    assert call(f"{emulator.url}/{HOST}/shared/first")[:2] == (200, b"first module")
    assert call(f"{emulator.url}/{HOST}/shared/second")[:2] == (200, b"second module")
    assert call(f"{emulator.url}/{HOST}/shared/third")[:2] == (404, b"not mine")
