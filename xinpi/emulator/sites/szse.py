"""Shenzhen Stock Exchange: the announcement list (www.szse.cn), its PDFs (disc.static.szse.cn) and
the bond/ABS project register (bond.szse.cn). Shapes follow sources.md §3.1 and §3.2.

Choices where the real site is undocumented (so tests know what to expect):

* **Referer**. Both APIs answer **403** (a short HTML page) when the ``Referer`` header is missing or
  is not a page of the same site: ``annList`` wants a page under ``/disclosure/`` of www.szse.cn, the
  register wants ``/disclosure/progressinfo/index.html`` of bond.szse.cn. A Referer is accepted in its
  real form (``https://www.szse.cn/disclosure/...``) and in its emulated form (``<base>/disclosure/...``),
  so a spider that builds it from ``host()`` passes in both worlds.
* ``annList`` wants a JSON body: a form body or broken JSON gets **400**.
* **Register status over time**. Each fixture project carries its whole status ``history``; the list
  shows the latest status dated on or before :data:`REGISTER_AS_OF` (``None`` = all of it), and hides
  projects accepted after that day. Tests move the date with :func:`set_register_date` to watch a
  project change status between two crawls, as the live register does between two days.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape
from importlib import resources
from typing import Any

from xinpi.emulator import fixtures
from xinpi.emulator.server import Request, Response, route

ANN_HOST = "www.szse.cn"
PDF_HOST = "disc.static.szse.cn"
BOND_HOST = "bond.szse.cn"
REGISTER_PAGE = "/disclosure/progressinfo/index.html"
ZQLB = {"0": "小公募", "1": "私募", "2": "ABS", "3": "大公募"}

#: The register's "today": the latest status on or before this date is shown (None = latest of all).
REGISTER_AS_OF: dt.date | None = None


def set_register_date(day: dt.date | None) -> None:
    """Move the register's clock (tests only; the emulator runs in the test process)."""
    global REGISTER_AS_OF
    REGISTER_AS_OF = day


def _forbidden() -> Response:
    return Response.html("<html><body><h1>403 Forbidden</h1></body></html>", status=403)


def _referer_ok(req: Request, real_host: str, prefix: str) -> bool:
    referer = req.headers.get("referer", "")
    return any(referer.startswith(base + prefix) for base in (f"https://{real_host}", req.base))


# --- announcements ------------------------------------------------------------------------------
def _as_list(value: Any) -> list[str]:
    """Body filters are lists; ``[""]``, ``""`` and ``None`` all mean "no filter"."""
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if str(v).strip()]


def _ann_matches(row: dict[str, Any], body: dict[str, Any]) -> bool:
    day = row["publishTime"][:10]
    se_date = body.get("seDate") or ["", ""]
    if len(se_date) == 2:
        if se_date[0] and day < se_date[0]:
            return False
        if se_date[1] and day > se_date[1]:
            return False
    channels = _as_list(body.get("channelCode"))
    if channels and row["channelCode"] not in channels:
        return False
    stocks = _as_list(body.get("stock"))
    if stocks and not set(stocks) & set(row["secCode"]):
        return False
    for key in _as_list(body.get("searchKey")):
        if key not in row["title"] and key not in row["content"]:
            return False
    for field in ("bigCategoryId", "smallCategoryId", "bigIndustryCode"):
        wanted = _as_list(body.get(field))
        if wanted and row[field] not in wanted:
            return False
    return True


@route(ANN_HOST, r"/api/disc/announcement/annList", methods=("POST",))
def ann_list(req: Request) -> Response:
    if not _referer_ok(req, ANN_HOST, "/disclosure/"):
        return _forbidden()
    if "json" not in req.headers.get("content-type", ""):
        return Response.json({"code": "400", "message": "请求参数格式错误"}, status=400)
    try:
        body = req.json()
        page_size = int(body.get("pageSize") or 30)
        page_num = int(body.get("pageNum") or 1)
    except (ValueError, TypeError, AttributeError):
        return Response.json({"code": "400", "message": "请求参数格式错误"}, status=400)
    if page_size < 1 or page_num < 1:
        return Response.json({"code": "400", "message": "分页参数错误"}, status=400)
    rows = [f["row"] for f in fixtures.load("szse_ann") if _ann_matches(f["row"], body)]
    rows.sort(key=lambda r: (r["publishTime"], r["id"]), reverse=True)
    start = (page_num - 1) * page_size
    page = [{**r, "_index": "szse_disc"} for r in rows[start : start + page_size]]
    return Response.json({"announceCount": len(rows), "data": page})


@route(PDF_HOST, r"/download(?P<path>/disc/disk03/finalpage/\d{4}-\d{2}-\d{2}/[0-9a-f-]+\.PDF)")
def ann_pdf(req: Request) -> Response:
    assert req.match is not None
    path = req.match["path"]
    if not any(f["row"]["attachPath"] == path for f in fixtures.load("szse_ann")):
        return Response(404, "<html><body>404 Not Found</body></html>", "text/html; charset=utf-8")
    day, name = path.rsplit("/", 2)[-2:]
    data = resources.files("xinpi.emulator").joinpath("fixtures", "szse_pdf", day, name).read_bytes()
    return Response(200, data, "application/pdf")


