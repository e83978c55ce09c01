"""The dialer page's pure parts (its chart's days, bars and scale through the shared
chart drawing, screenpop/charts.py), and durations."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from crm_store.enums import FreedBy, RefillStatus
from crm_store.repositories.dialer import RefillView
from screenpop.charts import CHART_HEIGHT, CHART_RIGHT, CHART_TOP, bar_chart, ticks
from screenpop.dialer_view import daily_chart, minutes_text

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
    assert [(c.key, c.values["freed"], c.values["filled"]) for c in chart.columns] == [
        ("2026-11-27", 0, 0),
        ("2026-11-28", 1, 0),
        ("2026-11-29", 2, 1),
    ]
    assert chart.totals == {"freed": 3, "filled": 1}
    freed, filled = chart.columns[-1].bars
    assert (freed.series, filled.series) == ("freed", "filled")  # the refilled drawn in front
    # Two freed fill the scale (0..2); one refilled is half as tall, on the same baseline.
    assert [t.value for t in chart.ticks] == [0, 1, 2]
    assert freed.y + freed.height == chart.baseline == filled.y + filled.height
    assert filled.height == pytest.approx(freed.height / 2)
    assert chart.columns[0].bars[0].height == 0
    assert all(0 <= c.bars[0].y <= CHART_HEIGHT for c in chart.columns)
    assert chart.line == () and chart.line_ticks == ()  # no ratio line, no percent scale


def test_a_long_period_keeps_about_ten_day_labels_ending_today() -> None:
    chart = daily_chart([], today=TODAY, days=90, zone=SHANGHAI)
    labels = [c.label for c in chart.columns if c.label]
    assert 8 <= len(labels) <= 11
    assert chart.columns[-1].label == "11/29"
    assert [t.value for t in chart.ticks] == [0, 1]  # an empty chart still has a scale
    xs = [c.x for c in chart.columns]
    assert xs == sorted(xs) and xs[-1] + chart.columns[-1].width <= chart.width


def test_a_chart_needs_a_day() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        daily_chart([], today=TODAY, days=0, zone=SHANGHAI)


@pytest.mark.parametrize(
    ("top", "expected"),
    [(0, [0, 1]), (4, [0, 1, 2, 3, 4]), (5, [0, 2, 4, 6]), (9, [0, 5, 10]), (41, [0, 20, 40, 60])],
)
def test_scale_ticks_are_round_and_cover_the_top(top: int, expected: list[int]) -> None:
    assert ticks(top) == expected


def test_durations() -> None:
    assert minutes_text(None) is None
    assert minutes_text(12.0) == "12 min"
    assert minutes_text(185.4) == "3 h 05 min"


def test_a_ratio_line_has_its_own_percent_scale_and_skips_empty_columns() -> None:
    chart = bar_chart(
        [("a", "A"), ("b", "B"), ("c", "C")],
        {"offered": [4, 0, 2], "answered": [2, 0, 2]},
        key_name="hour",
        line=[0.5, None, 1.0],
        line_name="service-level",
    )
    assert [p.value for p in chart.line] == [0.5, 1.0]
    assert chart.line[1].y == pytest.approx(CHART_TOP)  # 100 % at the top of the plot
    assert chart.line[0].y == pytest.approx((chart.baseline + CHART_TOP) / 2)
    assert [t.value for t in chart.line_ticks] == [0, 50, 100]
    plain = bar_chart([("a", "A")], {"offered": [1]}, key_name="day")
    assert chart.right == chart.width - CHART_RIGHT  # room for the percent scale
    assert chart.right < plain.right < plain.width  # without a line: the last label's room
    assert [c.ratio for c in chart.columns] == [0.5, None, 1.0]
    with pytest.raises(ValueError, match="one value per column"):
        bar_chart([("a", "A")], {"offered": [1, 2]}, key_name="day")
