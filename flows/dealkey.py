"""Which names denote the same deal: name normalisation, deal ids, and the union-find that merges aliases.

Why a separate module: the deals table, its tests and any analyst query that wants to look a deal up
by a spelling all need the SAME notion of "same name". The rule is the labelling guide's
(/work/shared/corpus/GUIDE.md): Unicode NFKC, no whitespace, no quote marks, every dash one character.
The character sets and status stages live in ``flows/data/deal_rules.json`` (market knowledge, not code).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Hashable, Iterable
from functools import cache
from importlib import resources
from typing import Any


@cache
def rules() -> dict[str, Any]:
    text = resources.files("xinpi.flows").joinpath("data", "deal_rules.json").read_text("utf-8")
    return json.loads(text)


@cache
def _translation() -> dict[int, str | None]:
    r = rules()
    table: dict[int, str | None] = {ord(c): None for c in r["quote_marks"]}
    table.update({ord(c): r["dash"] for c in r["dashes"]})
    return table


def normalise_name(name: str | None) -> str:
    """The comparison form of a deal name ("" for none): NFKC, no whitespace/quotes, one dash."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(text.split())  # every Unicode whitespace, line breaks inside a name included
    return text.translate(_translation())


def normalise_party(name: str | None) -> str:
    """Comparison form of an issuer/manager name: NFKC without whitespace (parentheses unified by NFKC)."""
    return "".join(unicodedata.normalize("NFKC", name or "").split())


def deal_id(canonical_name: str) -> str:
    """``deal:`` + 16 hex digits of the normalised canonical name: stable across rebuilds and machines."""
    key = normalise_name(canonical_name)
    return "deal:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def usable_alias(name: str | None) -> bool:
    """Whether an alias may link two names: very short forms ("ABS", "该计划") would chain unrelated deals."""
    return len(normalise_name(name)) >= int(rules()["min_alias_chars"])


class UnionFind:
    """Disjoint sets over hashable keys; the representative of a set is its smallest key (deterministic)."""

    def __init__(self) -> None:
        self._parent: dict[Hashable, Hashable] = {}

    def add(self, key: Hashable) -> None:
        self._parent.setdefault(key, key)

    def find(self, key: Hashable) -> Hashable:
        self.add(key)
        root = key
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[key] != root:  # path compression
            self._parent[key], key = root, self._parent[key]
        return root

    def union(self, a: Hashable, b: Hashable) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        small, big = sorted((ra, rb), key=repr)
        self._parent[big] = small

    def union_all(self, keys: Iterable[Hashable]) -> None:
        keys = list(keys)
        for other in keys[1:]:
            self.union(keys[0], other)

    def groups(self) -> dict[Hashable, list[Hashable]]:
        out: dict[Hashable, list[Hashable]] = {}
        for key in self._parent:
            out.setdefault(self.find(key), []).append(key)
        return out


@cache
def stage_of() -> dict[str, tuple[str, int]]:
    """Status label or event -> (stage, rank)."""
    out: dict[str, tuple[str, int]] = {}
    for entry in rules()["stages"]:
        for label in entry["labels"]:
            out[label] = (entry["stage"], int(entry["rank"]))
    return out


UNKNOWN_RANK = 1000


def stage(status: str | None) -> tuple[str | None, int]:
    """The stage of a status label/event and its rank (unknown statuses keep their text, sort last)."""
    if not status:
        return None, UNKNOWN_RANK
    return stage_of().get(status.strip(), (status.strip(), UNKNOWN_RANK))
