"""Charts as server-rendered SVG: no chart library, no script, nothing inline but the
SVG elements themselves (colours come from classes in console.css, so the CSP needs no
`unsafe-inline`). Every label is escaped by the template that draws the shapes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 560
BAR_AREA = 180
SERIES_CLASSES = 8


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    legend: tuple[tuple[str, str], ...] = ()
    """(css class, series name) for stacked charts."""


def stacked_columns(days: Sequence[str], series: Mapping[str, Mapping[str, int]]) -> Chart:
    """One column per day, stacked by series (e.g. requests per purpose per day)."""
    names = list(series)
    totals = [sum(series[name].get(day, 0) for name in names) for day in days]
    peak = max(totals, default=0) or 1
    slot = (WIDTH - 40) / max(len(days), 1)
    bars: list[Bar] = []
    labels: list[Label] = []
    top = 20
    for i, day in enumerate(days):
        x = 40 + i * slot + slot * 0.15
        base: float = top + BAR_AREA
        for n, name in enumerate(names):
            value = series[name].get(day, 0)
            if not value:
                continue
            height = BAR_AREA * value / peak
            base -= height
            css = f"s{n % SERIES_CLASSES}"
            bars.append(Bar(x, base, slot * 0.7, height, css, f"{day} · {name}: {value}"))
        labels.append(Label(x + slot * 0.35, top + BAR_AREA + 16, day[5:]))
        labels.append(Label(x + slot * 0.35, base - 4, str(totals[i])))
    legend = tuple((f"s{n % SERIES_CLASSES}", name) for n, name in enumerate(names))
    return Chart(WIDTH, top + BAR_AREA + 26, tuple(bars), tuple(labels), legend)


def horizontal_bars(items: Sequence[tuple[str, int]]) -> Chart:
    """One bar per item, longest first as given (denials by reason, top readers)."""
    row = 22
    peak = max((value for _, value in items), default=0) or 1
    label_width = 200
    span = WIDTH - label_width - 60
    bars: list[Bar] = []
    labels: list[Label] = []
    for i, (name, value) in enumerate(items):
        y = 8 + i * row
        length = max(span * value / peak, 1)
        bars.append(
            Bar(label_width, y, length, row - 6, f"s{i % SERIES_CLASSES}", f"{name}: {value}")
        )
        labels.append(Label(label_width - 6, y + row - 10, name, "end"))
        labels.append(Label(label_width + length + 4, y + row - 10, str(value), "start"))
    return Chart(WIDTH, max(8 + len(items) * row + 8, 40), tuple(bars), tuple(labels))
