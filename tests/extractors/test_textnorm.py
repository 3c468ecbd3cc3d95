"""textnorm.nfkc is a faster spelling of NFKC, so it must agree with unicodedata everywhere: stored
content hashes and story ids are taken over its output, and a single differing character would make
an unchanged document look new."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from xinpi.extractors.textnorm import nfkc

DEV = Path(__file__).resolve().parents[1] / "data" / "dev.jsonl"
KEEP = "，：；！？"
_KEEP_SPLIT = re.compile(f"([{KEEP}])")

# Text that exercises every path: CJK, full-width forms, combining marks, Hangul jamo, ligatures,
# compatibility ideographs, circled numbers and the kept marks side by side with combining marks.
_ALPHABET = st.sampled_from(
    list("资产支持专项计划亿元发行规模，：；（）！？％＋－／。、“”　 \n\tAe1")
    + ["\u0301", "\u0308", "\u0327", "\u1100", "\u1161", "\u11a8", "\ufb01", "\uf900", "\u2460",
       "\u3251", "\uff10", "\uff21", "\uff41", "\u00bd", "\u2126", "\u212b", "\u0041\u030a", "\u1e9b"]
)
TEXTS = st.lists(_ALPHABET, max_size=40).map("".join)


def _reference_keep(text: str) -> str:
    parts = _KEEP_SPLIT.split(text)
    return "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))


@settings(max_examples=3000, deadline=None)
@given(TEXTS)
def test_nfkc_is_exactly_unicode_nfkc(text: str) -> None:
    assert nfkc(text) == unicodedata.normalize("NFKC", text)


@settings(max_examples=3000, deadline=None)
@given(TEXTS)
def test_nfkc_keeping_clause_marks_normalises_the_text_between_them(text: str) -> None:
    assert nfkc(text, keep=KEEP) == _reference_keep(text)


@given(st.text(max_size=60))
def test_nfkc_agrees_on_arbitrary_unicode(text: str) -> None:
    assert nfkc(text) == unicodedata.normalize("NFKC", text)
    assert nfkc(text, keep=KEEP) == _reference_keep(text)


def test_nfkc_agrees_on_every_dev_document() -> None:
    for line in DEV.read_text("utf-8").splitlines():
        text = json.loads(line)["text"]
        assert nfkc(text) == unicodedata.normalize("NFKC", text)
        assert nfkc(text, keep=KEEP) == _reference_keep(text)
