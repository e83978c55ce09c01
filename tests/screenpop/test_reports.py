"""Report figures from a known set of call records equal the hand-computed values."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from screenpop.errors import InvalidPeriod
from screenpop.report_period import Preset, parse_period
from screenpop.reports import (
    BucketUnit,
    CallRecord,
    ComplaintRecord,
    build_report,
    compute_report,
    records_data,
    report_csv,
    report_json,
)

DAY = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T0 = DAY + dt.timedelta(hours=9)


def s(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


CALLS = [
    # queued at T0 (after the IVR), waited, talked
    CallRecord(s(-40), s(130), True, False, "main.menu", "appointments", s(0), "A", s(10)),
    CallRecord(s(-40), s(330), True, False, "main.menu", "appointments", s(0), "B", s(30)),
    CallRecord(s(-40), s(50), True, False, "main.menu", "appointments", s(0)),  # abandoned
    CallRecord(s(-40), s(65), True, False, "complaints.menu", "complaints", s(0), "A", s(5)),
    CallRecord(s(0), s(90), True, True, "info.hours"),  # contained
    CallRecord(s(0), s(40), True, False, "booking.choose_slot"),  # hung up in the IVR
    CallRecord(s(0), s(20), True, False, "main.menu"),  # hung up in the IVR
    # the next day: outside the period
    CallRecord(
        DAY + dt.timedelta(days=1, hours=10),
        None,
        True,
        False,
        None,
        "appointments",
        DAY + dt.timedelta(days=1, hours=10),
    ),
]
COMPLAINTS = [
    ComplaintRecord(s(100), s(5000)),
    ComplaintRecord(s(200), DAY + dt.timedelta(days=2)),
    ComplaintRecord(DAY - dt.timedelta(days=3), s(300)),
]


def test_figures_match_the_hand_computed_values() -> None:
    report = compute_report(
        CALLS, COMPLAINTS, start=DAY, end=DAY + dt.timedelta(days=1), target_s=20
    )
    total = report.total
    assert (total.offered, total.answered, total.abandoned) == (4, 3, 1)
    assert total.answered_within_target == 2
    assert total.service_level == pytest.approx(0.5)
    assert total.average_speed_of_answer_s == pytest.approx(15.0)  # (10+30+5)/3
    assert total.abandonment_rate == pytest.approx(0.25)
    assert total.average_handle_time_s == pytest.approx(160.0)  # (120+300+60)/3

    appointments, complaints = report.queues
    assert appointments.name == "appointments" and complaints.name == "complaints"
    assert appointments.service_level == pytest.approx(1 / 3)
    assert appointments.average_speed_of_answer_s == pytest.approx(20.0)
    assert appointments.abandonment_rate == pytest.approx(1 / 3)
    assert appointments.average_handle_time_s == pytest.approx(210.0)
    assert complaints.service_level == 1.0 and complaints.abandonment_rate == 0.0
    assert complaints.average_speed_of_answer_s == 5.0
    assert complaints.average_handle_time_s == 60.0

    agent_a, agent_b = report.agents
    assert (agent_a.name, agent_a.answered) == ("A", 2)
    assert agent_a.average_speed_of_answer_s == pytest.approx(7.5)
    assert agent_a.average_handle_time_s == pytest.approx(90.0)
    assert (agent_b.name, agent_b.answered, agent_b.service_level) == ("B", 1, 0.0)
    assert agent_b.average_handle_time_s == 300.0

    assert (report.ivr_calls, report.ivr_contained) == (7, 1)
    assert report.ivr_containment == pytest.approx(1 / 7)
    assert report.ivr_left_at == {"booking.choose_slot": 1, "main.menu": 1}
    assert (report.complaints_opened, report.complaints_closed) == (2, 2)


def test_exports_hold_the_same_figures() -> None:
    report = compute_report(CALLS, COMPLAINTS, start=DAY, end=DAY + dt.timedelta(days=1))
    lines = report_csv(report).splitlines()
    assert lines[0].startswith("kind,name,offered,answered")
    assert lines[1] == "total,*,4,3,1,2,0.5,15.0,0.25,160.0"
    assert report.bucket_unit is BucketUnit.HOUR
    assert len(lines) == 1 + 1 + 2 + 2 + 24  # header, total, queues, agents, hours
    assert lines[6].startswith("hour,2026-01-01 00:00,0,0,0,0,,,,")
    assert lines[6 + 9] == "hour,2026-01-01 09:00,4,3,1,2,0.5,15.0,0.25,160.0"
    data = report_json(report)
    assert data["start"] == "2026-01-01T00:00:00+00:00"
    assert data["buckets"][9]["starts"] == "2026-01-01T09:00:00+00:00"
    assert data["bucket_unit"] == "hour" and data["total"]["offered"] == 4


def test_a_queue_with_its_own_target_is_measured_against_it() -> None:
    start, end = DAY, DAY + dt.timedelta(days=1)
    data = records_data(
        CALLS, [], start=start, end=end, target_s=20, queue_targets={"complaints": 3}
    )
    report = build_report(data)
    assert [q.service_level for q in report.queues] == [pytest.approx(1 / 3), 0.0]


TODAY = dt.date(2026, 11, 26)  # a Thursday


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        (None, TODAY, TODAY),
        ("today", TODAY, TODAY),
        ("yesterday", dt.date(2026, 11, 25), dt.date(2026, 11, 25)),
        ("this_week", dt.date(2026, 11, 23), TODAY),
        ("last_7_days", dt.date(2026, 11, 20), TODAY),
        ("this_month", dt.date(2026, 11, 1), TODAY),
    ],
)
def test_presets_are_whole_days_of_the_hospitals_calendar(
    preset: str | None, first: dt.date, last: dt.date
) -> None:
    period = parse_period(preset=preset, first=None, last=None, today=TODAY)
    assert (period.first, period.last) == (first, last)


def test_custom_dates_are_bounded_at_the_hospitals_midnights() -> None:
    period = parse_period(preset="today", first="2026-11-01", last="2026-11-02", today=TODAY)
    assert period.preset is Preset.CUSTOM
    start, end = period.bounds(zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert start == dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 11, 2, 16, tzinfo=dt.UTC)
    year = parse_period(preset=None, first="2025-01-01", last="2026-01-01", today=TODAY)
    assert (year.last - year.first).days + 1 == 366  # the longest allowed
    one_day = parse_period(preset=None, first="2026-11-01", last=None, today=TODAY)
    assert one_day.first == one_day.last == dt.date(2026, 11, 1)


@pytest.mark.parametrize(
    ("preset", "first", "last", "message"),
    [
        (None, "2026-11-05", "2026-11-01", "after to"),
        (None, "2025-01-01", "2026-01-02", "at most 366 days"),  # 367 days
        (None, "yesterday", None, "YYYY-MM-DD"),
        (None, "2026-11-01", "2026-13-01", "to must be a date"),
        (None, None, "2026-11-01", "from as well"),
        ("fortnight", None, None, "unknown period"),
        ("custom", None, None, "needs from"),
    ],
)
def test_a_bad_period_is_refused_with_a_reason(
    preset: str | None, first: str | None, last: str | None, message: str
) -> None:
    with pytest.raises(InvalidPeriod, match=message):
        parse_period(preset=preset, first=first, last=last, today=TODAY)


def test_an_empty_period_has_no_ratios_and_a_backwards_one_is_refused() -> None:
    report = compute_report([], [], start=DAY, end=DAY + dt.timedelta(hours=1))
    assert report.total.service_level is None and report.ivr_containment is None
    with pytest.raises(ValueError, match="must end after"):
        compute_report([], [], start=DAY, end=DAY)