# --- project register --------------------------------------------------------------------------
def _project_now(project: dict[str, Any]) -> dict[str, str] | None:
    """The project's status as the register shows it on :data:`REGISTER_AS_OF` (None: not yet filed)."""
    shown = None
    for step in project["history"]:
        if REGISTER_AS_OF is None or dt.date.fromisoformat(step["xmztgxrq"]) <= REGISTER_AS_OF:
            shown = step
    return shown


def _zqmc_html(project: dict[str, Any]) -> str:
    param = f"/disclosure/progressinfo/detail/index.html?xmbh={project['xmbh']}&type=2"
    return f'<a a-param="{escape(param)}" target="_blank" class="text-link">{escape(project["zqmc"])}</a>'


def _envelope(rows: list[dict[str, Any]], page_no: int, page_size: int, total: int, name: str) -> list:
    """The ShowReport answer: one element per tab of the report, here only tab1."""
    meta = {
        "catalogid": name, "tabkey": "tab1", "name": "项目信息",
        "pagecount": max(1, math.ceil(total / page_size)), "recordcount": total,
        "pagesize": page_size, "pageno": page_no, "showrecord": True,
    }
    return [{"metadata": meta, "data": rows, "error": None}]


def _register_list(req: Request) -> Response:
    try:
        page_no = int(req.arg("PAGENO", "1") or 1)
        page_size = int(req.arg("pageSize", "20") or 20)
    except ValueError:
        return Response.html("<html><body>参数错误</body></html>", status=400)
    page_no, page_size = max(page_no, 1), min(max(page_size, 1), 100)
    zqlb = req.arg("zqlb")
    statuses = [s for s in req.arg("selectXmzt", req.arg("selectXmztt")).split(",") if s]
    keyword = req.arg("txtZqmc")
    shown = []
    for project in fixtures.load("szse_projects"):
        now = _project_now(project)
        if now is None or (zqlb and project["zqlb"] != zqlb):
            continue
        if (statuses and now["xmzt"] not in statuses) or (keyword and keyword not in project["zqmc"]):
            continue
        shown.append((project, now))
    shown.sort(key=lambda pn: (pn[1]["xmztgxrq"], pn[0]["xmbh"]), reverse=True)
    start = (page_no - 1) * page_size
    rows = [
        {
            "zqmc": _zqmc_html(p), "cxsjc": p["cxsjc"], "zqlb": ZQLB[p["zqlb"]], "nfxje": p["nfxje"],
            "xmzt": now["xmzt"], "xmztgxrq": now["xmztgxrq"], "xmslrq": p["xmslrq"], "rowid": start + i + 1,
        }
        for i, (p, now) in enumerate(shown[start : start + page_size])
    ]
    return Response.json(_envelope(rows, page_no, page_size, len(shown), "xmjdxx"))


def _register_detail(req: Request) -> Response:
    xmbh = req.arg("xmbh").upper()
    rows = []
    for p in fixtures.load("szse_projects"):
        now = _project_now(p)
        if p["xmbh"] == xmbh and now is not None:
            rows.append({
                "zqmc": p["zqmc"], "zqlb": ZQLB[p["zqlb"]], "nfxje": p["nfxje"], "fxr": p["fxr"],
                "dq": p["dq"], "cxsqc": p["cxsqc"], "xmzt": now["xmzt"], "xmztgxrq": now["xmztgxrq"],
                "xmslrq": p["xmslrq"], "xmbh": p["xmbh"],
            })
    return Response.json(_envelope(rows, 1, 20, len(rows), "xmjdxx_xq"))


@route(BOND_HOST, r"/api/report/ShowReport/data")
def show_report(req: Request) -> Response:
    if not _referer_ok(req, BOND_HOST, REGISTER_PAGE):
        return _forbidden()
    if req.arg("SHOWTYPE") != "JSON" or req.arg("TABKEY") != "tab1":
        return Response.html("<html><body>参数错误</body></html>", status=400)
    catalog = req.arg("CATALOGID")
    if catalog == "xmjdxx":
        return _register_list(req)
    if catalog == "xmjdxx_xq":
        return _register_detail(req)
    return Response.json([])


@route(BOND_HOST, r"/disclosure/progressinfo/detail/index\.html")
def project_page(req: Request) -> Response:
    """The human detail page the ``zqmc`` link opens (tables as U13 saw them)."""
    xmbh = req.arg("xmbh").upper()
    for p in fixtures.load("szse_projects"):
        now = _project_now(p)
        if p["xmbh"] == xmbh and now is not None:
            cells = [
                ("债券名称", p["zqmc"]), ("债券类别", ZQLB[p["zqlb"]]),
                ("拟发行金额（单位：亿元）", p["nfxje"]),
                ("发行人", p["fxr"]), ("地区", p["dq"]), ("项目状态", now["xmzt"]),
            ]
            trs = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in cells)
            return Response.html(f'<html><body><table id="xmjdxx_xqtab1">{trs}</table></body></html>')
    return Response.html("<html><body>项目不存在</body></html>", status=404)

