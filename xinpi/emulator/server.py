"""A local stand-in for the real sites: one HTTP server on 127.0.0.1 that answers every host.

Requests arrive as ``/<hostname>/<real path>?<real query>``; the handler registered for that host
and path answers with the shapes the real site returns (see ../shared/reference/sources.md). Each
source lives in its own module under ``xinpi.emulator.sites`` and registers its routes with
:func:`route`. Tests start one :class:`Emulator` per session; the demo starts one for its run.

The emulator also logs every request (for "how many listing requests did the crawl make") and can
be told to misbehave (:meth:`Emulator.add_fault`) so that tests exercise retries and failures.
"""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    host: str  # the real hostname the request is for, e.g. "www.cninfo.com.cn"
    path: str  # the real path, e.g. "/new/hisAnnouncement/query"
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base: str  # this emulator's URL for `host`, for building absolute links: f"{base}/path"
    match: re.Match[str] | None = None

    def arg(self, name: str, default: str = "") -> str:
        """First value of a query-string or form field."""
        values = self.query.get(name) or self.form().get(name)
        return values[0] if values else default

    def form(self) -> dict[str, list[str]]:
        ctype = self.headers.get("content-type", "")
        if self.method == "POST" and "json" not in ctype:
            return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {}

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")


@dataclass
class Response:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(obj, ensure_ascii=False))

    @classmethod
    def html(cls, text: str, status: int = 200, encoding: str = "utf-8") -> Response:
        return cls(status, text.encode(encoding), f"text/html; charset={encoding}")


Handler = Callable[[Request], Response]
_ROUTES: list[tuple[str, str, re.Pattern[str], Handler]] = []


def route(host: str, path_regex: str, methods: tuple[str, ...] = ("GET",)) -> Callable[[Handler], Handler]:
    """Register a handler for ``host`` and a full-match path regex (named groups reach the handler)."""

    def register(fn: Handler) -> Handler:
        for method in methods:
            _ROUTES.append((method, host, re.compile(path_regex), fn))
        return fn

    return register


def _load_sites() -> None:
    from xinpi.emulator import sites

    for info in pkgutil.iter_modules(sites.__path__):
        importlib.import_module(f"{sites.__name__}.{info.name}")


@dataclass
class Fault:
    """Misbehave on matching requests: ``kind`` is one of
    ``status`` (answer ``status``), ``retry_after`` (429 with a Retry-After header), ``truncate``
    (cut the body in half), ``empty`` (200 with an empty body), ``slow`` (sleep ``delay`` s first),
    ``garbage`` (200 with bytes that are neither JSON nor HTML)."""

    kind: str
    host: str = ""
    path_regex: str = ""
    times: int = 1  # how many requests it hits; -1 = all
    status: int = 500
    delay: float = 0.0
    retry_after: int = 1

    def matches(self, req: Request) -> bool:
        return (not self.host or self.host == req.host) and (
            not self.path_regex or re.search(self.path_regex, req.path) is not None
        )


@dataclass
class LoggedRequest:
    method: str
    host: str
    path: str
    query: dict[str, list[str]]
    status: int
    at: float


class _Server(ThreadingHTTPServer):
    """socketserver's listen backlog is 5: a crawl that opens its 16 connections at once overflowed
    it, and the kernel dropped the extra connection attempts, which the client resent only after
    TCP's 1 s retransmission timeout. Every crawl against the emulator then stalled a second for
    no reason a real site would give it (real servers listen with large backlogs: nginx's is 511)."""

    request_queue_size = 512
    daemon_threads = True


