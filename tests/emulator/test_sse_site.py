"""The emulated SSE gateway over real HTTP: error shapes, JSONP, filters, paging, the register toggle."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest

from xinpi.emulator.fixtures import load
from xinpi.emulator.sites import sse

BOND_REFERER_PATH = "/bond.sse.com.cn/disclosure/announ/ltb"
ERROR = {"success": "false", "error": "系统繁忙...", "errorType": "ExceptionInterceptor"}


def fetch(
    emulator,
    path: str,
    params: dict[str, Any] | None = None,
    referer: str | None = "default",
    host: str = "query.sse.com.cn",
) -> tuple[int, str, str]:
    url = f"{emulator.url}/{host}{path}" + (f"?{urlencode(params)}" if params else "")
    headers = {}
    if referer == "default":
        headers["Referer"] = emulator.url + BOND_REFERER_PATH
    elif referer:
        headers["Referer"] = referer
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode("utf-8", "replace")


def bond_params(**kw: Any) -> dict[str, Any]:
    return {
        "sqlId": "BS_ZQ_GGLL",
        "isPagination": "true",
        "type": "inParams",
        "sseDate": "2025-08-01 00:00:00",
        "sseDateEnd": "2025-08-15 23:59:59",
        "bondType": "",
        "pageHelp.pageNo": 1,
        "pageHelp.pageSize": 50,
        **kw,
    }


def get_json(emulator, params: dict[str, Any], **kw: Any) -> dict[str, Any]:
    status, _, body = fetch(emulator, "/commonSoaQuery.do", params, **kw)
    assert status == 200
    return json.loads(body)


@pytest.mark.parametrize("referer", [None, "https://www.example.com/", "https://query.sse.com.cn/"])
def test_bond_sqlids_refuse_a_foreign_referer_with_the_error_object(emulator, referer):
    for sql_id in ("BS_ZQ_GGLL", "ZQ_XMLB"):
        assert get_json(emulator, bond_params(sqlId=sql_id), referer=referer) == ERROR


@pytest.mark.parametrize(
    "referer", ["https://www.sse.com.cn/", "https://bond.sse.com.cn/disclosure/announ/ltb"]
)
def test_real_sse_referers_are_accepted(emulator, referer):
    assert "pageHelp" in get_json(emulator, bond_params(), referer=referer)


@pytest.mark.parametrize(
    "broken",
    [
        {"sqlId": ""},
        {"sqlId": "NO_SUCH_SQL"},
        {"pageHelp.pageNo": ""},
        {"pageHelp.pageSize": "x"},
        {"sseDate": "yesterday"},
        {"sseDateEnd": "2025-13-40 23:59:59"},
    ],
)
def test_missing_or_bad_parameters_get_the_error_object(emulator, broken):
    assert get_json(emulator, bond_params(**broken)) == ERROR


@pytest.mark.parametrize(
    "path",
    ["/commonSoaQuery.do", "/commonQuery.do", "/sseQuery/commonSoaQuery.do", "/sseQuery/commonQuery.do"],
)
def test_every_gateway_path_answers(emulator, path):
    status, _, body = fetch(emulator, path, bond_params())
    assert status == 200 and json.loads(body)["pageHelp"]["total"] > 0


def test_jsonp_wrapper_only_when_a_callback_is_named(emulator):
    status, ctype, body = fetch(emulator, "/commonSoaQuery.do", bond_params(jsonCallBack="jsonpCallback42"))
    assert status == 200 and "javascript" in ctype
    assert body.startswith("jsonpCallback42(") and body.endswith(")")
    inner = json.loads(body[len("jsonpCallback42(") : -1])
    assert inner["jsonCallBack"] == "jsonpCallback42"
    assert inner == {**get_json(emulator, bond_params()), "jsonCallBack": "jsonpCallback42"}


def test_envelope_keys_and_row_fields(emulator):
    page = get_json(emulator, bond_params())
    assert {
        "actionErrors",
        "actionMessages",
        "errorMessages",
        "errors",
        "fieldErrors",
        "isPagination",
        "jsonCallBack",
        "locale",
        "pageHelp",
        "result",
    } <= set(page)
    assert {
        "beginPage",
        "cacheSize",
        "data",
        "endDate",
        "endPage",
        "objectResult",
        "pageCount",
        "pageNo",
        "pageSize",
        "searchDate",
        "sort",
        "startDate",
        "total",
    } == set(page["pageHelp"])
    row = page["result"][0]
    assert {
        "securityCode",
        "securityAbbr",
        "sseDate",
        "title",
        "url",
        "bulletinType",
        "bulletinHeading",
        "orgBulletinType",
        "orgBulletinTypeDesc",
        "bulletinId",
        "orgBulletinId",
        "orgFileType",
        "bulletinYear",
        "createTime",
        "bondType",
        "fileName",
        "keyWord",
    } == set(row)
    assert row["url"].startswith("/disclosure/bond/announcement/")


def test_date_window_is_inclusive_and_filters(emulator):
    rows = get_json(emulator, bond_params(sseDate="2025-08-06 00:00:00", sseDateEnd="2025-08-08 23:59:59"))[
        "result"
    ]
    expected = {r["bulletinId"] for r in load("sse_bond") if "2025-08-06" <= r["sseDate"] <= "2025-08-08"}
    assert {r["bulletinId"] for r in rows} == expected
    assert {r["sseDate"] for r in rows} == {"2025-08-06", "2025-08-07", "2025-08-08"}


def test_bond_type_is_a_comma_list_and_other_filters_apply(emulator):
    corp = "CORPORATE_BOND_BULLETIN,COMPANY_BOND_BULLETIN"
    rows = get_json(emulator, bond_params(bondType=corp))["result"]
    assert rows and {r["bondType"] for r in rows} == {"CORPORATE_BOND_BULLETIN", "COMPANY_BOND_BULLETIN"}
    abs_rows = get_json(emulator, bond_params(bondType="CORPORATE_ASSET_BOND_BULLETIN"))["result"]
    assert abs_rows and {r["bondType"] for r in abs_rows} == {"CORPORATE_ASSET_BOND_BULLETIN"}
    assert not {r["bulletinId"] for r in rows} & {r["bulletinId"] for r in abs_rows}
    titled = get_json(emulator, bond_params(title="知识产权"))["result"]
    assert titled and all("知识产权" in r["title"] for r in titled)
    one = get_json(emulator, bond_params(securityCode="265418"))["result"]
    assert [r["securityCode"] for r in one] == ["265418"]


def test_default_order_is_newest_first(emulator):
    dates = [r["sseDate"] for r in get_json(emulator, bond_params())["result"]]
    assert dates == sorted(dates, reverse=True) and len(set(dates)) > 3


def test_pages_partition_the_result_set(emulator):
    first = get_json(emulator, bond_params(**{"pageHelp.pageSize": 4}))
    total, count = first["pageHelp"]["total"], first["pageHelp"]["pageCount"]
    assert count == -(-total // 4) and count > 1
    seen: list[str] = []
    for page_no in range(1, count + 2):
        page = get_json(emulator, bond_params(**{"pageHelp.pageSize": 4, "pageHelp.pageNo": page_no}))
        assert page["pageHelp"]["pageNo"] == page_no and page["pageHelp"]["total"] == total
        seen += [r["bulletinId"] for r in page["result"]]
    assert len(seen) == len(set(seen)) == total  # the page past the end is empty


def project_params(**kw: Any) -> dict[str, Any]:
    return {
        "sqlId": "ZQ_XMLB",
        "isPagination": "true",
        "key": "",
        "pageHelp.pageNo": 1,
        "pageHelp.pageSize": 100,
        **kw,
    }


def test_register_rows_sit_in_result_and_page_data_once_per_project(emulator):
    page = get_json(emulator, project_params())
    assert page["result"] == page["pageHelp"]["data"]
    nums = [r["BOND_NUM"] for r in page["result"]]
    assert len(nums) == len(set(nums)) == len({r["BOND_NUM"] for r in load("sse_projects")})
    assert [r["NUM"] for r in page["result"]] == [str(i) for i in range(1, len(nums) + 1)]
    assert all(not k.startswith("_") for r in page["result"] for k in r)


def test_register_filters_by_type_and_keyword(emulator):
    abs_rows = get_json(emulator, project_params(BOND_TYPE="2"))["result"]
    assert abs_rows and {r["BOND_TYPE"] for r in abs_rows} == {"2"}
    keyed = get_json(emulator, project_params(key="供应链"))["result"]
    assert keyed and all("供应链" in r["AUDIT_NAME"] for r in keyed)


def test_register_shows_status_as_of_the_toggle_date(emulator):
    def status_of(num: str) -> str | None:
        rows = get_json(emulator, project_params())["result"]
        return next((r["AUDIT_STATUS"] for r in rows if r["BOND_NUM"] == num), None)

    try:
        sse.set_as_of(dt.date(2025, 8, 5))
        assert status_of("25103") == "1"  # 已受理
        assert status_of("25140") is None  # not filed yet
        sse.set_as_of(dt.date(2025, 8, 12))
        assert status_of("25103") == "2"  # 已反馈
        sse.set_as_of(None)
        assert status_of("25103") == "4"  # 通过
    finally:
        sse.set_as_of(None)


@pytest.mark.parametrize("host", ["www.sse.com.cn", "static.sse.com.cn"])
def test_pdfs_are_served_on_the_static_hosts_only(emulator, host):
    row = next(r for r in load("sse_bond") if r["_pdf"] == "ok")
    status, ctype, _ = fetch(emulator, row["url"], referer=None, host=host)
    assert (status, ctype) == (200, "application/pdf")
    assert fetch(emulator, row["url"], referer=None, host="query.sse.com.cn")[0] == 404
    missing = next(r for r in load("sse_bond") if r["_pdf"] == "missing")
    assert fetch(emulator, missing["url"], referer=None, host=host)[0] == 404
