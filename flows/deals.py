"""The ``deals/`` table: one row per deal, rebuilt from what the store holds (register rows + mentions).

Why rebuilt rather than updated in place: a deal's row depends on every source that names it (a news
story today can merge two names seen last month), and the inputs are small (a few mentions per
document, one row per register status). So each rebuild recomputes the whole table from ``projects/``,
``mentions/`` and ``documents/``, but only *writes* when the content changed: the file is named by the
SHA-256 of its bytes and a rebuild that produces the same bytes touches nothing (same file, same
mtime). A changed table replaces the previous file through the journalled
:func:`xinpi.flows.compact.replace_files`, so a reader always sees exactly one deals file.

Identity: names are compared in normalised form (:mod:`xinpi.flows.dealkey`); a mention's name and its
aliases, and a register project's names, are unioned, so every spelling of a deal lands in one row.
Syndicated copies of a news story (``documents.extra.story_id``) count once: one *witness* per story.
Only the latest version of each document counts. Register rows are authoritative for name, planned
scale, issuer, manager and status; mentions fill what the register lacks, and disagreements (scale
beyond 0.5 %, issuers with nothing in common) are flagged in ``conflict`` / ``conflicts``.
Every column is described in the README (schema reference, the deals table).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xinpi.config import configure_offline_prefect
from xinpi.flows.compact import recover_all, replace_files
from xinpi.flows.dealkey import (
    UnionFind,
    deal_id,
    normalise_name,
    normalise_party,
    rules,
    stage,
    usable_alias,
)
from xinpi.pipelines.schema import SHANGHAI, SPAN, STRINGS, TS_SHANGHAI, YUAN
from xinpi.pipelines.store import COMPRESSION, DataStore, new_run_id, safe_name

configure_offline_prefect()

from prefect import flow, get_run_logger  # noqa: E402

DATASET = "deals"
#: Relative difference beyond which two scales of one deal disagree.
SCALE_TOLERANCE = Decimal("0.005")
#: Shortest party name taken as an abbreviation of a longer one (shorter ones match too much).
MIN_ABBREVIATION = 4

STATUS_ENTRY = pa.struct(
    [("stage", pa.string()), ("status", pa.string()), ("date", pa.date32()), ("source", pa.string())]
)
CONFLICT = pa.struct([("field", pa.string()), ("value", pa.string()), ("source", pa.string())])
PROVENANCE = pa.struct(
    [
        ("kind", pa.string()),  # announcement | news | ... | register
        ("source", pa.string()),  # spider name, or the register (sse, szse)
        ("doc_id", pa.string()),
        ("version", pa.int32()),
        ("mention_index", pa.int32()),
        ("url", pa.string()),
        ("published_at", TS_SHANGHAI),
        ("story_id", pa.string()),
        ("counted", pa.bool_()),  # false for a syndicated copy of a story already counted
        ("deal_name", pa.string()),
        ("name_span", SPAN),
        ("scale_yuan", YUAN),
        ("scale_text", pa.string()),
        ("scale_span", SPAN),
        ("event", pa.string()),
        ("register", pa.string()),
        ("project_id", pa.string()),
        ("status", pa.string()),
        ("status_date", pa.date32()),
    ]
)

DEALS = pa.schema(
    [
        ("deal_id", pa.string()),
        ("name", pa.string()),
        ("name_source", pa.string()),  # register | mentions
        ("aliases", STRINGS),
        ("type", pa.string()),
        ("asset_class", pa.string()),
        ("scale_yuan", YUAN),
        ("scale_source", pa.string()),  # register | mentions | null
        ("scale_sources", STRINGS),  # witnesses of the chosen scale: register:<reg>:<id> or doc_id
        ("issuers", STRINGS),
        ("managers", STRINGS),
        ("exchange", pa.string()),
        ("status", pa.string()),  # stage of the last status_history entry
        ("status_history", pa.list_(STATUS_ENTRY)),
        ("conflict", pa.bool_()),
        ("conflicts", pa.list_(CONFLICT)),
        ("project_ids", STRINGS),  # <register>:<project_id>
        ("n_documents", pa.int32()),
        ("n_stories", pa.int32()),
        ("n_register_rows", pa.int32()),
        ("first_seen", TS_SHANGHAI),
        ("last_seen", TS_SHANGHAI),
        ("provenance", pa.list_(PROVENANCE)),
    ]
)

_DOC_COLUMNS = ["doc_id", "version", "source", "kind", "url", "published_at", "fetched_at", "extra", "run_id"]
_MENTION_COLUMNS = [
    "source", "doc_id", "version", "published_at", "mention_index", "deal_name", "aliases", "type",
    "asset_class", "scale_yuan", "scale_text", "issuers", "managers", "exchange", "event", "event_date",
    "name_span", "scale_span", "run_id",
]


# --- reading -------------------------------------------------------------------------------------


def read_inputs(data_dir: str | os.PathLike[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """(mentions, projects, documents) rows as stored, only the columns the deals table needs."""
    store = DataStore(data_dir)
    from xinpi.pipelines.schema import PROJECTS

    return (
        store.read_columns("mentions", _MENTION_COLUMNS).to_pylist(),
        store.read_columns("projects", PROJECTS.names).to_pylist(),
        store.read_columns("documents", _DOC_COLUMNS).to_pylist(),
    )


def build_deals(data_dir: str | os.PathLike[str]) -> pa.Table:
    """The deals table for what ``data_dir`` holds now (pure over what is read; nothing written)."""
    return assemble(*read_inputs(data_dir))


# --- assembling ----------------------------------------------------------------------------------


def _first_by_run(rows: Iterable[dict], key: tuple[str, ...]) -> list[dict]:
    """One row per key, the first written (smallest run id): duplicates of a double-fired run go."""
    best: dict[tuple, dict] = {}
    for row in rows:
        k = tuple(_hashable(row.get(c)) for c in key)
        if k not in best or (row.get("run_id") or "") < (best[k].get("run_id") or ""):
            best[k] = row
    return list(best.values())


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _story_of(doc: dict | None) -> str | None:
    if not doc or not doc.get("extra"):
        return None
    try:
        extra = json.loads(doc["extra"])
    except (TypeError, ValueError):
        return None
    story = extra.get("story_id") if isinstance(extra, dict) else None
    return str(story) if story else None


@dataclass
class _Witness:
    """One mention with its document's facts; ``story`` groups syndicated copies."""

    m: dict
    doc: dict
    story: str
    counted: bool = False


