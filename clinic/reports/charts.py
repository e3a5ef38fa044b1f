"""Server-rendered SVG charts for the reports: bars (grouped or stacked), horizontal bars and
lines, each with axes, a legend, a <title> and a <desc>, and a <title> on every mark.

Colours and fonts are presentation attributes, never ``style``, so the charts pass a strict
Content-Security-Policy; the Okabe–Ito palette stays distinct for colour-blind readers and
lines differ by dash as well as colour, so a black-and-white print still reads.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape

WIDTH = 720
HEIGHT = 320
MARGIN_LEFT = 56
MARGIN_RIGHT = 16
MARGIN_TOP = 40
MARGIN_BOTTOM = 56
AXIS_COLOUR = "#495057"
GRID_COLOUR = "#dee2e6"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
MAX_AXIS_LABELS = 12


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "no data"
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}".rstrip()


def nice_ticks(highest: float, steps: int = 5) -> list[float]:
    """Round tick values from 0 up to at least ``highest``."""
    if highest <= 0:
        return [0, 1]
    raw = highest / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    count = math.ceil(highest / step - 1e-9)
    return [round(i * step, 10) for i in range(count + 1)]


def _open(chart_id: str, title: str, description: str, height: int = HEIGHT) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="system-ui, sans-serif" font-size="12" class="report-chart">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def _empty(out: list[str], height: int = HEIGHT) -> str:
    out.append(
        f'<text x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle" fill="{AXIS_COLOUR}">'
        "No data for this period.</text></svg>"
    )
    return "".join(out)


def _legend(series: Sequence[Series], *, lines: bool = False) -> list[str]:
    out, x = ['<g class="legend">'], MARGIN_LEFT
    for index, item in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        if lines:
            dash = DASHES[index % len(DASHES)]
            dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(
                f'<line x1="{x}" x2="{x + 18}" y1="14" y2="14" stroke="{colour}" '
                f'stroke-width="2.5"{dash_attribute}/>'
            )
        else:
            out.append(f'<rect x="{x + 4}" y="8" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 24}" y="18">{escape(item.name)}</text>')
        x += 40 + 7 * len(item.name)
    out.append("</g>")
    return out


def _value_axis(ticks: list[float], unit: str, y_of) -> list[str]:
    right = WIDTH - MARGIN_RIGHT
    out = ['<g class="axis axis-y">']
    for tick in ticks:
        y = y_of(tick)
        out.append(
            f'<line x1="{MARGIN_LEFT}" x2="{right}" y1="{y}" y2="{y}" stroke="{GRID_COLOUR}"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4}" text-anchor="end" fill="{AXIS_COLOUR}">'
            f"{number(tick)}</text>"
        )
    if unit:
        middle = MARGIN_TOP + (HEIGHT - MARGIN_TOP - MARGIN_BOTTOM) / 2
        out.append(
            f'<text x="14" y="{middle}" text-anchor="middle" fill="{AXIS_COLOUR}" '
            f'transform="rotate(-90 14 {middle})">{escape(unit)}</text>'
        )
    bottom = HEIGHT - MARGIN_BOTTOM
    out.append(
        f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT}" y1="{MARGIN_TOP}" y2="{bottom}" '
        f'stroke="{AXIS_COLOUR}"/>'
        f'<line x1="{MARGIN_LEFT}" x2="{right}" y1="{bottom}" y2="{bottom}" '
        f'stroke="{AXIS_COLOUR}"/></g>'
    )
    return out


def _category_axis(categories: Sequence[str], x_of) -> list[str]:
    every = max(1, math.ceil(len(categories) / MAX_AXIS_LABELS))
    y = HEIGHT - MARGIN_BOTTOM + 16
    out = ['<g class="axis axis-x">']
    for index, category in enumerate(categories):
        if index % every == 0:
            out.append(
                f'<text x="{x_of(index)}" y="{y}" text-anchor="middle" fill="{AXIS_COLOUR}">'
                f"{escape(category)}</text>"
            )
    out.append("</g>")
    return out


def _scale(highest: float):
    bottom = HEIGHT - MARGIN_BOTTOM
    ticks = nice_ticks(highest)
    span = ticks[-1] or 1

    def y_of(value: float) -> float:
        return round(bottom - value / span * (bottom - MARGIN_TOP), 1)

    return ticks, y_of


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    stacked: bool = False,
) -> str:
    """Vertical bars per category: one bar per series side by side, or stacked."""
    out = _open(chart_id, title, description)
    if not categories or not series:
        return _empty(out)
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    highest = max(totals) if stacked else max((v or 0) for s in series for v in s.values)
    ticks, y_of = _scale(highest)
    band = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / len(categories)

    def x_of(index: int) -> float:
        return round(MARGIN_LEFT + band * (index + 0.5), 1)

    out.extend(_legend(series))
    out.extend(_value_axis(ticks, unit, y_of))
    bar_width = band * 0.7 if stacked else band * 0.8 / len(series)
    out.append('<g class="bars">')
    for index, category in enumerate(categories):
        base = 0.0
        for number_of_series, item in enumerate(series):
            value = item.values[index] or 0
            if stacked:
                x = x_of(index) - bar_width / 2
                top, bottom = y_of(base + value), y_of(base)
                base += value
            else:
                x = x_of(index) - band * 0.4 + number_of_series * bar_width
                top, bottom = y_of(value), y_of(0)
            colour = PALETTE[number_of_series % len(PALETTE)]
            out.append(
                f'<rect x="{round(x, 1)}" y="{top}" width="{round(bar_width, 1)}" '
                f'height="{round(bottom - top, 1)}" fill="{colour}">'
                f"<title>{escape(category)} · {escape(item.name)}: "
                f"{escape(number(item.values[index], unit))}</title></rect>"
            )
    out.append("</g>")
    out.extend(_category_axis(categories, x_of))
    out.append("</svg>")
    return "".join(out)


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    unit: str = "%",
) -> str:
    """One line per series over the categories; a missing value breaks the line."""
    out = _open(chart_id, title, description)
    values = [v for s in series for v in s.values if v is not None]
    if not categories or not values:
        return _empty(out)
    ticks, y_of = _scale(max(values))
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    step = plot_width / len(categories)

    def x_of(index: int) -> float:
        return round(MARGIN_LEFT + step * (index + 0.5), 1)

    out.extend(_legend(series, lines=True))
    out.extend(_value_axis(ticks, unit, y_of))
    for number_of_series, item in enumerate(series):
        colour = PALETTE[number_of_series % len(PALETTE)]
        dash = DASHES[number_of_series % len(DASHES)]
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<g class="line" data-series="{escape(item.name)}">')
        run: list[str] = []
        for index, value in enumerate([*item.values, None]):
            if value is None:
                if len(run) > 1:
                    out.append(
                        f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                        f'stroke-width="2.5"{dash_attribute}/>'
                    )
                run = []
            else:
                run.append(f"{x_of(index)},{y_of(value)}")
        for index, value in enumerate(item.values):
            if value is not None:
                out.append(
                    f'<circle cx="{x_of(index)}" cy="{y_of(value)}" r="3.5" fill="{colour}">'
                    f"<title>{escape(categories[index])} · {escape(item.name)}: "
                    f"{escape(number(value, unit))}</title></circle>"
                )
        out.append("</g>")
    out.extend(_category_axis(categories, x_of))
    out.append("</svg>")
    return "".join(out)


def horizontal_bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    unit: str = "",
    notes: Sequence[str] = (),
    scale_at_least: float = 0,
) -> str:
    """One bar per labelled row, for categories whose names are too long to sit under bars.

    ``notes`` (optional, one per row) are written after each bar's value; the scale reaches
    at least ``scale_at_least`` (100 for percentages, say).
    """
    row_height, label_width = 26, 240
    height = MARGIN_TOP + row_height * max(len(labels), 1) + 28
    out = _open(chart_id, title, description, height)
    if not labels:
        return _empty(out, height)
    ticks = nice_ticks(max(scale_at_least, *((v or 0) for v in values)))
    left, right = label_width, WIDTH - MARGIN_RIGHT - 120
    bottom = MARGIN_TOP + row_height * len(labels)

    def x_of(value: float) -> float:
        return round(left + value / (ticks[-1] or 1) * (right - left), 1)

    out.append('<g class="axis axis-x">')
    for tick in ticks:
        x = x_of(tick)
        out.append(
            f'<line x1="{x}" x2="{x}" y1="{MARGIN_TOP - 4}" y2="{bottom}" stroke="{GRID_COLOUR}"/>'
            f'<text x="{x}" y="{bottom + 16}" text-anchor="middle" fill="{AXIS_COLOUR}">'
            f"{number(tick)}</text>"
        )
    out.append(
        f'<line x1="{left}" x2="{left}" y1="{MARGIN_TOP - 4}" y2="{bottom}" '
        f'stroke="{AXIS_COLOUR}"/>'
    )
    if unit:
        out.append(
            f'<text x="{right}" y="{MARGIN_TOP - 14}" text-anchor="end" fill="{AXIS_COLOUR}">'
            f"{escape(unit)}</text>"
        )
    out.append('</g><g class="bars">')
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = MARGIN_TOP + index * row_height
        note = notes[index] if index < len(notes) else ""
        shown = number(value, unit) + (f" · {note}" if note else "")
        out.append(
            f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{left}" y="{y + 5}" width="{round(x_of(value or 0) - left, 1)}" '
            f'height="{row_height - 10}" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {escape(shown)}</title></rect>"
            f'<text x="{x_of(value or 0) + 6}" y="{y + 17}" fill="{AXIS_COLOUR}">'
            f"{escape(shown)}</text>"
        )
    out.append("</g></svg>")
    return "".join(out)
