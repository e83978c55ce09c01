"""The dialer page's content, from the store's records (pure: no HTTP, no session).

The chart is drawn on the server as SVG — the consoles run offline and their content
security policy allows no foreign script — so its geometry is computed here, where it is
unit-tested, and the template only writes the shapes out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from crm_store.enums import RefillStatus
from crm_store.repositories.dialer import RefillView

#: Chart size in SVG user units (scaled to the page width by CSS).
CHART_WIDTH = 720
CHART_HEIGHT = 220
#: Room at the left for the count scale and below for the day labels.
CHART_LEFT = 36
CHART_BOTTOM = 28
CHART_TOP = 10


@dataclass(frozen=True)
class DayBars:
    """One day of the chart: places freed and places the dialer refilled."""

    day: dt.date
    freed: int
    filled: int
    x: float
    width: float
    freed_y: float
    freed_height: float
    filled_y: float
    filled_height: float
    label: str  # "" on days whose label is skipped to keep the axis legible


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class DailyChart:
    days: tuple[DayBars, ...]
    ticks: tuple[Tick, ...]
    width: int
    height: int
    left: int
    baseline: float
    total_freed: int
    total_filled: int


def local_day(moment: dt.datetime, zone: dt.tzinfo) -> dt.date:
    return moment.astimezone(zone).date()


def _ticks(top: int) -> list[int]:
    """Round values from 0 to at least ``top`` (and at least 1), at most five of them."""
    step = 1
    while top > 4 * step:
        # 1, 2, 5, 10, 20, 50, …
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    ceiling = max(step, -(-top // step) * step)
    return list(range(0, ceiling + 1, step))


def daily_chart(
    refills: Sequence[RefillView], *, today: dt.date, days: int, zone: dt.tzinfo
) -> DailyChart:
    """Bars for the last ``days`` days up to ``today`` (hospital time): places freed per
    day of their freeing, and how many of those the dialer refilled."""
    if days < 1:
        raise ValueError("a chart needs at least one day")
    first = today - dt.timedelta(days=days - 1)
    freed = dict.fromkeys((first + dt.timedelta(days=i) for i in range(days)), 0)
    filled = dict(freed)
    for refill in refills:
        day = local_day(refill.freed_at, zone)
        if day not in freed:
            continue
        freed[day] += 1
        if refill.status is RefillStatus.FILLED and refill.filled_appointment_id is not None:
            filled[day] += 1
    ticks = _ticks(max(freed.values(), default=0))
    scale_top = ticks[-1]
    baseline = float(CHART_HEIGHT - CHART_BOTTOM)
    plot_height = baseline - CHART_TOP
    slot = (CHART_WIDTH - CHART_LEFT) / days
    bar = max(1.0, slot * 0.7)
    label_every = max(1, -(-days // 10))  # at most about ten labels along the axis

    def height(n: int) -> float:
        return round(plot_height * n / scale_top, 2)

    bars = []
    for i, day in enumerate(freed):
        x = round(CHART_LEFT + i * slot + (slot - bar) / 2, 2)
        fh, gh = height(freed[day]), height(filled[day])
        show = (days - 1 - i) % label_every == 0
        bars.append(
            DayBars(
                day=day,
                freed=freed[day],
                filled=filled[day],
                x=x,
                width=round(bar, 2),
                freed_y=round(baseline - fh, 2),
                freed_height=fh,
                filled_y=round(baseline - gh, 2),
                filled_height=gh,
                label=f"{day.month}/{day.day}" if show else "",
            )
        )
    return DailyChart(
        days=tuple(bars),
        ticks=tuple(Tick(v, round(baseline - height(v), 2)) for v in ticks),
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        left=CHART_LEFT,
        baseline=baseline,
        total_freed=sum(freed.values()),
        total_filled=sum(filled.values()),
    )


def minutes_text(minutes: float | None) -> str | None:
    """``12 min`` / ``3 h 05 min`` style durations (language-neutral digits)."""
    if minutes is None:
        return None
    whole = round(minutes)
    hours, rest = divmod(whole, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"
