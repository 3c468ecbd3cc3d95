"""Explicit Arrow schemas of every dataset, and the conversions from item values to column values.

Why explicit: a schema inferred from one batch drifts with the next one (a column that happened to be
all null becomes ``null`` type, an int becomes a double), and then files of one dataset no longer
read together. Every file of a dataset is written with the one schema below.

The hive partition keys (``source``, ``date``, ``register``) are ALSO stored as ordinary columns in
each file, with their real types (``date`` is ``date32``). So every engine agrees on their types
whether or not it parses the directory names, and a single file read on its own is still complete.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

SHANGHAI = ZoneInfo("Asia/Shanghai")

TS_SHANGHAI = pa.timestamp("us", tz="Asia/Shanghai")
TS_UTC = pa.timestamp("us", tz="UTC")
YUAN = pa.decimal128(20, 2)  # up to 10^18 yuan, to the fen
AMOUNT = pa.decimal128(28, 6)  # an amount in its own currency/unit, as the text gives it
SPAN = pa.list_(pa.int32())  # [start, end) offsets into title + "\n" + text
SPANS = pa.list_(SPAN)
STRINGS = pa.list_(pa.string())

DOCUMENTS = pa.schema(
    [
        ("source", pa.string()),
        ("date", pa.date32()),  # published date in Asia/Shanghai; the fetch date if unknown
        ("doc_id", pa.string()),
        ("version", pa.int32()),
        ("kind", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("published_at", TS_SHANGHAI),
        ("published_at_raw", pa.string()),
        ("fetched_at", TS_UTC),
        ("text", pa.string()),
        ("content_sha256", pa.string()),
        ("sec_code", pa.string()),
        ("sec_name", pa.string()),
        ("attachment_url", pa.string()),
        ("author", pa.string()),
        ("media_name", pa.string()),
        ("extra", pa.string()),  # JSON object
        ("n_mentions", pa.int32()),
        ("n_aggregates", pa.int32()),
        ("extract_error", pa.string()),  # null when extraction ran; the error otherwise
        ("run_id", pa.string()),
    ]
)

#: Keys of a mention dict that have their own column; any other key lands in ``extra`` (JSON).
MENTION_FIELDS: dict[str, pa.DataType] = {
    "deal_name": pa.string(),
    "aliases": STRINGS,
    "type": pa.string(),
    "asset_class": pa.string(),
    "scale_yuan": YUAN,
    "scale_text": pa.string(),
    "scale_unit": pa.string(),
    "scale_currency": pa.string(),
    "scale_amount": AMOUNT,
    "scale_qualifier": pa.string(),
    "issuers": STRINGS,
    "managers": STRINGS,
    "exchange": pa.string(),
    "event": pa.string(),
    "event_date": pa.date32(),
    "date_text": pa.string(),
    "name_span": SPAN,
    "scale_span": SPAN,
    "issuer_spans": SPANS,
    "manager_spans": SPANS,
    "evidence": pa.string(),
    "evidence_span": SPAN,
}

#: Keys of an aggregate dict (a statement about many deals: a count, a total, a share).
AGGREGATE_FIELDS: dict[str, pa.DataType] = {
    "what": pa.string(),  # "amount" | "count" | "share"
    "value": AMOUNT,  # yuan for amounts
    "unit": pa.string(),
    "text": pa.string(),  # the statement's figure as written
    "scope": STRINGS,  # scope words, e.g. ["累计", "年内"]
    "span": SPAN,
}

_FACT_HEAD = [
    ("source", pa.string()),
    ("date", pa.date32()),  # the document's partition date
    ("doc_id", pa.string()),
    ("version", pa.int32()),  # the document version these facts were extracted from
    ("published_at", TS_SHANGHAI),
]
_FACT_TAIL = [("extra", pa.string()), ("run_id", pa.string())]

MENTIONS = pa.schema(
    [*_FACT_HEAD, ("mention_index", pa.int32()), *MENTION_FIELDS.items(), *_FACT_TAIL]
)
AGGREGATES = pa.schema(
    [*_FACT_HEAD, ("aggregate_index", pa.int32()), *AGGREGATE_FIELDS.items(), *_FACT_TAIL]
)

FAILURES = pa.schema(
    [
        ("source", pa.string()),
        ("date", pa.date32()),  # the failure's date in Asia/Shanghai
        ("url", pa.string()),
        ("stage", pa.string()),
        ("error", pa.string()),
        ("http_status", pa.int32()),
        ("at", TS_UTC),
        ("run_id", pa.string()),
    ]
)

PROJECTS = pa.schema(
    [
        ("register", pa.string()),
        ("project_id", pa.string()),
        ("name", pa.string()),
        ("type", pa.string()),
        ("planned_scale_yuan", YUAN),
        ("planned_scale_text", pa.string()),
        ("issuer", pa.string()),
        ("manager", pa.string()),
        ("status", pa.string()),
        ("status_code", pa.string()),
        ("accepted_date", pa.date32()),
        ("updated_date", pa.date32()),
        ("url", pa.string()),
        ("fetched_at", TS_UTC),
        ("extra", pa.string()),
        ("run_id", pa.string()),
    ]
)

#: dataset folder name -> (schema, hive partition columns, in directory order)
DATASETS: dict[str, tuple[pa.Schema, tuple[str, ...]]] = {
    "documents": (DOCUMENTS, ("source", "date")),
    "mentions": (MENTIONS, ("source", "date")),
    "aggregates": (AGGREGATES, ("source", "date")),
    "failures": (FAILURES, ("source", "date")),
    "projects": (PROJECTS, ("register",)),
}


# --- value conversions (tolerant: a value that does not fit becomes null, never an exception) ----


def to_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def to_int(value: Any) -> int | None:
    if type(value) is int:  # the usual case, ahead of the checks below (bool is not int here)
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def to_decimal(value: Any, places: int) -> Decimal | None:
    """Exact decimal rounded to ``places``; floats go through ``str`` so 1.45e8 stays 145000000."""
    if value is None or isinstance(value, bool):
        return None
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite():
        return None
    return d.quantize(_quantum(places), rounding=ROUND_HALF_UP)


@functools.cache
def _quantum(places: int) -> Decimal:
    """``Decimal("0.01")`` for 2 places: built once per scale, not for every amount of every row."""
    return Decimal(1).scaleb(-places)


def to_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (value.astimezone(SHANGHAI) if value.tzinfo else value).date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def to_datetime(value: Any, assume: dt.tzinfo) -> dt.datetime | None:
    """A tz-aware datetime; a naive one is taken to be in ``assume``."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        try:
            value = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
    return value if value.tzinfo else value.replace(tzinfo=assume)


