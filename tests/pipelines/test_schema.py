"""Column conversions: the extractors' usual shapes and every odd value give the same typed cells."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

from xinpi.pipelines.schema import (
    AGGREGATE_FIELDS,
    MENTION_FIELDS,
    fact_row,
    to_decimal,
    to_int,
    to_span,
    to_spans,
    to_strings,
)


def test_spans_from_lists_tuples_and_dicts_and_nothing_from_the_rest():
    assert to_span([3, 9]) == [3, 9]
    assert to_span((3, 9)) == [3, 9]
    assert to_span({"start": 3, "end": 9}) == [3, 9]
    assert to_span(["3", 9.0]) == [3, 9]
    assert to_span([True, 9]) is None  # a bool is not an offset
    assert to_span([3, None]) is None
    assert to_span([1, 2, 3]) is None
    assert to_spans([[1, 2], "x", (4, 5)]) == [[1, 2], [4, 5]]
    span = [3, 9]
    assert to_span(span) is not span  # a row never shares a list with the fact it came from


def test_string_lists_drop_nulls_and_stringify_other_values():
    assert to_strings(["甲", None, 3]) == ["甲", "3"]
    assert to_strings(("甲", "乙")) == ["甲", "乙"]
    assert to_strings("甲") == ["甲"]
    assert to_strings(5) is None


def test_ints_and_decimals_are_exact_and_reject_bools():
    assert to_int(7) == 7 and to_int("7") == 7
    assert to_int(True) is None and to_int("x") is None
    assert to_decimal(Decimal("1.005"), 2) == Decimal("1.01")  # half up, not banker's
    assert str(to_decimal(Decimal("3"), 6)) == "3.000000"
    assert to_decimal(1.45e8, 2) == Decimal("145000000.00")
    assert to_decimal("1,200", 2) == Decimal("1200.00")
    assert to_decimal(False, 2) is None and to_decimal(Decimal("NaN"), 2) is None


def test_fact_row_types_known_keys_reads_aliases_and_keeps_the_rest_as_json():
    head = {"source": "zqrb", "mention_index": 0}
    row = fact_row(
        {"name": "某资产支持专项计划", "scale_yuan": Decimal("3.155E8"), "name_span": [1, 9],
         "issuers": ["甲公司"], "doc_id": "ignored", "note": "x", "extra": {"k": 1}},
        MENTION_FIELDS,
        head,
    )
    assert row is head and row["source"] == "zqrb"
    assert row["deal_name"] == "某资产支持专项计划"  # the gold corpus's "name" stands for the column
    assert row["scale_yuan"] == Decimal("315500000.00")
    assert row["name_span"] == [1, 9] and row["issuers"] == ["甲公司"]
    assert row["managers"] is None and row["scale_span"] is None
    assert row["extra"] == '{"k": 1, "note": "x"}'
    assert fact_row({"what": "count", "value": Decimal(6), "span": [0, 2]}, AGGREGATE_FIELDS)["extra"] is None


def test_rows_of_the_usual_shapes_build_a_table_with_the_schema_types():
    row = fact_row({"what": "share", "value": Decimal("42.22"), "unit": "%", "text": "42.22%",
                    "scope": ["占"], "span": [5, 11]}, AGGREGATE_FIELDS)
    schema = pa.schema([*AGGREGATE_FIELDS.items(), ("extra", pa.string())])
    table = pa.Table.from_pylist([row], schema=schema)
    assert table.column("value")[0].as_py() == Decimal("42.220000")
    assert table.column("span")[0].as_py() == [5, 11]