class Emulator:
    """The emulator server; ``with Emulator() as emu: emu.url`` serves on a free loopback port."""

    def __init__(self, port: int = 0) -> None:
        _load_sites()
        self.faults: list[Fault] = []
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), self._handler_class())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for a serve loop, forever if none started
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- test controls ----------------------------------------------------------------------
    def add_fault(self, kind: str, **kw: Any) -> Fault:
        fault = Fault(kind, **kw)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.requests.clear()

    def count(self, host: str | None = None, path_regex: str = "") -> int:
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (host is None or r.host == host) and re.search(path_regex, r.path)
            )

    def _take_fault(self, req: Request) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times != 0 and fault.matches(req):
                    if fault.times > 0:
                        fault.times -= 1
                    return fault
        return None

    # --- dispatch ---------------------------------------------------------------------------
    def dispatch(self, req: Request) -> Response:
        if req.host == "" and req.path in ("/robots.txt", "/"):
            return Response(200, "User-agent: *\nAllow: /\n", "text/plain")
        if req.host == "_emulator":
            return self._control(req)
        fault = self._take_fault(req)
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        elif fault and fault.kind == "status":
            return Response(fault.status, f"emulated {fault.status}", "text/plain")
        elif fault and fault.kind == "retry_after":
            return Response(429, "slow down", "text/plain", {"Retry-After": str(fault.retry_after)})
        elif fault and fault.kind == "empty":
            return Response(200, b"", "text/html; charset=utf-8")
        elif fault and fault.kind == "garbage":
            return Response(200, b"\x00\xff<<not json{{", "application/json")
        wanted = "GET" if req.method == "HEAD" else req.method  # HEAD answers like GET, minus the body
        # Several site modules may serve one host (the synthetic bulk channel lives on zqrb's host):
        # the first route that knows the page answers; a 404 only if none does.
        resp: Response | None = None
        for method, host, pattern, handler in _ROUTES:
            if method == wanted and host == req.host:
                m = pattern.fullmatch(req.path)
                if m:
                    req.match = m
                    answer = handler(req)
                    if answer.status != 404:
                        resp = answer
                        break
                    resp = resp or answer
        if resp is None:
            return Response(404, f"no such page: {req.host}{req.path}", "text/plain")
        if fault and fault.kind == "truncate":
            body = resp.body.encode() if isinstance(resp.body, str) else resp.body
            resp.body = body[: len(body) // 2]
        return resp

    def _control(self, req: Request) -> Response:
        """HTTP controls for a crawl running in another process: faults and the request log."""
        if req.path == "/faults" and req.method == "POST":
            self.add_fault(**req.json())
            return Response.json({"ok": True})
        if req.path == "/clear" and req.method == "POST":
            self.clear()
            return Response.json({"ok": True})
        if req.path == "/requests":
            with self._lock:
                return Response.json([r.__dict__ for r in self.requests])
        return Response(404, "unknown control", "text/plain")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, a kept-alive client waits for
            # the delayed ACK (~40 ms per request) before the body arrives.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                segments = parts.path.split("/", 2)  # "", host, rest of the real path
                has_host = len(segments) == 3 and ("." in segments[1] or segments[1] == "_emulator")
                host = segments[1] if has_host else ""
                path = "/" + segments[2] if has_host else parts.path
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                base = f"{emulator.url}/{host}" if host else emulator.url
                req = Request(
                    self.command, host, path, parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()}, body, base,
                )
                try:
                    resp = emulator.dispatch(req)
                except Exception:  # an emulator bug must show up as a 500, not a hung client
                    log.exception("emulator handler failed for %s", self.path)
                    resp = Response(500, "emulator error", "text/plain")
                data = resp.body.encode("utf-8") if isinstance(resp.body, str) else resp.body
                if host and host != "_emulator":
                    with emulator._lock:
                        emulator.requests.append(
                            LoggedRequest(req.method, host, path, req.query, resp.status, time.time())
                        )
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _serve

            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("emulator: " + fmt, *args)

        return _Handler


def main(argv: list[str] | None = None) -> None:
    """``python -m xinpi.emulator.server --port 8765``: serve until interrupted."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args(argv)
    emu = Emulator(args.port).start()
    print(f"emulator serving at {emu.url} (e.g. {emu.url}/www.cninfo.com.cn/new/hisAnnouncement/query)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emu.stop()


if __name__ == "__main__":
    # Run as `python -m`, this file is `__main__`, while the site modules register their routes on
    # `xinpi.emulator.server`: serve through that module so the routes are the ones in use.
    from xinpi.emulator.server import main as serve

    serve()
