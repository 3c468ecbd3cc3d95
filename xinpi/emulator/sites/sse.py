"""SSE bond side: the ``commonSoaQuery.do`` gateway (``BS_ZQ_GGLL``, ``ZQ_XMLB``) and bond PDFs.

Shapes follow sources.md §2.2/§2.3. Choices where the reference is silent, made once here:

* **Referer check** (real site: "bond sqlIds check the Referer"): a request whose Referer is not a
  ``sse.com.cn`` page (``www.``/``bond.``/bare) gets the documented error shape
  ``200 {"success":"false","error":"系统繁忙...","errorType":"ExceptionInterceptor"}``, as plain
  JSON even when a ``jsonCallBack`` was given. A 200 that is not data is the harder case for a
  spider, which is why we chose it over a 403. Behind the emulator a Referer looks like
  ``http://127.0.0.1:P/bond.sse.com.cn/...``: the first path segment is taken as its host.
* **Missing parameters** (no ``sqlId``, no ``pageHelp.pageNo``/``pageHelp.pageSize``, an unknown
  ``sqlId``, an unparseable ``sseDate``/``sseDateEnd``) get the same error shape.
* ``BS_ZQ_GGLL``: rows in ``result``, ``pageHelp.data`` is null. ``bondType`` is a comma list;
  empty means every type. Window filter on the date part of ``sseDate``/``sseDateEnd``.
* ``ZQ_XMLB``: rows in ``result`` *and* ``pageHelp.data``. The fixture holds each project's
  history (one row per status, ``SEQ`` counting up); the register shows every project once, in
  its latest status as of :data:`STATE` ``as_of`` (a test toggle; ``None`` = all history seen).
  Status dates are ``PUBLISH_DATE`` (or ``ACCEPT_DATE`` when that is ``-``). Sorted by the
  effective date, newest first, then ``BOND_NUM``.
* PDFs: ``www.sse.com.cn`` and ``static.sse.com.cn`` serve ``url`` paths from ``fixtures/sse_pdf``
  (fixture rows marked ``"_pdf": "missing"`` have no file and answer 404).
"""

from __future__ import annotations

import datetime as dt
import math
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from xinpi.emulator.fixtures import load
from xinpi.emulator.server import Request, Response, route

QUERY_HOST = "query.sse.com.cn"
PDF_HOSTS = ("www.sse.com.cn", "static.sse.com.cn")
GATEWAY = r"/(?:sseQuery/)?common(?:Soa)?Query\.do"
ERROR = {"success": "false", "error": "系统繁忙...", "errorType": "ExceptionInterceptor"}
DEFAULT_ORDER = "sseDate|desc,securityCode|asc,bulletinId|asc"

#: Test toggle for ZQ_XMLB: the register as it stood on this date (None = latest of all history).
STATE: dict[str, dt.date | None] = {"as_of": None}


def set_as_of(day: dt.date | None) -> None:
    """Show the project register as of ``day`` (tests use it to watch a status change)."""
    STATE["as_of"] = day


def _error() -> Response:
    return Response.json(ERROR)


def _referer_ok(req: Request) -> bool:
    ref = req.headers.get("referer", "")
    if not ref:
        return False
    parts = urlsplit(ref)
    host = parts.hostname or ""
    if not host.endswith("sse.com.cn"):  # behind the emulator: /<host>/<path>
        host = parts.path.lstrip("/").split("/", 1)[0]
    return host == "sse.com.cn" or (host.endswith(".sse.com.cn") and host != QUERY_HOST)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A fixture row as the site shows it: emulator-only keys start with ``_``."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _paging(req: Request) -> tuple[int, int] | None:
    try:
        page_no = int(req.arg("pageHelp.pageNo"))
        page_size = int(req.arg("pageHelp.pageSize"))
    except ValueError:
        return None
    if page_no < 1 or page_size < 1:
        return None
    return page_no, page_size


def _int_arg(req: Request, name: str, default: int) -> int:
    """An echoed paging number; junk falls back to ``default`` (the answer must not crash)."""
    try:
        return int(req.arg(name) or default)
    except ValueError:
        return default


def _envelope(req: Request, rows: list[dict[str, Any]], page_no: int, page_size: int,
              in_result: bool, in_data: bool) -> dict[str, Any]:
    total = len(rows)
    page = rows[(page_no - 1) * page_size : page_no * page_size]
    return {
        "actionErrors": [],
        "actionMessages": [],
        "errorMessages": [],
        "errors": {},
        "fieldErrors": {},
        "isPagination": req.arg("isPagination", "true"),
        "jsonCallBack": req.arg("jsonCallBack") or None,
        "locale": "zh_CN",
        "pageHelp": {
            "beginPage": _int_arg(req, "pageHelp.beginPage", page_no),
            "cacheSize": _int_arg(req, "pageHelp.cacheSize", 1),
            "data": page if in_data else None,
            "endDate": None,
            "endPage": _int_arg(req, "pageHelp.endPage", page_no),
            "objectResult": None,
            "pageCount": math.ceil(total / page_size) if total else 0,
            "pageNo": page_no,
            "pageSize": page_size,
            "searchDate": None,
            "sort": None,
            "startDate": None,
            "total": total,
        },
        "result": page if in_result else [],
    }


def _answer(req: Request, obj: dict[str, Any]) -> Response:
    """JSON, or JSONP ``cb({...})`` when the client named a callback."""
    resp = Response.json(obj)
    callback = req.arg("jsonCallBack")
    if callback:
        resp.body = f"{callback}({resp.body})"
        resp.content_type = "text/javascript;charset=UTF-8"
    return resp