@dataclass
class _Deal:
    witnesses: list[_Witness] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)


def assemble(mentions: list[dict], projects: list[dict], documents: list[dict]) -> pa.Table:
    """Deals from stored rows (pure, deterministic: the same rows in any order give the same table)."""
    docs: dict[str, dict] = {}
    for d in _first_by_run(documents, ("doc_id", "version")):
        cur = docs.get(d["doc_id"])
        if cur is None or (d.get("version") or 0) > (cur.get("version") or 0):
            docs[d["doc_id"]] = d
    mentions = _first_by_run(mentions, ("doc_id", "version", "mention_index"))
    latest: dict[str, int] = {k: v.get("version") or 0 for k, v in docs.items()}
    for m in mentions:
        if m["doc_id"] not in docs:  # facts whose document row is not (yet) visible: trust them
            latest[m["doc_id"]] = max(latest.get(m["doc_id"], 0), m.get("version") or 0)
    mentions = [m for m in mentions if m.get("deal_name") and (m.get("version") or 0) == latest[m["doc_id"]]]
    projects = _first_by_run(projects, ("register", "project_id", "status", "updated_date"))
    projects = [p for p in projects if p.get("project_id") or p.get("name")]

    uf = UnionFind()
    for m in mentions:
        names = [m["deal_name"], *[a for a in (m.get("aliases") or []) if usable_alias(a)]]
        uf.union_all(("n", normalise_name(n)) for n in names if normalise_name(n))
    for p in projects:
        node = _project_node(p)
        uf.add(node)
        if normalise_name(p.get("name")):
            uf.union(node, ("n", normalise_name(p["name"])))

    deals: dict[Any, _Deal] = defaultdict(_Deal)
    for m in mentions:
        doc = docs.get(m["doc_id"]) or {"doc_id": m["doc_id"], "source": m.get("source"),
                                         "published_at": m.get("published_at")}
        w = _Witness(m, doc, _story_of(doc) or m["doc_id"])
        deals[uf.find(("n", normalise_name(m["deal_name"])))].witnesses.append(w)
    for p in projects:
        deals[uf.find(_project_node(p))].projects.append(p)

    rows = sorted((_deal_row(d) for d in deals.values()), key=lambda r: r["deal_id"])
    return pa.Table.from_pylist(rows, schema=DEALS)


