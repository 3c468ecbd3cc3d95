"""The per-document break offsets (bisect) give exactly what a backward search per figure gave."""

from __future__ import annotations

import random
import re

from xinpi.extractors._resources import anchored_finditer, char_offsets
from xinpi.extractors.deals import _agg_re, _scope, sentence_start

ALPHABET = "。；，\n累计合共年内今以来占比份额5亿元家只%个单 a"


def _texts(n: int, seed: int = 11):
    rng = random.Random(seed)
    for _ in range(n):
        yield "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60)))


def test_sentence_start_equals_rfind():
    for text in _texts(500):
        for chars in ("。；\n", "。；，\n"):
            breaks = char_offsets(text, chars)
            assert breaks == sorted(i for i, c in enumerate(text) if c in chars)
            for pos in range(len(text) + 1):
                assert sentence_start(breaks, pos) == max(text.rfind(c, 0, pos) for c in chars) + 1


def test_scope_equals_slice_scan():
    for text in _texts(300):
        for s0 in range(len(text) + 1):
            for e in range(s0, len(text) + 1, 3):
                assert _scope(text, s0, e) == {x.group() for x in _agg_re().finditer(text[s0:e])}


def test_string_anchors_equal_pattern_anchors():
    rx = re.compile(r"\d{1,3}\s?(?:家|只|个)")
    for text in _texts(500):
        via_pattern = [m.span() for m in anchored_finditer(rx, re.compile("[家只个]"), text, 6, 1)]
        assert [m.span() for m in anchored_finditer(rx, "家只个", text, 6, 1)] == via_pattern