def to_strings(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    # list/tuple first: the extractors' own shapes, without the (slow) abstract-class check
    if isinstance(value, list | tuple) or isinstance(value, Iterable):
        return [str(v) for v in value if v is not None]
    return None


def to_span(value: Any) -> list[int] | None:
    """``[start, end]`` from a list/tuple of two ints (or a dict with start/end); null otherwise."""
    # list/tuple (the extractors' shapes) are ruled out before the (slow) abstract Mapping check
    if not isinstance(value, list | tuple) and isinstance(value, Mapping):
        value = (value.get("start"), value.get("end"))
    if isinstance(value, list | tuple) and len(value) == 2:
        a, b = to_int(value[0]), to_int(value[1])
        if a is not None and b is not None:
            return [a, b]
    return None


def to_spans(value: Any) -> list[list[int]] | None:
    if not isinstance(value, list | tuple):
        return None
    spans = [to_span(v) for v in value]
    return [s for s in spans if s is not None]


def to_json(value: Any) -> str | None:
    if value is None or value == {}:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def convert(value: Any, type_: pa.DataType) -> Any:
    """Coerce one value to what Arrow expects for ``type_`` (null if it cannot)."""
    if value is None:  # every converter maps None to None
        return None
    entry = _BY_TYPE_ID.get(id(type_))
    if entry is None or entry[0] is not type_:
        entry = _BY_TYPE_ID[id(type_)] = (type_, _converter(type_))
    return entry[1](value)


#: id(type) -> (type, converter). Hashing an Arrow type (what lru_cache does on every call) costs
#: more than most conversions; the schema's types are long-lived objects, so their identity is
#: the cheap key (the type is kept in the entry, so an id is never reused while it is cached).
_BY_TYPE_ID: dict[int, tuple[pa.DataType, Callable[[Any], Any]]] = {}


def typed_row(dataset: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` with every column of ``dataset`` converted to its Arrow type (missing: null)."""
    return {name: convert(row.get(name), type_) for name, type_ in column_types(dataset)}


@functools.cache
def column_types(dataset: str) -> tuple[tuple[str, pa.DataType], ...]:
    """(name, type) of each column of ``dataset``, in schema order, looked up once."""
    schema = DATASETS[dataset][0]
    return tuple((f.name, f.type) for f in schema)


@functools.lru_cache(maxsize=256)
def _converter(type_: pa.DataType) -> Callable[[Any], Any]:
    """The conversion for one Arrow type, looked up once per type, not per cell.

    Why: this runs for every cell of every row (~60 per document), and comparing Arrow types
    (``type_ == SPAN`` ...) on each call cost more than most of the conversions themselves."""
    if type_ == SPAN:
        return to_span
    if type_ == SPANS:
        return to_spans
    if type_ == STRINGS:
        return to_strings
    if pa.types.is_decimal(type_):
        return functools.partial(to_decimal, places=type_.scale)
    if pa.types.is_date32(type_):
        return to_date
    if pa.types.is_timestamp(type_):
        return functools.partial(to_datetime, assume=ZoneInfo(type_.tz) if type_.tz else dt.UTC)
    if pa.types.is_integer(type_):
        return to_int
    if pa.types.is_boolean(type_):
        return bool
    return to_str


def fact_row(
    fact: Mapping[str, Any], fields: Mapping[str, pa.DataType], row: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One mention/aggregate dict as a row: known keys typed, missing keys null, the rest JSON.

    ``row``: a dict to fill (the document's columns every fact row repeats), so that the writer
    builds one dict per fact rather than merging two."""
    row = {} if row is None else row
    columns, used = _fact_plan(fields)
    for name, alias, conv in columns:
        value = fact.get(name)
        if value is None and alias is not None:
            value = fact.get(alias)
            used = used | {alias}  # read in place of the column: not "rest"
        row[name] = None if value is None else conv(value)
    # most facts hold only known keys: one set comparison instead of a look at every key
    rest = {} if fact.keys() <= used else {k: v for k, v in fact.items() if k not in used}
    extra = fact.get("extra")
    if extra is not None and isinstance(extra, Mapping):
        rest = {**extra, **rest}
    row["extra"] = to_json(rest)
    return row


def _fact_plan(fields: Mapping[str, pa.DataType]) -> tuple[
        tuple[tuple[str, str | None, Callable[[Any], Any]], ...], frozenset[str]]:
    """(column, alias, converter) per column, and the keys that are not "rest", for one field map.

    Worked out once per map (keyed by identity, like :func:`convert`): a document has several
    facts, each with ~15 columns, and this ran per cell."""
    entry = _FACT_PLANS.get(id(fields))
    if entry is None or entry[0] is not fields:
        columns = tuple((name, _FIELD_ALIASES.get(name), _converter(type_)) for name, type_ in fields.items())
        used = frozenset(fields) | _FACT_OWNED
        entry = _FACT_PLANS[id(fields)] = (fields, columns, used)
    return entry[1], entry[2]


_FACT_PLANS: dict[int, tuple[Mapping[str, pa.DataType], Any, frozenset[str]]] = {}

#: Columns the pipeline fills from the document, whatever the extractor says.
_FACT_OWNED = {"doc_id", "source", "date", "version", "published_at", "run_id", "extra"}
#: Spellings of a key an extractor may use instead of the column name (the gold corpus says "name").
_FIELD_ALIASES = {"deal_name": "name", "text": "value_text"}