def _project_node(p: dict) -> tuple:
    """A register project's node; a row without an id is known by its name alone."""
    if p.get("project_id"):
        return ("p", p.get("register") or "", p["project_id"])
    return ("n", normalise_name(p.get("name")))


def _reg_id(p: dict) -> str:
    return f"register:{p.get('register')}:{p.get('project_id')}"


def _reg_date(p: dict) -> dt.date | None:
    return p.get("updated_date") or p.get("accepted_date")


def _sk(value: Any) -> tuple:
    """Sort key tolerating None and mixed types."""
    return (0,) if value is None else (1, value)


def _vote(values: Iterable[Any]) -> Any:
    """Most frequent non-null value; ties go to the lexicographically smallest (deterministic)."""
    counts = Counter(v for v in values if v not in (None, ""))
    if not counts:
        return None
    return min(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[0]


def _agree(a: Decimal, b: Decimal) -> bool:
    big = max(abs(a), abs(b))
    return big == 0 or abs(a - b) <= SCALE_TOLERANCE * big


def _party_match(a: set[str], b: set[str]) -> bool:
    """Whether two sources name a common party: a short form (深圳高新投) is read as an abbreviation
    of a full name when its characters appear in order in it (深圳市高新投小额贷款有限公司)."""
    return any(_abbreviates(x, y) or _abbreviates(y, x) for x in a for y in b)


def _longest_forms(names: set[str]) -> list[str]:
    """Each party once, by its longest form: a name abbreviating another one in the set is dropped."""
    return sorted(n for n in names if not any(n != o and _abbreviates(n, o) for o in names))


def _abbreviates(short: str, full: str) -> bool:
    if short == full:
        return True
    if len(short) < MIN_ABBREVIATION or len(short) > len(full):
        return False
    chars = iter(full)
    return all(c in chars for c in short)


def _when(doc: dict) -> dt.datetime | None:
    ts = doc.get("published_at") or doc.get("fetched_at")
    return ts.astimezone(SHANGHAI) if ts else None


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time(), SHANGHAI) if day else None


