"""The server-side SVG bar chart: one bar per value, heights proportional, accessible."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.web.charts import MARGINS, Bar, bar_chart, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def bars_of(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{SVG}rect")


def test_one_bar_per_value_with_heights_proportional_to_the_counts() -> None:
    counts = [0, 5, 10, 20, 3, 0, 7, 12, 1, 0, 0, 4, 9, 15, 2, 8, 6, 11, 0, 13, 14, 16, 18, 19]
    svg = bar_chart(
        [Bar(c, label=f"{h:02d}:00") for h, c in enumerate(counts)],
        chart_id="c",
        title="Lookups per hour",
        description="test",
    )
    rects = bars_of(parse(svg))
    assert len(rects) == 24
    heights = [float(r.get("height", "nan")) for r in rects]
    assert heights[0] == 0.0
    per_count = heights[3] / 20
    for count, height in zip(counts, heights, strict=True):
        assert height == pytest.approx(count * per_count, abs=0.01)
    # All bars stand on one baseline, left to right in the order given.
    bottoms = {round(float(r.get("y", "0")) + float(r.get("height", "0")), 1) for r in rects}
    assert len(bottoms) == 1
    xs = [float(r.get("x", "0")) for r in rects]
    assert xs == sorted(xs)
    assert [r.get("data-value") for r in rects] == [str(c) for c in counts]


def test_the_tallest_bar_fits_the_plot_and_the_axis_reads_a_round_number() -> None:
    svg = bar_chart([Bar(37), Bar(74)], chart_id="c", title="t", description="d", height=260)
    root = parse(svg)
    plot_height = 260 - MARGINS[2] - MARGINS[3]
    tallest = max(float(r.get("height", "0")) for r in bars_of(root))
    assert tallest == pytest.approx(74 / 100 * plot_height, abs=0.01)  # y axis up to 100
    ticks = [t.text for t in root.findall(f"{SVG}text") if t.get("class") == "tick"]
    assert "100" in ticks and "0" in ticks


def test_the_chart_is_named_and_described_for_assistive_technology() -> None:
    svg = bar_chart(
        [Bar(1, label="00:00", title="00:00 UTC: 1 lookup")],
        chart_id="lookups",
        title="Lookups <per> hour",
        description="Twenty-four bars & a table.",
        x_label="Hour (UTC)",
        y_label="Lookups",
    )
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "lookups-title lookups-desc"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "lookups-title"
    assert title.text == "Lookups <per> hour"  # escaped in the markup, intact when read
    assert desc is not None and desc.text == "Twenty-four bars & a table."
    assert "<per>" not in svg
    labels = [t.text for t in root.findall(f"{SVG}text") if t.get("class") == "axis-label"]
    assert labels == ["Hour (UTC)", "Lookups"]
    tooltip = bars_of(root)[0].find(f"{SVG}title")
    assert tooltip is not None and tooltip.text == "00:00 UTC: 1 lookup"


def test_no_inline_styles_or_scripts_for_the_strict_csp() -> None:
    svg = bar_chart([Bar(3), Bar(4)], chart_id="c", title="t", description="d")
    assert "style=" not in svg and "<script" not in svg and "<style" not in svg


def test_an_empty_or_all_zero_chart_still_draws() -> None:
    empty = bar_chart([], chart_id="e", title="t", description="d")
    assert re.fullmatch(r"<svg .*</svg>", empty) and not bars_of(parse(empty))
    zeros = bars_of(parse(bar_chart([Bar(0)] * 24, chart_id="z", title="t", description="d")))
    assert len(zeros) == 24 and {r.get("height") for r in zeros} == {"0.00"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (24, 25), (26, 50), (999, 1000), (0.3, 0.5)],
)
def test_nice_ceiling(value: float, expected: float) -> None:
    assert nice_ceiling(value) == pytest.approx(expected)


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=48))
def test_heights_are_proportional_for_any_counts(counts: list[int]) -> None:
    root = parse(bar_chart([Bar(c) for c in counts], chart_id="h", title="t", description="d"))
    heights = [float(r.get("height", "nan")) for r in bars_of(root)]
    plot_height = 260 - MARGINS[2] - MARGINS[3]
    top = max(counts)
    assert max(heights) <= plot_height + 0.01
    if top:
        scale = plot_height / nice_ceiling(top)
        pairs = zip(heights, counts, strict=True)
        assert all(h == pytest.approx(c * scale, abs=0.01) for h, c in pairs)