def _sort(rows: list[dict[str, Any]], order: str) -> list[dict[str, Any]]:
    """Apply ``order=field|desc,field|asc`` (stable sorts, last key first)."""
    for clause in reversed([c for c in order.split(",") if c.strip()]):
        name, _, direction = clause.partition("|")
        field_name = name.strip()
        rows = sorted(rows, key=lambda r: str(r.get(field_name) or ""),  # noqa: B023 - used at once
                      reverse=direction.strip().lower() == "desc")
    return rows


def _day(value: str) -> dt.date | None:
    """The date part of ``YYYY-MM-DD[ HH:MM:SS]``; None for empty; ValueError for junk."""
    value = value.strip()
    return dt.date.fromisoformat(value[:10]) if value else None


def _bond_announcements(req: Request, page_no: int, page_size: int) -> Response:
    try:
        since, until = _day(req.arg("sseDate")), _day(req.arg("sseDateEnd"))
    except ValueError:
        return _error()
    types = {t.strip() for t in req.arg("bondType").split(",") if t.strip()}
    code, keyword = req.arg("securityCode").strip(), req.arg("title").strip()
    org_types = {t.strip() for t in req.arg("orgBulletinType").split(",") if t.strip()}
    rows = []
    for row in load("sse_bond"):
        day = dt.date.fromisoformat(row["sseDate"][:10])
        if (since and day < since) or (until and day > until):
            continue
        if types and row["bondType"] not in types:
            continue
        if code and row["securityCode"] != code:
            continue
        if keyword and keyword not in row["title"]:
            continue
        if org_types and row["orgBulletinType"] not in org_types:
            continue
        rows.append(_public(row))
    rows = _sort(rows, req.arg("order") or DEFAULT_ORDER)
    return _answer(req, _envelope(req, rows, page_no, page_size, in_result=True, in_data=False))


def _status_day(row: dict[str, Any]) -> dt.date | None:
    for key in ("PUBLISH_DATE", "ACCEPT_DATE"):
        value = row.get(key) or "-"
        if value != "-":
            return dt.date.fromisoformat(value)
    return None


def register_rows(as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Each project once, in its latest status on ``as_of`` (projects not yet filed are left out)."""
    latest: dict[str, dict[str, Any]] = {}
    for row in load("sse_projects"):
        day = _status_day(row)
        if as_of is not None and day is not None and day > as_of:
            continue
        current = latest.get(row["BOND_NUM"])
        if current is None or int(row["SEQ"]) > int(current["SEQ"]):
            latest[row["BOND_NUM"]] = row
    rows = sorted(latest.values(), key=lambda r: int(r["BOND_NUM"]))
    rows.sort(key=lambda r: _status_day(r) or dt.date.min, reverse=True)
    return rows


def _projects(req: Request, page_no: int, page_size: int) -> Response:
    types = {t.strip() for t in (req.arg("BOND_TYPE") or req.arg("bond_type")).split(",") if t.strip()}
    keyword, area = req.arg("key").strip(), req.arg("area").strip()
    rows = [
        dict(_public(r))
        for r in register_rows(STATE["as_of"])
        if (not types or r["BOND_TYPE"] in types)
        and (not keyword or keyword in r["AUDIT_NAME"])
        and (not area or area == r["AREA"])
    ]
    for n, row in enumerate(rows, start=1):
        row["NUM"] = str(n)
    return _answer(req, _envelope(req, rows, page_no, page_size, in_result=True, in_data=True))


SQL_IDS = {"BS_ZQ_GGLL": _bond_announcements, "ZQ_XMLB": _projects}


@route(QUERY_HOST, GATEWAY, ("GET", "POST"))
def gateway(req: Request) -> Response:
    handler = SQL_IDS.get(req.arg("sqlId"))
    paging = _paging(req)
    if handler is None or paging is None or not _referer_ok(req):
        return _error()
    return handler(req, *paging)


def _pdf_files() -> dict[str, Any]:
    return {row["url"]: row for row in load("sse_bond")}


def _serve_pdf(req: Request) -> Response:
    row = _pdf_files().get(req.path)
    if row is None or row.get("_pdf") == "missing":
        return Response(404, "<html><body><h1>404 Not Found</h1></body></html>", "text/html")
    data = resources.files("xinpi.emulator").joinpath("fixtures", "sse_pdf", row["fileName"]).read_bytes()
    return Response(200, data, "application/pdf")


for _host in PDF_HOSTS:
    route(_host, r"/disclosure/bond/announcement/.+\.pdf")(_serve_pdf)


#: A PDF cut off after its first object: pypdf starts reading and fails (cninfo's broken files are
#: HTML pages instead, so the two sources exercise both ways a PDF can be bad).
TRUNCATED_PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + b"\x00" * 64
)


def write_pdfs() -> None:
    """Rewrite ``fixtures/sse_pdf`` from ``sse_bond.jsonl`` ``_body``/``_pdf`` (output is committed).

    ``python -m xinpi.emulator.sites.sse``. No title line is drawn: the bodies already open with it,
    and the spider tests compare the PDF text with ``_body``.
    """
    from pathlib import Path

    from xinpi.emulator.make_pdfs import render_pdf

    out = Path(__file__).resolve().parents[1] / "fixtures" / "sse_pdf"
    out.mkdir(exist_ok=True)
    for row in load("sse_bond"):
        path = out / row["fileName"]
        if row["_pdf"] == "ok":
            path.write_bytes(render_pdf("", row["_body"]))
        elif row["_pdf"] == "corrupt":
            path.write_bytes(TRUNCATED_PDF)
        else:
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    write_pdfs()
