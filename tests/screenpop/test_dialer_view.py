"""The dialer page's pure parts: the chart's days, bars and scale, and durations."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from crm_store.enums import FreedBy, RefillStatus
from crm_store.repositories.dialer import RefillView
from screenpop.dialer_view import CHART_HEIGHT, _ticks, daily_chart, minutes_text

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 29)


def refill(freed_at: dt.datetime, status: RefillStatus, *, appointment: int | None) -> RefillView:
    return RefillView(
        refill_id=1,
        slot_id=1,
        slot_starts_at=freed_at + dt.timedelta(days=1),
        freed_by=FreedBy.CANCELLED,
        freed_at=freed_at,
        status=status,
        closed_at=None,
        filled_appointment_id=appointment,
        calls=(),
    )


def test_bars_count_by_the_hospitals_day_and_only_the_dialers_fills() -> None:
    # 17:30 UTC on the 28th is 01:30 on the 29th in Shanghai.
    late = dt.datetime(2026, 11, 28, 17, 30, tzinfo=dt.UTC)
    early = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)  # 23:00 on the 28th there
    chart = daily_chart(
        [
            refill(late, RefillStatus.FILLED, appointment=7),
            refill(late, RefillStatus.FILLED, appointment=None),  # booked otherwise
            refill(early, RefillStatus.EXHAUSTED, appointment=None),
            refill(late - dt.timedelta(days=30), RefillStatus.FILLED, appointment=8),  # too old
        ],
        today=TODAY,
        days=3,
        zone=SHANGHAI,
    )
    assert [(b.day.day, b.freed, b.filled) for b in chart.days] == [
        (27, 0, 0),
        (28, 1, 0),
        (29, 2, 1),
    ]
    assert (chart.total_freed, chart.total_filled) == (3, 1)
    last = chart.days[-1]
    # Two freed fill the scale (0..2); one refilled is half as tall, on the same baseline.
    assert [t.value for t in chart.ticks] == [0, 1, 2]
    assert last.freed_y + last.freed_height == chart.baseline == last.filled_y + last.filled_height
    assert last.filled_height == pytest.approx(last.freed_height / 2)
    assert chart.days[0].freed_height == 0
    assert all(0 <= b.freed_y <= CHART_HEIGHT for b in chart.days)


def test_a_long_period_keeps_about_ten_day_labels_ending_today() -> None:
    chart = daily_chart([], today=TODAY, days=90, zone=SHANGHAI)
    labels = [b.label for b in chart.days if b.label]
    assert 8 <= len(labels) <= 11
    assert chart.days[-1].label == "11/29"
    assert [t.value for t in chart.ticks] == [0, 1]  # an empty chart still has a scale
    xs = [b.x for b in chart.days]
    assert xs == sorted(xs) and xs[-1] + chart.days[-1].width <= chart.width


def test_a_chart_needs_a_day() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        daily_chart([], today=TODAY, days=0, zone=SHANGHAI)


@pytest.mark.parametrize(
    ("top", "ticks"),
    [(0, [0, 1]), (4, [0, 1, 2, 3, 4]), (5, [0, 2, 4, 6]), (9, [0, 5, 10]), (41, [0, 20, 40, 60])],
)
def test_scale_ticks_are_round_and_cover_the_top(top: int, ticks: list[int]) -> None:
    assert _ticks(top) == ticks


def test_durations() -> None:
    assert minutes_text(None) is None
    assert minutes_text(12.0) == "12 min"
    assert minutes_text(185.4) == "3 h 05 min"
