"""What analysts run: duckdb, polars and pyarrow read every dataset, with the same column types."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from xinpi.items import FailureItem, ProjectItem
from xinpi.pipelines.schema import DATASETS

CORPUS = Path(__file__).resolve().parents[1] / "data" / "dev.jsonl"  # the repo copy of the dev corpus


@pytest.fixture
def landed(run, make_doc, data_dir) -> Path:
    """A run of the real chain (real extractor) over a few labelled corpus documents."""
    docs = [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines()[:6]]
    r = run(PARQUET_BATCH_SIZE=4)
    r.feed(*[
        make_doc(d["doc_id"], title=d["title"], text=d["text"],
                 published_at=dt.datetime.fromisoformat(d["published_at"]) if d["published_at"] else None)
        for d in docs
    ])
    r.feed(FailureItem(source="cninfo", url="http://x", stage="parse", error="bad JSON",
                       at=dt.datetime.now(dt.UTC)))
    r.feed(ProjectItem(register="szse", project_id="2025001", name="某ABS", status="已受理",
                       planned_scale_yuan=Decimal("500000000"), updated_date=dt.date(2025, 4, 1)))
    stats = r.close()
    assert stats["xinpi/mentions"] > 0, "the corpus documents name deals"
    return data_dir


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_duckdb_polars_pyarrow_agree(landed, dataset):
    glob = f"{landed}/{dataset}/**/*.parquet"
    schema, keys = DATASETS[dataset]
    rel = duckdb.sql(f"select * from read_parquet('{glob}')")
    assert rel.columns == schema.names  # hive keys are file columns too: no extra, no clash
    duck = rel.to_arrow_table()
    polars_df = pl.scan_parquet(glob).collect()
    arrow = ds.dataset(landed / dataset, format="parquet").to_table()
    assert duck.num_rows == polars_df.height == arrow.num_rows > 0
    assert arrow.schema.equals(schema)
    if "date" in keys:  # one type for the partition key everywhere: DATE
        assert duck.schema.field("date").type == pa.date32()
        assert polars_df.schema["date"] == pl.Date


def test_documented_queries_run(landed):
    glob = f"{landed}/mentions/**/*.parquet"
    by_day = duckdb.sql(
        f"select date, count(*) n, sum(scale_yuan) yuan from read_parquet('{glob}') "
        "where date >= DATE '2022-01-01' group by date order by date"
    ).fetchall()
    assert sum(n for _, n, _ in by_day) == duckdb.sql(f"select count(*) from '{glob}'").fetchall()[0][0]
    # the hive path value as text, for those who prefer it
    as_text = duckdb.sql(
        f"select distinct date from read_parquet('{glob}', hive_types={{'date': 'VARCHAR'}})"
    ).fetchall()
    assert as_text  # duckdb reads the file column; no type clash
    joined = (
        pl.scan_parquet(glob)
        .join(pl.scan_parquet(f"{landed}/documents/**/*.parquet"), on=["doc_id", "version"])
        .filter(pl.col("date") >= dt.date(2022, 1, 1))
        .select("doc_id", "deal_name", "scale_yuan", "title")
        .collect()
    )
    assert joined.height == duckdb.sql(f"select count(*) from '{glob}'").fetchall()[0][0]
    spans = duckdb.sql(
        f"select m.deal_name, substr(d.title || chr(10) || d.text, m.name_span[1] + 1, "
        f"m.name_span[2] - m.name_span[1]) from '{glob}' m "
        f"join '{landed}/documents/**/*.parquet' d using (doc_id, version) where m.name_span is not null"
    ).fetchall()
    assert spans and all(name.replace("\n", "") == text.replace("\n", "") for name, text in spans[:20])


def test_examples_in_schema_doc_run(landed, monkeypatch):
    """The queries the README's schema reference shows analysts must keep working on what lands."""
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
    doc = readme[readme.index("### Examples"):readme.index("### The `deals/` table")]
    monkeypatch.chdir(landed.parent)  # the examples use the relative path data/
    [sql] = re.findall(r"```sql\n(.*?)```", doc, re.S)
    assert duckdb.sql(sql).fetchall()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, "schema.md", "exec"), {})