def _deal_row(deal: _Deal) -> dict[str, Any]:
    # witnesses: earliest copy of each story is the one that counts
    deal.witnesses.sort(key=lambda w: (_sk(_when(w.doc)), w.m["doc_id"], _sk(w.m.get("mention_index"))))
    stories: dict[str, list[_Witness]] = defaultdict(list)
    for w in deal.witnesses:
        stories[w.story].append(w)
    counted_docs: dict[str, str] = {}  # story -> doc_id counted
    for story, ws in stories.items():
        counted_docs[story] = ws[0].m["doc_id"]
        for w in ws:
            w.counted = w.m["doc_id"] == counted_docs[story]
    counted = [w for w in deal.witnesses if w.counted]
    regs = sorted(deal.projects, key=lambda p: (_sk(_reg_date(p)), stage(p.get("status"))[1],
                                                _sk(p.get("fetched_at")), _reg_id(p)))

    # name: the register's latest, else the spelling most stories use (then the longest)
    name = next((p["name"] for p in reversed(regs) if p.get("name")), None)
    name_source = "register" if name else None
    if not name:
        per_story = Counter(n for s in stories.values() for n in {w.m["deal_name"] for w in s})
        name = min(per_story.items(), key=lambda kv: (-kv[1], -len(kv[0]), kv[0]))[0]
        name_source = "mentions"
    spellings = {w.m["deal_name"] for w in deal.witnesses}
    spellings |= {a for w in deal.witnesses for a in (w.m.get("aliases") or []) if a}
    spellings |= {p["name"] for p in regs if p.get("name")}
    aliases = sorted(spellings - {name})

    conflicts: list[dict[str, Any]] = []
    scale, scale_source, scale_sources = _scale(regs, counted, conflicts)

    # issuers / managers: union of every source, compared in normalised form
    reg_issuers = {normalise_party(p["issuer"]) for p in regs if p.get("issuer")}
    issuer_sets = ([("register", reg_issuers)] if reg_issuers else []) + [
        (w.m["doc_id"], {normalise_party(i) for i in w.m.get("issuers") or [] if i}) for w in counted
    ]
    issuer_sets = [(src, s) for src, s in issuer_sets if s]
    if any(not _party_match(a, b) for i, (_, a) in enumerate(issuer_sets) for _, b in issuer_sets[i + 1:]):
        reg_src = ",".join(sorted({_reg_id(p) for p in regs if p.get("issuer")}))
        for src, s in issuer_sets:
            for v in sorted(s):
                source = reg_src if src == "register" else src
                conflicts.append({"field": "issuers", "value": v, "source": source})
    issuers = _longest_forms(set().union(*(s for _, s in issuer_sets)) if issuer_sets else set())
    managers = _longest_forms({normalise_party(p["manager"]) for p in regs if p.get("manager")}
                              | {normalise_party(x) for w in counted for x in w.m.get("managers") or [] if x})

    reg_type = next((p["type"] for p in reversed(regs) if p.get("type")), None)
    exchanges = rules()["register_exchanges"]
    reg_exchange = next((exchanges.get(p.get("register"), None) for p in reversed(regs)
                         if exchanges.get(p.get("register"))), None)

    history = _history(regs, counted)
    times = [_when(w.doc) for w in deal.witnesses] + [
        t for p in regs for t in (_midnight(p.get("accepted_date")), _midnight(p.get("updated_date")))
    ]
    times += [p["fetched_at"].astimezone(SHANGHAI) for p in regs
              if p.get("fetched_at") and not _reg_date(p)]
    times = [t for t in times if t]

    conflicts.sort(key=lambda c: (c["field"], c["value"], c["source"]))
    return {
        "deal_id": deal_id(name),
        "name": name,
        "name_source": name_source,
        "aliases": aliases,
        "type": reg_type or _vote(w.m.get("type") for w in counted),
        "asset_class": _vote(w.m.get("asset_class") for w in counted),
        "scale_yuan": scale,
        "scale_source": scale_source,
        "scale_sources": scale_sources,
        "issuers": issuers,
        "managers": managers,
        "exchange": reg_exchange or _vote(w.m.get("exchange") for w in counted),
        "status": history[-1]["stage"] if history else None,
        "status_history": history,
        "conflict": bool(conflicts),
        "conflicts": conflicts,
        "project_ids": sorted({f"{p.get('register')}:{p.get('project_id')}" for p in regs}),
        "n_documents": len({w.m["doc_id"] for w in deal.witnesses}),
        "n_stories": len(stories),
        "n_register_rows": len(regs),
        "first_seen": min(times) if times else None,
        "last_seen": max(times) if times else None,
        "provenance": _provenance(regs, deal.witnesses),
    }


def _scale(
    regs: list[dict], counted: list[_Witness], conflicts: list[dict]
) -> tuple[Decimal | None, str | None, list[str]]:
    """Register planned scale if any, else the value most stories agree on; flags disagreements."""
    seen: list[tuple[Decimal, str]] = []
    reg = next((p for p in reversed(regs) if p.get("planned_scale_yuan") is not None), None)
    mention_values = [
        (w.m["scale_yuan"], w.m["doc_id"]) for w in counted if w.m.get("scale_yuan") is not None
    ]
    if reg is not None:
        chosen, source = reg["planned_scale_yuan"], "register"
        seen.append((chosen, _reg_id(reg)))
    elif mention_values:
        # most stories agreeing within the tolerance, then the value stated most often exactly, then
        # the latest statement (a final size follows a planned one)
        chosen = min(
            ((v, i) for i, (v, _) in enumerate(mention_values)),
            key=lambda vi: (-sum(_agree(vi[0], o) for o, _ in mention_values),
                            -sum(vi[0] == o for o, _ in mention_values), -vi[1]),
        )[0]
        source = "mentions"
    else:
        return None, None, []
    seen += mention_values
    supporters = sorted({src for v, src in seen if _agree(v, chosen)})
    if any(not _agree(v, chosen) for v, _ in seen):
        conflicts += [{"field": "scale_yuan", "value": str(v), "source": src} for v, src in sorted(set(seen))]
    return chosen, source, supporters


