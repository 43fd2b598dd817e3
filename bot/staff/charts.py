"""Server-side SVG charts for 利用状況: readable at a glance, no script, no CDN.

Each chart is an ``<svg role="img">`` with a ``<title>`` naming it (its numbers are in the table beside
it, which is what screen readers and the downloads use). The drawing scales with the page (``viewBox``),
so it stays sharp at 200% zoom. Colours have at least 3:1 contrast on white (WCAG 1.4.11).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from markupsafe import Markup, escape

#: Series colours (blue, green, orange, grey): 3:1 or more against white, told apart without hue too
#: because each series is also named in the legend in the same order as the stack (bottom first).
#: The legend's swatches use the same colours from staff.css (.swatch-0 …): the CSP allows no inline style.
COLOURS = ("#0b4f8a", "#1e7b34", "#b04a00", "#5f5f5f")
WIDTH, HEIGHT = 720, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 8, 12, 40


@dataclass(frozen=True)
class Series:
    """One stacked series: its name (legend) and one value per column."""

    name: str
    values: Sequence[int]


def _nice_max(value: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten, at or above ``value`` (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= factor * step:
                return factor * step
        step *= 10


def stacked_columns(chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """A stacked column chart with a value axis (0, half, top) and every ``step``-th label shown."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    slot = plot_w / max(1, len(labels))
    bar = slot * 0.7
    every = max(1, round(len(labels) / 14))
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-labelledby="{escape(chart_id)}-t"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
    ]
    for tick in (0, top // 2 if top >= 2 else None, top):
        if tick is None:
            continue
        y = _TOP + plot_h - plot_h * tick / top
        parts.append(f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, label in enumerate(labels):
        x = _LEFT + slot * i + (slot - bar) / 2
        base = _TOP + plot_h
        for colour, s in zip(COLOURS, series, strict=False):
            h = plot_h * s.values[i] / top
            if h > 0:
                rect = f'x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}"'
                parts.append(f"<rect {rect}/>")
            base -= h
        if i % every == 0:
            cx = x + bar / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{HEIGHT - _BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(series: Sequence[Series]) -> Markup:
    """The colour key of a stacked chart, as a list (read in stack order, bottom first)."""
    items = "".join(
        f'<li><span class="swatch swatch-{i}" aria-hidden="true"></span>{escape(s.name)}</li>'
        for i, s in enumerate(series[: len(COLOURS)])
    )
    return Markup(f'<ul class="legend">{items}</ul>')
