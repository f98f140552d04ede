"""The dashboard's chart of daily counters, laid out here and drawn as inline SVG.

The page has a strict Content-Security-Policy and no chart library: the geometry is
computed on the server and the template only writes it out (colours come from CSS).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from outpost.events.schemas import DayStats

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 14, 30
SERIES = (
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("suppressed", "Suppressed"),
    ("bounced", "Bounced"),
)
GRID_LINES = 4


@dataclass(frozen=True)
class Line:
    """One series: its key (the CSS class), label, polyline points and total."""

    key: str
    label: str
    points: str
    dots: list[tuple[float, float]]
    total: int


@dataclass(frozen=True)
class Chart:
    """Everything the template draws."""

    width: int
    height: int
    lines: list[Line]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    plot_left: int
    plot_right: int
    plot_bottom: int
    days: Sequence[DayStats]


def nice_ceiling(value: int) -> int:
    """The smallest round number at or above ``value`` that splits into the grid lines."""
    if value <= GRID_LINES:
        return GRID_LINES
    magnitude = 10 ** math.floor(math.log10(value / GRID_LINES))
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude * GRID_LINES)
        if top >= value and top % GRID_LINES == 0:
            return top
    return int(10 * magnitude * GRID_LINES)


def daily_chart(days: Sequence[DayStats]) -> Chart:
    """The chart of ``days`` (at least one) for the four series."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max((getattr(d, key) for d in days for key, _ in SERIES), default=0))
    span = max(len(days) - 1, 1)

    def x(index: int) -> float:
        return round(LEFT + (plot_w * index / span if len(days) > 1 else plot_w / 2), 1)

    def y(value: int) -> float:
        return round(TOP + plot_h - plot_h * value / top, 1)

    lines = []
    for key, label in SERIES:
        dots = [(x(i), y(getattr(day, key))) for i, day in enumerate(days)]
        points = " ".join(f"{px},{py}" for px, py in dots)
        lines.append(Line(key, label, points, dots, sum(getattr(d, key) for d in days)))
    y_ticks = [
        (y(top * i // GRID_LINES), f"{top * i // GRID_LINES:,}") for i in range(GRID_LINES + 1)
    ]
    every = max(1, math.ceil(len(days) / 8))
    x_ticks = [(x(i), day.day.strftime("%-d %b")) for i, day in enumerate(days) if i % every == 0]
    return Chart(WIDTH, HEIGHT, lines, y_ticks, x_ticks, LEFT, WIDTH - RIGHT, TOP + plot_h, days)
