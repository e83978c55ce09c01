"""The consoles' one way to draw a chart: bars per column (overlaid, in series order),
optionally a line of ratios (0..100 % on the right axis), drawn on the server as SVG.

The consoles run offline and their content security policy allows no foreign script, so
the chart's geometry is computed here, where it is unit-tested, and the template macro
``templates/_chart.html`` only writes the shapes out. The dialer page and the reports
page both use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Chart size in SVG user units (scaled to the page width by CSS).
CHART_WIDTH = 720
CHART_HEIGHT = 220
#: Room at the left for the count scale, at the right for the ratio scale (when there is
#: a line; else for the last column's label), below for the column labels, above the top.
CHART_LEFT = 36
CHART_RIGHT = 40
CHART_RIGHT_PLAIN = 14
CHART_BOTTOM = 28
CHART_TOP = 10
#: At most about this many column labels along the axis.
MAX_LABELS = 10


@dataclass(frozen=True)
class Bar:
    series: str
    value: int
    y: float
    height: float


@dataclass(frozen=True)
class Column:
    """One column: its key (a date, an hour), its axis label ("" when skipped to keep
    the axis legible), its bars and, with a line, the line's value there."""

    key: str
    label: str
    x: float
    width: float
    values: dict[str, int]
    bars: tuple[Bar, ...]
    ratio: float | None = None


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float


@dataclass(frozen=True)
class BarChart:
    key_name: str  # the columns' data attribute: data-day="2026-11-29"
    series: tuple[str, ...]
    columns: tuple[Column, ...]
    ticks: tuple[Tick, ...]
    width: int
    height: int
    left: int
    right: int  # where the plot ends
    baseline: float
    totals: dict[str, int]
    line_name: str | None = None
    line: tuple[Point, ...] = ()  # columns without a value are left out
    line_ticks: tuple[Tick, ...] = ()  # percent


def ticks(top: int) -> list[int]:
    """Round values from 0 to at least ``top`` (and at least 1), at most five of them."""
    step = 1
    while top > 4 * step:
        # 1, 2, 5, 10, 20, 50, …
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    ceiling = max(step, -(-top // step) * step)
    return list(range(0, ceiling + 1, step))


def bar_chart(
    columns: Sequence[tuple[str, str]],
    series: Mapping[str, Sequence[int]],
    *,
    key_name: str,
    line: Sequence[float | None] | None = None,
    line_name: str | None = None,
) -> BarChart:
    """A chart of ``columns`` (key, label) with one value per column in each of
    ``series`` (drawn overlaid from the baseline, the first behind), and optionally a
    ``line`` of ratios 0..1 per column."""
    if not columns:
        raise ValueError("a chart needs at least one column")
    n = len(columns)
    if any(len(values) != n for values in series.values()) or (line and len(line) != n):
        raise ValueError("every series needs one value per column")
    scale = ticks(max((v for values in series.values() for v in values), default=0))
    top = scale[-1]
    baseline = float(CHART_HEIGHT - CHART_BOTTOM)
    plot_height = baseline - CHART_TOP
    right = CHART_WIDTH - (CHART_RIGHT if line is not None else CHART_RIGHT_PLAIN)
    slot = (right - CHART_LEFT) / n
    bar = max(1.0, slot * 0.7)
    label_every = max(1, -(-n // MAX_LABELS))

    def height(value: float, of: float) -> float:
        return round(plot_height * value / of, 2)

    built = []
    points = []
    for i, (key, label) in enumerate(columns):
        x = round(CHART_LEFT + i * slot + (slot - bar) / 2, 2)
        values = {name: int(vs[i]) for name, vs in series.items()}
        bars = tuple(
            Bar(name, v, round(baseline - height(v, top), 2), height(v, top))
            for name, v in values.items()
        )
        ratio = line[i] if line is not None else None
        if ratio is not None:
            clamped = max(0.0, min(1.0, ratio))
            points.append(
                Point(round(x + bar / 2, 2), round(baseline - height(clamped, 1), 2), ratio)
            )
        built.append(
            Column(
                key=key,
                label=label if (n - 1 - i) % label_every == 0 else "",
                x=x,
                width=round(bar, 2),
                values=values,
                bars=bars,
                ratio=ratio,
            )
        )
    return BarChart(
        key_name=key_name,
        series=tuple(series),
        columns=tuple(built),
        ticks=tuple(Tick(v, round(baseline - height(v, top), 2)) for v in scale),
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        left=CHART_LEFT,
        right=right,
        baseline=baseline,
        totals={name: sum(int(v) for v in vs) for name, vs in series.items()},
        line_name=line_name if line is not None else None,
        line=tuple(points),
        line_ticks=tuple(Tick(p, round(baseline - height(p, 100), 2)) for p in (0, 50, 100))
        if line is not None
        else (),
    )
