"""The crawl benchmark's report says when its speed verdict is within the host's noise."""

from __future__ import annotations

import pytest

from benchmarks.crawl_bench import straddles


@pytest.mark.parametrize(
    ("ratios", "expected"),
    [
        ([1.36, 1.26, 1.21, 1.15, 1.10], True),  # one pair above 1.3, the median below
        ([1.51, 1.61, 1.26], True),  # the median above, one pair below
        ([1.30, 1.45], True),  # a pair exactly at the target passes it
        ([1.10, 1.25, 1.29], False),  # every pair passes
        ([1.31, 1.45, 1.62], False),  # every pair fails
        ([1.45], False),  # one pair: nothing to compare
        ([1.0, 1.3], False),  # at the target is not above it
    ],
)
def test_pairs_on_both_sides_of_the_target_are_flagged(ratios: list[float], expected: bool) -> None:
    assert straddles(ratios, 1.3) is expected
