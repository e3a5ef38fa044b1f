"""Server-rendered SVG progress chart: NPRS and Kujala over time.

Each panel shades the band of no meaningful change around the baseline (baseline ± the
measure's important change), so a point outside the band is a real change. Vertical
markers show when interventions started (solid) and stopped (dashed). Colours are
presentation attributes, never ``style``, so the chart passes a strict CSP.
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import escape

from . import reference
from .progress import Point

WIDTH = 720
PANEL_HEIGHT = 170
MARGIN_LEFT = 48
MARGIN_RIGHT = 16
MARGIN_TOP = 28
PANEL_GAP = 44
AXIS_COLOUR = "#6c757d"
BAND_COLOUR = "#d1e7dd"
START_COLOUR = "#198754"
STOP_COLOUR = "#6c757d"


@dataclass(frozen=True)
class Panel:
    attribute: str
    title: str
    lowest: int
    highest: int
    important_change: float
    colour: str
    ticks: tuple[int, ...]


PANELS = (
    Panel(
        "kujala",
        "Kujala (0–100, higher is better)",
        reference.KUJALA_MIN_TOTAL,
        reference.KUJALA_MAX_TOTAL,
        reference.KUJALA_MCID,
        "#0d6efd",
        (0, 25, 50, 75, 100),
    ),
    Panel(
        "nprs_worst",
        "Pain at worst, NPRS (0–10, lower is better)",
        reference.NPRS_MIN,
        reference.NPRS_MAX,
        reference.NPRS_IMPORTANT_CHANGE,
        "#dc3545",
        (0, 2, 4, 6, 8, 10),
    ),
)


@dataclass(frozen=True)
class Marker:
    day: datetime.date
    label: str
    started: bool


def intervention_markers(interventions: Iterable) -> list[Marker]:
    markers = []
    for intervention in interventions:
        name = intervention.get_kind_display()
        markers.append(Marker(intervention.started_on, f"{name} started", True))
        if intervention.stopped_on:
            markers.append(Marker(intervention.stopped_on, f"{name} stopped", False))
    return markers


def describe(points: Sequence[Point]) -> str:
    """A sentence per measure for the chart's <desc> and screen readers."""
    parts = []
    for panel in PANELS:
        values = [(p.day, getattr(p, panel.attribute)) for p in points]
        values = [(day, value) for day, value in values if value is not None]
        if not values:
            continue
        (first_day, first), (last_day, last) = values[0], values[-1]
        name = panel.title.split(" (")[0]
        if len(values) == 1:
            parts.append(f"{name}: {first} on {first_day:%d %b %Y}.")
        else:
            parts.append(
                f"{name}: {first} on {first_day:%d %b %Y}, {last} on {last_day:%d %b %Y} "
                f"({len(values)} measurements)."
            )
    return " ".join(parts) or "No outcome measures recorded yet."


def progress_chart_svg(
    points: Sequence[Point], markers: Sequence[Marker] = (), *, title: str = "Progress"
) -> str:
    days = [p.day for p in points] + [m.day for m in markers]
    height = MARGIN_TOP + len(PANELS) * (PANEL_HEIGHT + PANEL_GAP)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="progress-chart-title progress-chart-desc" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="progress-chart-title">{escape(title)}</title>',
        f'<desc id="progress-chart-desc">{escape(describe(points))} The shaded band is the '
        "range of no meaningful change around the first value; vertical lines mark "
        "interventions starting (solid) and stopping (dashed).</desc>",
    ]
    if not points:
        out.append(
            f'<text x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle" '
            f'fill="{AXIS_COLOUR}">No outcome measures recorded yet.</text></svg>'
        )
        return "".join(out)
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT

    def x_of(day: datetime.date) -> float:
        if first == last:
            return MARGIN_LEFT + plot_width / 2
        return round(MARGIN_LEFT + (day - first).days / span * plot_width, 1)

    for index, panel in enumerate(PANELS):
        top = MARGIN_TOP + index * (PANEL_HEIGHT + PANEL_GAP)
        out.extend(_panel(panel, points, markers, top, x_of))
    out.append(
        f'<text x="{MARGIN_LEFT}" y="{height - 8}" fill="{AXIS_COLOUR}">'
        f"{first:%d %b %Y}</text>"
        f'<text x="{WIDTH - MARGIN_RIGHT}" y="{height - 8}" text-anchor="end" '
        f'fill="{AXIS_COLOUR}">{last:%d %b %Y}</text>'
    )
    out.append("</svg>")
    return "".join(out)


def _panel(panel: Panel, points, markers, top: float, x_of) -> list[str]:
    bottom = top + PANEL_HEIGHT
    scale = PANEL_HEIGHT / (panel.highest - panel.lowest)

    def y_of(value: float) -> float:
        clamped = min(max(value, panel.lowest), panel.highest)
        return round(bottom - (clamped - panel.lowest) * scale, 1)

    right = WIDTH - MARGIN_RIGHT
    out = [
        f'<g class="chart-panel" data-measure="{panel.attribute}">',
        f'<text x="{MARGIN_LEFT}" y="{top - 8}" font-weight="600">{escape(panel.title)}</text>',
        f'<rect x="{MARGIN_LEFT}" y="{top}" width="{right - MARGIN_LEFT}" '
        f'height="{PANEL_HEIGHT}" fill="none" stroke="{AXIS_COLOUR}" stroke-width="0.5"/>',
    ]
    for tick in panel.ticks:
        y = y_of(tick)
        out.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4}" text-anchor="end" '
            f'fill="{AXIS_COLOUR}">{tick}</text>'
        )
    values = [(p, getattr(p, panel.attribute)) for p in points]
    values = [(p, v) for p, v in values if v is not None]
    if values:
        baseline = values[0][1]
        band_top = y_of(baseline + panel.important_change)
        band_bottom = y_of(baseline - panel.important_change)
        out.append(
            f'<rect class="mcid-band" x="{MARGIN_LEFT}" y="{band_top}" '
            f'width="{right - MARGIN_LEFT}" height="{round(band_bottom - band_top, 1)}" '
            f'fill="{BAND_COLOUR}" fill-opacity="0.7">'
            f"<title>No meaningful change: {baseline} ± {panel.important_change:g}</title></rect>"
        )
    for marker in markers:
        x = x_of(marker.day)
        dash = "" if marker.started else ' stroke-dasharray="4 3"'
        colour = START_COLOUR if marker.started else STOP_COLOUR
        out.append(
            f'<line class="intervention-marker" x1="{x}" x2="{x}" y1="{top}" y2="{bottom}" '
            f'stroke="{colour}" stroke-width="1.5"{dash}>'
            f"<title>{escape(marker.label)} on {marker.day:%d %b %Y}</title></line>"
        )
    if len(values) > 1:
        coordinates = " ".join(f"{x_of(p.day)},{y_of(v)}" for p, v in values)
        out.append(
            f'<polyline points="{coordinates}" fill="none" stroke="{panel.colour}" '
            f'stroke-width="2"/>'
        )
    for point, value in values:
        out.append(
            f'<circle class="chart-point" cx="{x_of(point.day)}" cy="{y_of(value)}" r="4.5" '
            f'fill="{panel.colour}"><title>{escape(point.label)}, {point.day:%d %b %Y}: '
            f"{value}</title></circle>"
        )
    out.append("</g>")
    return out
