"""巨潮资讯 cninfo: the announcement query API, the detail page and the PDF attachments.

Shapes follow sources.md §1.1: a form POST to ``/new/hisAnnouncement/query`` answering JSON with
``announcements`` (``null`` when empty), ``totalAnnouncement``, ``totalpages``, ``hasMore``. Quirks
kept because spiders must cope with them on the real site: ``pageSize`` is capped at 30,
``pageNum >= 101`` silently answers page 1, an unknown ``category`` or ``plate`` falls back to the
whole market, and a request without any User-Agent gets 403. PDFs come from
``static.cninfo.com.cn/finalpage/<date>/<id>.PDF`` as committed files (see ../make_pdfs.py).
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from xinpi.emulator.fixtures import load
from xinpi.emulator.server import Request, Response, route

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOST = "www.cninfo.com.cn"
STATIC_HOST = "static.cninfo.com.cn"
PAGE_SIZE_CAP = 30
PAGE_NUM_CAP = 100  # pageNum beyond this answers page 1, as reported for the real site
# plate codes and the boards each one covers (sources.md §1.1 `plate`)
PLATES = {
    "sz": {"sz"}, "szmb": {"sz"}, "szzx": {"sz"}, "szcy": {"sz"},
    "sh": {"sh"}, "shmb": {"sh"}, "shkcp": {"sh"},
}


def rows() -> list[dict[str, Any]]:
    """The fixture announcements, newest first."""
    return load("cninfo")


def pdf_bytes(announcement_id: str) -> bytes | None:
    """The committed attachment for an announcement, or None (the site answers 404)."""
    node = resources.files("xinpi.emulator").joinpath("fixtures", "pdf", f"{announcement_id}.PDF")
    return node.read_bytes() if node.is_file() else None


@cache
def _adjunct_size(announcement_id: str) -> int:
    data = pdf_bytes(announcement_id)
    return max(1, math.ceil(len(data) / 1024)) if data else 0  # KB, as the real values suggest


def announcement_time_ms(row: dict[str, Any]) -> int:
    """Epoch ms of the announcement: Beijing midnight of its date unless the row gives a time."""
    clock = dt.time.fromisoformat(row.get("time", "00:00"))
    when = dt.datetime.combine(dt.date.fromisoformat(row["date"]), clock, SHANGHAI)
    return int(when.timestamp() * 1000)


def adjunct_url(row: dict[str, Any]) -> str:
    return f"finalpage/{row['date']}/{row['announcementId']}.PDF"


def _record(row: dict[str, Any], searchkey: str, highlight: bool) -> dict[str, Any]:
    title = row["title"]
    if highlight and searchkey:
        title = title.replace(searchkey, f"<em>{searchkey}</em>")
    return {
        "id": None,
        "secCode": row["secCode"],
        "secName": row["secName"],
        "orgId": row["orgId"],
        "announcementId": row["announcementId"],
        "announcementTitle": title,
        "announcementTime": announcement_time_ms(row),
        "adjunctUrl": adjunct_url(row),
        "adjunctSize": _adjunct_size(row["announcementId"]),
        "adjunctType": "PDF",
        "storageTime": None,
        "columnId": row["columnId"],
        "pageColumn": row["pageColumn"],
        "announcementType": row["announcementType"],
        "associateAnnouncement": None,
        "important": None,
        "batchNum": None,
        "announcementContent": "",
        "orgName": None,
        "tileSecName": row["secName"],
        "shortTitle": None,
        "announcementTypeName": None,
        "secNameList": None,
    }


def _date_range(se_date: str) -> tuple[dt.date, dt.date] | None:
    m = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})\s*~\s*(\d{4}-\d{2}-\d{2})\s*", se_date)
    if not m:
        return None  # '' or malformed: no date filter, like the real site
    return dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))


def select(req: Request) -> list[dict[str, Any]]:
    """Fixture rows matching the query's filters, in the requested order."""
    found = rows()
    window = _date_range(req.arg("seDate"))
    if window:
        found = [r for r in found if window[0] <= dt.date.fromisoformat(r["date"]) <= window[1]]
    searchkey = req.arg("searchkey").strip()
    if searchkey:
        found = [r for r in found if searchkey in r["title"]]
    stock = req.arg("stock").split(",")[0].strip()
    if stock:
        found = [r for r in found if r["secCode"] == stock]
    categories = {c for c in req.arg("category").split(";") if c}
    if categories & {r["category"] for r in rows()}:  # unknown codes: whole market, like the real site
        found = [r for r in found if r["category"] in categories]
    boards = set().union(*(PLATES.get(p, set()) for p in req.arg("plate").split(";") if p))
    if boards:
        found = [r for r in found if r["plate"] in boards]
    ascending = req.arg("sortType") == "asc"
    key = "secCode" if req.arg("sortName") == "code" else "time"
    found = sorted(
        found,
        key=lambda r: (r["secCode"], r["announcementId"]) if key == "secCode"
        else (announcement_time_ms(r), r["announcementId"]),
        reverse=not ascending,
    )
    return found


def _int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


@route(HOST, r"/new/hisAnnouncement/query", methods=("POST", "GET"))
def his_announcement_query(req: Request) -> Response:
    if not req.headers.get("user-agent"):
        return Response(403, "<html><body>403 Forbidden</body></html>", "text/html")
    page_size = min(max(_int(req.arg("pageSize", "30"), 30), 1), PAGE_SIZE_CAP)
    page_num = max(_int(req.arg("pageNum", "1"), 1), 1)
    if page_num > PAGE_NUM_CAP:
        page_num = 1
    found = select(req)
    total = len(found)
    pages = math.ceil(total / page_size)
    chunk = found[(page_num - 1) * page_size : page_num * page_size]
    highlight = req.arg("isHLtitle").lower() == "true"
    records = [_record(r, req.arg("searchkey").strip(), highlight) for r in chunk]
    return Response.json(
        {
            "classifiedAnnouncements": None,
            "totalSecurities": 0,
            "totalAnnouncement": total,
            "totalRecordNum": total,
            "announcements": records or None,
            "categoryList": None,
            "hasMore": page_num < pages,
            "totalpages": pages,
        }
    )


@route(HOST, r"/new/disclosure/detail")
def disclosure_detail(req: Request) -> Response:
    """The human detail page: a shell whose PDF link points at the static host."""
    wanted = req.arg("announcementId")
    row = next((r for r in rows() if r["announcementId"] == wanted), None)
    if row is None:
        return Response.html("<html><body>公告不存在</body></html>", status=404)
    static = req.base.replace(f"/{HOST}", f"/{STATIC_HOST}")
    return Response.html(
        f"<html><head><meta charset='utf-8'><title>{html.escape(row['title'])}</title></head><body>"
        f"<h1>{html.escape(row['title'])}</h1><a href='{static}/{adjunct_url(row)}'>公告下载</a>"
        "</body></html>"
    )


@route(STATIC_HOST, r"/finalpage/(?P<date>\d{4}-\d{2}-\d{2})/(?P<aid>\d+)\.PDF")
def final_page(req: Request) -> Response:
    assert req.match is not None
    row = next((r for r in rows() if r["announcementId"] == req.match["aid"]), None)
    data = pdf_bytes(req.match["aid"]) if row and row["date"] == req.match["date"] else None
    if data is None:
        return Response(404, "<html><body>404 Not Found</body></html>", "text/html")
    return Response(200, data, "application/pdf")
