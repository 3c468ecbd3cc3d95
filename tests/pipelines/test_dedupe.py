from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from xinpi.extractors import deals
from xinpi.extractors.deals import Extraction
from xinpi.items import ProjectItem


@pytest.fixture(autouse=True)
def one_mention_per_doc(monkeypatch):
    monkeypatch.setattr(
        deals, "extract_document",
        lambda doc_id, title, text, published_at=None: Extraction([{"deal_name": text}], []),
    )


def _rows(data_dir, sql):
    return duckdb.sql(sql.replace("DATA", str(data_dir))).fetchall()


def test_second_run_with_same_documents_writes_nothing(run, make_doc, data_dir):
    first = run(PARQUET_BATCH_SIZE=2)
    first.feed(*[make_doc(i) for i in range(5)])
    assert first.close()["xinpi/documents/new"] == 5
    second = run(PARQUET_BATCH_SIZE=2)
    second.feed(*[make_doc(i) for i in range(7)])  # two of them are new
    stats = second.close()
    assert (stats["xinpi/documents/seen"], stats["xinpi/documents/new"]) == (5, 2)
    assert "xinpi/documents/changed" not in stats
    dupes = _rows(
        data_dir, "select doc_id, count(*) from 'DATA/documents/**/*.parquet' group by 1 having count(*) > 1"
    )
    assert dupes == []
    assert _rows(data_dir, "select count(*) from 'DATA/documents/**/*.parquet'") == [(7,)]
    assert _rows(data_dir, "select count(*) from 'DATA/mentions/**/*.parquet'") == [(7,)]


def test_changed_content_is_a_new_version_next_to_the_old_one(run, make_doc, data_dir):
    r1 = run()
    r1.feed(make_doc(1, text="发行规模为3亿元。"))
    r1.close()
    r2 = run()
    r2.feed(make_doc(1, text="发行规模为3.5亿元(更正)。"))
    assert r2.close()["xinpi/documents/changed"] == 1
    r3 = run()  # both renderings seen before: no third version
    r3.feed(make_doc(1, text="发行规模为3亿元。"), make_doc(1, text="发行规模为3.5亿元(更正)。"))
    assert r3.close()["xinpi/documents/seen"] == 2
    versions = _rows(
        data_dir, "select version, text from 'DATA/documents/**/*.parquet' order by version"
    )
    assert versions == [(1, "发行规模为3亿元。"), (2, "发行规模为3.5亿元(更正)。")]
    mentions = _rows(data_dir, "select version, deal_name from 'DATA/mentions/**/*.parquet' order by 1")
    assert mentions == [(1, "发行规模为3亿元。"), (2, "发行规模为3.5亿元(更正)。")]


def test_same_document_twice_in_one_run_is_stored_once(run, make_doc, data_dir):
    r = run()
    out = r.feed(make_doc(1), make_doc(1), make_doc(1, text="新内容"))
    stats = r.close()
    assert [i["version"] for i in out] == [1, 2]
    counts = [stats[f"xinpi/documents/{k}"] for k in ("new", "seen", "changed")]
    assert counts == [1, 1, 1]
    assert _rows(data_dir, "select count(*) from 'DATA/documents/**/*.parquet'") == [(2,)]


def test_dedupe_is_per_source(run, make_doc, data_dir):
    r = run()
    r.feed(make_doc(1), make_doc(1, source="zqrb", doc_id="cninfo:1"))
    assert r.close()["xinpi/documents/new"] == 2


def _project(status, updated, **kw):
    return ProjectItem(
        register="sse", project_id="BN001", name="华泰-平安租赁第5期资产支持专项计划", status=status,
        updated_date=updated, planned_scale_yuan=Decimal("1900000000"), planned_scale_text="19",
        fetched_at=dt.datetime.now(dt.UTC), **kw,
    )


def test_project_rows_deduped_on_register_id_status_and_date(run, data_dir):
    r1 = run()
    r1.feed(_project("已受理", dt.date(2025, 4, 1)), _project("已受理", dt.date(2025, 4, 1)))
    assert r1.close()["xinpi/projects/new"] == 1
    r2 = run()
    r2.feed(_project("已受理", dt.date(2025, 4, 1)), _project("通过", dt.date(2025, 4, 20)))
    stats = r2.close()
    assert (stats["xinpi/projects/seen"], stats["xinpi/projects/new"]) == (1, 1)
    rows = _rows(data_dir, "select status, planned_scale_yuan from 'DATA/projects/**/*.parquet' order by 1")
    assert rows == [("已受理", Decimal("1900000000.00")), ("通过", Decimal("1900000000.00"))]
