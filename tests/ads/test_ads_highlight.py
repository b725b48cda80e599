"""Cutting text into marked runs: checked against a character-by-character oracle."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from haven.ads.highlight import Mark, runs


def _mark(start: int, end: int, label: str = "m") -> Mark:
    return Mark(start, end, "entity", f"css-{label}", label)


def test_overlapping_spans_share_a_run() -> None:
    text = "call 202 555 0142 now"
    out = runs(text, [_mark(5, 17, "phone"), _mark(0, 8, "cue")])
    assert [(r.text, r.label) for r in out] == [
        ("call ", "cue"),
        ("202", "phone; cue"),  # in the order the marks were given
        (" 555 0142", "phone"),
        (" now", ""),
    ]
    assert out[1].css == "css-cue css-phone"


def test_spans_outside_the_text_are_clipped_or_dropped() -> None:
    out = runs("abc", [_mark(-5, 1), _mark(2, 99), _mark(3, 9), _mark(2, 2)])
    assert [(r.text, bool(r.marks)) for r in out] == [("a", True), ("b", False), ("c", True)]


spans = st.tuples(st.integers(-3, 40), st.integers(-3, 40))


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40), st.lists(spans, max_size=8))
def test_runs_rebuild_the_text_and_mark_exactly_the_covered_characters(
    text: str, pairs: list[tuple[int, int]]
) -> None:
    marks = [_mark(a, b, str(k)) for k, (a, b) in enumerate(pairs)]
    out = runs(text, marks)
    assert "".join(r.text for r in out) == text
    position = 0
    for run in out:
        assert run.text
        for offset in range(len(run.text)):
            i = position + offset
            expected = {m for m in marks if m.start <= i < m.end}
            assert set(run.marks) == expected
        position += len(run.text)
    # Neighbouring unmarked runs are merged.
    assert not any(not a.marks and not b.marks for a, b in itertools.pairwise(out))