def _history(regs: list[dict], counted: list[_Witness]) -> list[dict[str, Any]]:
    entries: set[tuple] = set()
    for p in regs:
        status = p.get("status")
        if status:
            entries.add((status, _reg_date(p), _reg_id(p)))
        if p.get("accepted_date") and stage(status)[0] != "受理":
            entries.add(("已受理", p["accepted_date"], _reg_id(p)))
    ignored = set(rules()["ignored_events"])
    for w in counted:
        event = w.m.get("event")
        if event and event not in ignored:
            day = w.m.get("event_date") or (_when(w.doc).date() if _when(w.doc) else None)
            entries.add((event, day, w.m["doc_id"]))
    out = []
    for status, day, source in entries:
        stg, rank = stage(status)
        out.append((rank, _sk(day), status, source, {"stage": stg, "status": status, "date": day,
                                                     "source": source}))
    return [e[-1] for e in sorted(out, key=lambda e: e[:4])]


def _provenance(regs: list[dict], witnesses: list[_Witness]) -> list[dict[str, Any]]:
    out = []
    for p in regs:
        out.append({
            "kind": "register", "source": p.get("register"), "url": p.get("url"),
            "published_at": _midnight(_reg_date(p)), "counted": True, "deal_name": p.get("name"),
            "scale_yuan": p.get("planned_scale_yuan"), "scale_text": p.get("planned_scale_text"),
            "register": p.get("register"), "project_id": p.get("project_id"), "status": p.get("status"),
            "status_date": _reg_date(p),
        })
    for w in witnesses:
        m, d = w.m, w.doc
        out.append({
            "kind": d.get("kind"), "source": d.get("source") or m.get("source"), "doc_id": m["doc_id"],
            "version": m.get("version"), "mention_index": m.get("mention_index"), "url": d.get("url"),
            "published_at": _when(d), "story_id": _story_of(d), "counted": w.counted,
            "deal_name": m["deal_name"], "name_span": m.get("name_span"), "scale_yuan": m.get("scale_yuan"),
            "scale_text": m.get("scale_text"), "scale_span": m.get("scale_span"), "event": m.get("event"),
        })
    return sorted(out, key=lambda r: (_sk(r["published_at"]), r["kind"] or "", r.get("doc_id") or "",
                                      r.get("project_id") or "", r.get("status") or "",
                                      _sk(r.get("mention_index"))))


# --- writing -------------------------------------------------------------------------------------


def table_bytes(table: pa.Table) -> bytes:
    """The Parquet bytes of ``table`` exactly as :meth:`DataStore.stage` writes them."""
    buf = io.BytesIO()
    pq.write_table(table, buf, compression=COMPRESSION)
    return buf.getvalue()


def write_deals(
    data_dir: str | os.PathLike[str], table: pa.Table, run_id: str | None = None
) -> tuple[Path, bool]:
    """Make ``deals/`` hold exactly ``table``; returns (file, whether anything was written).

    The file is named by the hash of its content, so an unchanged rebuild finds its file in place
    and writes nothing; a changed one replaces the previous file through a journalled replacement.
    """
    store = DataStore(data_dir)
    digest = hashlib.sha256(table_bytes(table)).hexdigest()[:16]
    final = Path(DATASET) / f"deals-{digest}.parquet"
    folder = store.root / DATASET
    existing = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if (store.root / final).exists():
        stale = [p for p in existing if p != store.root / final]
        for p in stale:  # leftovers of an interrupted replacement: the current file is complete
            p.unlink(missing_ok=True)
        return store.root / final, bool(stale)
    run_id = safe_name(run_id or "deals-" + new_run_id())
    try:
        path = replace_files(store, run_id, table, final, existing)
    finally:
        store.release(run_id)
    return path, True


def rebuild(data_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Recover interrupted commits, rebuild, write if changed; figures for the flow."""
    recover_all(DataStore(data_dir))
    table = build_deals(data_dir)
    path, written = write_deals(data_dir, table)
    conflicts = pc.sum(table.column("conflict")).as_py() if table.num_rows else 0
    return {"rows": table.num_rows, "conflicts": int(conflicts), "written": written,
            "path": os.fspath(path)}


@flow(name="xinpi-deals", log_prints=True)
def deals_flow(data_dir: str = "data") -> dict[str, Any]:
    """Rebuild ``deals/`` from the stored register rows and mentions; returns rows and conflicts."""
    result = rebuild(str(Path(data_dir).resolve()))
    get_run_logger().info("deals: %s", result)
    return result
