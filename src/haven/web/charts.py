"""Charts drawn on the server as inline SVG: no script, nothing for the CSP to allow.

An SVG made here carries its own accessible name (`<title>`) and description (`<desc>`)
and every bar a tooltip; pages pair each chart with the same numbers as a table, because
a chart alone is not readable by everyone. Colours come from classes in haven.css (no
inline style attributes, which the strict CSP refuses).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

__all__ = ["Bar", "BarChart", "bar_chart", "nice_ceiling"]


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: `label` under it (may be empty), `title` in its tooltip."""

    value: float
    label: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class BarChart:
    """The geometry of a bar chart, kept apart from its markup so tests can read it."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    y_max: float

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    def bar_height(self, value: float) -> float:
        if self.y_max <= 0:
            return 0.0
        return max(0.0, value) / self.y_max * self.plot_height


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value` (1 for 0)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


# left, right, top, bottom: room for the y-axis values and label, the x labels and title.
MARGINS = (60, 12, 12, 48)


def _at(value: float) -> str:
    return f"{value:.2f}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
    x_label: str = "",
    y_label: str = "",
    width: int = 720,
    height: int = 260,
    ticks: int = 4,
) -> SafeString:
    """An accessible SVG bar chart: bar heights proportional to values, from a zero baseline.

    `chart_id` makes the ids of its title and description unique on the page.
    """
    top_value = max((b.value for b in bars), default=0.0)
    geometry = BarChart(width, height, *MARGINS, y_max=nice_ceiling(top_value))
    base_y = geometry.top + geometry.plot_height
    slot = geometry.plot_width / max(1, len(bars))
    bar_width = max(1.0, slot * 0.7)
    parts: list[SafeString] = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" viewBox="0 0 {} {}" '
            'role="img" aria-labelledby="{}-title {}-desc" focusable="false">',
            width,
            height,
            chart_id,
            chart_id,
        ),
        format_html('<title id="{}-title">{}</title>', chart_id, title),
        format_html('<desc id="{}-desc">{}</desc>', chart_id, description),
    ]
    # Horizontal grid lines, with their values on the y axis.
    for step in range(ticks + 1):
        value = geometry.y_max * step / ticks
        y = base_y - geometry.bar_height(value)
        parts.append(
            format_html(
                '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
                geometry.left,
                _at(y),
                width - geometry.right,
                _at(y),
                geometry.left - 6,
                _at(y + 4),
                _number(value),
            )
        )
    parts.append(
        format_html(
            '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>'
            '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>',
            geometry.left,
            geometry.top,
            geometry.left,
            base_y,
            geometry.left,
            base_y,
            width - geometry.right,
            base_y,
        )
    )
    rects = []
    for index, bar in enumerate(bars):
        bar_height = geometry.bar_height(bar.value)
        x = geometry.left + index * slot + (slot - bar_width) / 2
        rects.append(
            (
                _at(x),
                _at(base_y - bar_height),
                _at(bar_width),
                _at(bar_height),
                _number(bar.value),
                bar.title or f"{bar.label}: {_number(bar.value)}",
            )
        )
    parts.append(
        format_html_join(
            "",
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}" data-value="{}">'
            "<title>{}</title></rect>",
            rects,
        )
    )
    labels = [
        (_at(geometry.left + index * slot + slot / 2), base_y + 16, bar.label)
        for index, bar in enumerate(bars)
        if bar.label
    ]
    parts.append(
        format_html_join(
            "", '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>', labels
        )
    )
    if x_label:
        parts.append(
            format_html(
                '<text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>',
                _at(geometry.left + geometry.plot_width / 2),
                height - 6,
                x_label,
            )
        )
    if y_label:
        middle = _at(geometry.top + geometry.plot_height / 2)
        parts.append(
            format_html(
                '<text class="axis-label" x="14" y="{}" text-anchor="middle" '
                'transform="rotate(-90 14 {})">{}</text>',
                middle,
                middle,
                y_label,
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))
