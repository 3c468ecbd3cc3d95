"""Robustness: any input, never raise, never hang, every span indexes the text it came from."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinpi.extractors.deals import extract_document

WORDS = st.sampled_from(
    [
        "资产支持专项计划",
        "有限公司",
        "原始权益人为",
        "计划管理人",
        "发行规模",
        "亿元",
        "（",
        "）",
        "“",
        "”",
        "\n",
        "  ",
        "|",
        "2025年",
        "第1期",
        "-",
        "担任",
        "的",
        "合计",
        "3.5",
        "１２",
        "億元",
    ]
)


def _check(title: str, text: str) -> None:
    full = title + "\n" + text
    res = extract_document("x", title, text)
    for m in res.mentions:
        for key in ("name_span", "scale_span", "evidence_span"):
            if m[key] is not None:
                s, e = m[key]
                assert 0 <= s <= e <= len(full)
        for s, e in m["issuer_spans"] + m["manager_spans"]:
            assert 0 <= s < e <= len(full)
        assert full[m["evidence_span"][0] : m["evidence_span"][1]] == m["evidence"]
    for a in res.aggregates:
        s, e = a["span"]
        assert 0 <= s < e <= len(full)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.text(max_size=2000))
def test_any_unicode_never_raises(title, text):
    _check(title, text)


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, max_size=80), st.lists(WORDS, max_size=200))
def test_domain_fragments_never_raise(t, b):
    _check("".join(t), "".join(b))


def test_absurd_inputs_are_linear():
    cases = [
        "",
        "1" * 1_000_000,
        "有限公司" * 50_000,
        "资产支持专项计划" * 20_000,
        "（" * 100_000,
        "“" + "甲" * 200_000,
        "2025年第1期" * 30_000,
        "发行规模" + "9" * 500_000 + "亿元",
    ]
    for text in cases:
        t0 = time.perf_counter()
        _check("", text)
        assert time.perf_counter() - t0 < 20, text[:20]
