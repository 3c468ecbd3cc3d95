"""The emulated cninfo answers with the real shapes and quirks (sources.md §1.1)."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from xinpi.emulator.server import Emulator
from xinpi.emulator.sites import cninfo as site

UA = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) test"}
FORM = {
    "pageNum": "1", "pageSize": "30", "column": "szse", "tabName": "fulltext", "plate": "", "stock": "",
    "searchkey": "", "secid": "", "category": "", "seDate": "", "sortName": "", "sortType": "",
    "isHLtitle": "true",
}
ROW_KEYS = {
    "id", "secCode", "secName", "orgId", "announcementId", "announcementTitle", "announcementTime",
    "adjunctUrl", "adjunctSize", "adjunctType", "columnId", "pageColumn", "announcementType",
    "storageTime", "associateAnnouncement", "important", "batchNum", "announcementContent", "orgName",
    "tileSecName", "shortTitle", "announcementTypeName", "secNameList",
}


def query(emu: Emulator, headers: dict[str, str] | None = None, **form: str) -> dict[str, Any]:
    body = urllib.parse.urlencode({**FORM, **form}).encode()
    req = urllib.request.Request(
        f"{emu.url}/www.cninfo.com.cn/new/hisAnnouncement/query", data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
            **(UA if headers is None else headers),
        },
    )
    with urllib.request.urlopen(req) as resp:
        assert resp.headers["Content-Type"].startswith("application/json")
        return json.load(resp)


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=UA)) as resp:
            return resp.status, resp.read(), resp.headers["Content-Type"]
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers["Content-Type"]


def test_fixture_corpus_is_big_enough_and_spread_over_two_years() -> None:
    rows = site.rows()
    assert len(rows) >= 18
    assert {r["date"][:4] for r in rows} == {"2025", "2026"}
    assert len({r["announcementId"] for r in rows}) == len(rows)
    assert {r["pdf"] for r in rows} == {"ok", "corrupt", "missing"}


def test_response_shape_and_row_fields(emulator: Emulator) -> None:
    data = query(emulator)
    assert set(data) >= {"announcements", "totalAnnouncement", "totalRecordNum", "totalSecurities",
                         "totalpages", "hasMore", "categoryList", "classifiedAnnouncements"}
    assert data["totalAnnouncement"] == len(site.rows())
    for row in data["announcements"]:
        assert set(row) == ROW_KEYS
        assert row["id"] is None and row["adjunctType"] == "PDF"
        pattern = rf"finalpage/\d{{4}}-\d{{2}}-\d{{2}}/{row['announcementId']}\.PDF"
        assert re.fullmatch(pattern, row["adjunctUrl"])
        day = row["adjunctUrl"].split("/")[1]
        when = dt.datetime.fromtimestamp(row["announcementTime"] / 1000, site.SHANGHAI)
        assert when.date().isoformat() == day  # date folder = announcement date in Beijing time
        assert row["announcementId"].isdigit()


def test_announcement_time_is_beijing_midnight_unless_the_row_has_a_time(emulator: Emulator) -> None:
    rows = {r["announcementId"]: r for r in query(emulator)["announcements"]}
    for fixture in site.rows():
        ms = rows[fixture["announcementId"]]["announcementTime"]
        when = dt.datetime.fromtimestamp(ms / 1000, site.SHANGHAI)
        expected = dt.time.fromisoformat(fixture.get("time", "00:00"))
        assert when.time() == expected
    assert any("time" in r for r in site.rows())


def test_page_size_is_capped_at_30_and_pages_walk_the_result(emulator: Emulator) -> None:
    capped = query(emulator, pageSize="1000")
    assert len(capped["announcements"]) == min(30, len(site.rows()))
    seen: list[str] = []
    page = 1
    while True:
        data = query(emulator, pageSize="7", pageNum=str(page))
        seen += [r["announcementId"] for r in data["announcements"]]
        assert data["totalpages"] == -(-len(site.rows()) // 7)
        if not data["hasMore"]:
            break
        page += 1
    assert page == data["totalpages"]
    assert sorted(seen) == sorted(r["announcementId"] for r in site.rows())
    assert len(seen) == len(set(seen))


def test_newest_first_by_default_and_ascending_on_request(emulator: Emulator) -> None:
    rows = query(emulator, sortName="time", sortType="desc")["announcements"]
    times = [r["announcementTime"] for r in rows]
    assert times == sorted(times, reverse=True)
    rows = query(emulator, sortName="time", sortType="asc")["announcements"]
    times = [r["announcementTime"] for r in rows]
    assert times == sorted(times)


def test_page_101_silently_answers_page_1(emulator: Emulator) -> None:
    first = query(emulator, pageSize="5", pageNum="1")
    assert query(emulator, pageSize="5", pageNum="101")["announcements"] == first["announcements"]
    assert query(emulator, pageSize="5", pageNum="100")["announcements"] is None


def test_empty_result_has_null_announcements(emulator: Emulator) -> None:
    data = query(emulator, seDate="2020-01-01~2020-12-31")
    assert data["announcements"] is None
    assert data["totalAnnouncement"] == 0 and data["hasMore"] is False


def test_date_window_is_inclusive(emulator: Emulator) -> None:
    day = site.rows()[3]["date"]
    data = query(emulator, seDate=f"{day}~{day}")
    assert data["announcements"]
    assert all(r["adjunctUrl"].split("/")[1] == day for r in data["announcements"])
    in_2025 = query(emulator, seDate="2025-01-01~2025-12-31")["totalAnnouncement"]
    in_2026 = query(emulator, seDate="2026-01-01~2026-12-31")["totalAnnouncement"]
    assert in_2025 + in_2026 == len(site.rows()) and in_2025 > 0 and in_2026 > 0


def test_searchkey_filters_titles_and_is_highlighted_with_em(emulator: Emulator) -> None:
    data = query(emulator, searchkey="资产支持")
    expected = [r for r in site.rows() if "资产支持" in r["title"]]
    assert data["totalAnnouncement"] == len(expected) > 0
    assert all("<em>资产支持</em>" in r["announcementTitle"] for r in data["announcements"])
    plain = query(emulator, searchkey="资产支持", isHLtitle="false")
    assert all("<em>" not in r["announcementTitle"] for r in plain["announcements"])


def test_category_stock_and_plate_filters(emulator: Emulator) -> None:
    bonds = query(emulator, category="category_gszq_szsh")["announcements"]
    assert {r["announcementId"] for r in bonds} == {
        r["announcementId"] for r in site.rows() if r["category"] == "category_gszq_szsh"
    }
    # an unknown category falls back to the whole market, as reported for the real site
    assert query(emulator, category="category_nonsense")["totalAnnouncement"] == len(site.rows())
    stock = query(emulator, stock="002917,gssz0002917")["announcements"]
    assert stock and {r["secCode"] for r in stock} == {"002917"}
    sz = query(emulator, plate="sz;szmb")["announcements"]
    expected = {r["announcementId"] for r in site.rows() if r["plate"] == "sz"}
    assert sz and {r["announcementId"] for r in sz} == expected


def test_no_user_agent_is_forbidden(emulator: Emulator) -> None:
    body = urllib.parse.urlencode(FORM).encode()
    req = urllib.request.Request(f"{emulator.url}/www.cninfo.com.cn/new/hisAnnouncement/query", data=body)
    req.add_unredirected_header("User-Agent", "")  # urllib would otherwise send Python-urllib
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 403


def test_pdf_attachments(emulator: Emulator) -> None:
    by_kind = {r["pdf"]: r for r in site.rows()}
    ok = by_kind["ok"]
    status, data, ctype = get(f"{emulator.url}/static.cninfo.com.cn/{site.adjunct_url(ok)}")
    assert status == 200 and ctype == "application/pdf" and data.startswith(b"%PDF-")
    status, data, _ = get(f"{emulator.url}/static.cninfo.com.cn/{site.adjunct_url(by_kind['corrupt'])}")
    assert status == 200 and not data.startswith(b"%PDF")
    status, _, _ = get(f"{emulator.url}/static.cninfo.com.cn/{site.adjunct_url(by_kind['missing'])}")
    assert status == 404
    # the date folder must match the announcement's date
    status, _, _ = get(f"{emulator.url}/static.cninfo.com.cn/finalpage/2020-01-01/{ok['announcementId']}.PDF")
    assert status == 404


def test_adjunct_size_is_the_pdf_size_in_kb(emulator: Emulator) -> None:
    for row in query(emulator)["announcements"]:
        data = site.pdf_bytes(row["announcementId"])
        assert row["adjunctSize"] == (-(-len(data) // 1024) if data else 0)


def test_detail_page_links_the_pdf(emulator: Emulator) -> None:
    row = site.rows()[0]
    status, body, _ = get(
        f"{emulator.url}/www.cninfo.com.cn/new/disclosure/detail?stockCode={row['secCode']}"
        f"&announcementId={row['announcementId']}&orgId={row['orgId']}&announcementTime={row['date']}"
    )
    assert status == 200
    assert f"static.cninfo.com.cn/{site.adjunct_url(row)}" in body.decode()
    assert get(f"{emulator.url}/www.cninfo.com.cn/new/disclosure/detail?announcementId=1")[0] == 404
