"""sse_projects over real HTTP against the emulator: register fields, paging, window, status changes."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from importlib import resources

import pytest

from xinpi.emulator.sites import sse
from xinpi.spiders.sse_projects import DEFAULT_PROJECT_TYPES, register_date, scale_yuan

QUERY = "query.sse.com.cn"
CODES = json.loads(resources.files("xinpi.spiders").joinpath("data", "sse_codes.json").read_text("utf-8"))


def status_day(row):
    return row["PUBLISH_DATE"] if row["PUBLISH_DATE"] != "-" else row["ACCEPT_DATE"]


def expected(since: str, until: str, types=None, as_of=None):
    return {
        r["BOND_NUM"]: r
        for r in sse.register_rows(as_of)
        if (types is None or r["BOND_TYPE"] in types) and since <= status_day(r) <= until
    }


@pytest.fixture
def as_of():
    yield sse.set_as_of
    sse.set_as_of(None)


def test_register_rows_in_the_window_with_their_fields(crawl, emulator):
    result = crawl(
        "sse_projects",
        args={"since": "2025-08-01", "until": "2025-08-15"},
        settings={"XINPI_SSE_PROJECT_PAGE_SIZE": 2},
    )
    assert result.returncode == 0, result.log[-2000:]
    items = {i["project_id"]: i for i in result.items}
    want = expected("2025-08-01", "2025-08-15")
    assert len(want) >= 8
    assert sorted(items) == sorted(want) and len(result.items) == len(items)
    # one chain without a BOND_TYPE filter: every page of the whole register was read (2 rows a page)
    assert DEFAULT_PROJECT_TYPES == []
    assert len({r["BOND_TYPE"] for r in want.values()}) >= 3  # ABS and bond tracks alike
    listing = [r for r in emulator.requests if r.host == QUERY]
    assert sorted(int(r.query["pageHelp.pageNo"][0]) for r in listing) == list(
        range(1, math.ceil(len(sse.register_rows()) / 2) + 1)
    )
    assert all("BOND_TYPE" not in r.query for r in listing)
    for num, row in want.items():
        item = items[num]
        assert item["register"] == "sse" and item["name"] == row["AUDIT_NAME"]
        assert item["type"] == CODES["bond_type"][row["BOND_TYPE"]]
        assert item["status"] == CODES["audit_status"][row["AUDIT_STATUS"]]
        assert item["status_code"] == row["AUDIT_STATUS"]
        assert item["issuer"] == row["FULL_NAME"] and item["manager"] == row["WRITER_NAME"]
        assert item["planned_scale_text"] == row["PLAN_ISSUE_AMOUNT"]
        if row["PLAN_ISSUE_AMOUNT"] == "-":
            assert item["planned_scale_yuan"] is None
        else:
            assert Decimal(item["planned_scale_yuan"]) == Decimal(row["PLAN_ISSUE_AMOUNT"]) * 100_000_000
        assert item["accepted_date"] == (None if row["ACCEPT_DATE"] == "-" else row["ACCEPT_DATE"])
        assert item["updated_date"] == (None if row["PUBLISH_DATE"] == "-" else row["PUBLISH_DATE"])
        assert item["url"].endswith(f"/bond.sse.com.cn/bridge/information/index_detail.shtml?bound_id={num}")
        assert item["extra"]["SEQ"] == row["SEQ"]
    assert items["24530"]["extra"]["sub_status"] == "承销商/管理人超期中止"
    assert Decimal(items["24530"]["planned_scale_yuan"]) == Decimal("880000000")


def test_a_status_change_lands_as_a_second_row(crawl, emulator, as_of, tmp_path):
    as_of(dt.date(2025, 8, 5))
    early = crawl("sse_projects", args={"since": "2025-08-01", "until": "2025-08-05"}, workdir=tmp_path / "a")
    as_of(dt.date(2025, 8, 25))
    late = crawl("sse_projects", args={"since": "2025-08-16", "until": "2025-08-25"}, workdir=tmp_path / "b")
    assert early.returncode == late.returncode == 0
    first = {i["project_id"]: i for i in early.items}
    second = {i["project_id"]: i for i in late.items}
    assert (first["25103"]["status"], first["25103"]["updated_date"]) == ("已受理", "2025-08-04")
    assert (second["25103"]["status"], second["25103"]["updated_date"]) == ("通过", "2025-08-20")
    assert first["25103"]["name"] == second["25103"]["name"]
    assert sorted(first) == sorted(expected("2025-08-01", "2025-08-05", as_of=dt.date(2025, 8, 5)))
    assert sorted(second) == sorted(expected("2025-08-16", "2025-08-25", as_of=dt.date(2025, 8, 25)))


def test_types_setting_whole_register_and_500_retry(crawl, emulator):
    emulator.add_fault("status", host=QUERY, status=500, times=1)
    result = crawl(
        "sse_projects",
        args={"since": "2024-01-01", "until": "2024-01-31"},  # no status dates in here
        settings={"XINPI_SSE_PROJECT_TYPES": ["4", "1"], "XINPI_SSE_PROJECTS_IN_WINDOW": False},
    )
    assert result.returncode == 0 and result.failures() == []
    statuses = [r.status for r in emulator.requests if r.host == QUERY]
    assert sorted(statuses) == [200, 200, 500]
    want = {r["BOND_NUM"]: r for r in sse.register_rows() if r["BOND_TYPE"] in ("4", "1")}
    assert len(want) >= 2
    assert sorted((i["project_id"], i["type"]) for i in result.items) == sorted(
        (n, CODES["bond_type"][r["BOND_TYPE"]]) for n, r in want.items()
    )
    assert "REIT" in {i["type"] for i in result.items}


def test_foreign_referer_and_garbage_are_recorded(crawl, emulator):
    emulator.add_fault("garbage", host=QUERY, times=-1)
    result = crawl(
        "sse_projects",
        args={"since": "2025-08-01", "until": "2025-08-15"},
        settings={"XINPI_SSE_PROJECT_TYPES": ["2"]},
    )
    emulator.clear()
    refused = crawl(
        "sse_projects",
        args={"since": "2025-08-01", "until": "2025-08-15"},
        settings={"XINPI_SSE_PROJECT_TYPES": ["2"], "XINPI_SSE_REFERER": "http://evil.example/"},
    )
    assert result.returncode == refused.returncode == 0
    assert [(f["stage"], f["http_status"]) for f in result.failures()] == [("parse", 200)]
    assert [f["stage"] for f in refused.failures()] == ["fetch"] and "系统繁忙" in refused.failures()[0][
        "error"
    ]
    assert [i for i in result.items + refused.items if "project_id" in i] == []


@pytest.mark.parametrize(
    "text,yuan",
    [
        ("19", Decimal("1900000000")),
        ("8.8", Decimal("880000000")),
        ("0.35", Decimal("35000000")),
        ("1,200", Decimal("120000000000")),
        ("-", None),
        ("", None),
        (None, None),
        ("待定", None),
        ("-3", None),
        ("NaN", None),
    ],
)
def test_scale_yuan(text, yuan):
    assert scale_yuan(text) == yuan


def test_register_date_forms():
    assert register_date("2020-07-01") == dt.date(2020, 7, 1)
    assert register_date("-") is None and register_date(None) is None
    ms = int(dt.datetime(2025, 8, 12, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp() * 1000)
    assert register_date({"time": ms}) == dt.date(2025, 8, 12)  # Beijing date, not UTC's 08-11
