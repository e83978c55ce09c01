"""Report figures computed by the store's aggregating queries from a known day of call
records (tests/store/report_records.py) equal the hand-computed values, on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from crm_store.database import Database
from crm_store.repositories.reports import ReportData, ReportRepository, Tally
from screenpop.reports import BucketUnit, Report, build_report
from tests.store.report_records import DEFAULT_TARGET_S, QUEUE_TARGETS, seed_report_day

DAY = dt.datetime(2030, 1, 7, tzinfo=dt.UTC)


def _report(
    database: Database, start: dt.datetime, end: dt.datetime, zone: dt.tzinfo = dt.UTC
) -> tuple[ReportData, Report]:
    with database.session() as session:
        data = ReportRepository(session).load(
            start=start, end=end, target_s=DEFAULT_TARGET_S, queue_targets=QUEUE_TARGETS
        )
    return data, build_report(data, zone=zone, average_fee=50.0, currency="CNY")


def test_a_days_figures_equal_the_hand_computed_values(database: Database) -> None:
    seed_report_day(database, DAY)
    data, report = _report(database, DAY, DAY + dt.timedelta(days=1))

    total = report.total
    assert (total.offered, total.answered, total.abandoned) == (5, 4, 1)
    assert total.answered_within_target == 2  # c1 (10 s), c2 (exactly 20 s)
    assert total.service_level == pytest.approx(0.4)
    assert total.average_speed_of_answer_s == pytest.approx((10 + 20 + 5 + 40) / 4)
    assert total.abandonment_rate == pytest.approx(0.2)
    assert total.average_handle_time_s == pytest.approx((120 + 300 + 60) / 3, abs=0.01)

    appointments, complaints = report.queues
    assert (appointments.name, appointments.offered, appointments.answered) == (
        "appointments",
        4,
        3,
    )
    assert appointments.service_level == pytest.approx(0.5)
    assert appointments.average_speed_of_answer_s == pytest.approx(70 / 3)
    assert appointments.abandonment_rate == pytest.approx(0.25)
    assert appointments.average_handle_time_s == pytest.approx(210, abs=0.01)
    assert (complaints.name, complaints.offered, complaints.answered) == ("complaints", 1, 1)
    assert complaints.service_level == 0.0  # 5 s against its own 3 s target
    assert complaints.average_handle_time_s == pytest.approx(60, abs=0.01)

    a1001, a1002 = report.agents
    assert (a1001.name, a1001.answered, a1001.answered_within_target) == ("1001", 2, 1)
    assert a1001.average_speed_of_answer_s == pytest.approx(7.5)
    assert a1001.average_handle_time_s == pytest.approx(90, abs=0.01)
    assert (a1002.name, a1002.answered, a1002.answered_within_target) == ("1002", 2, 1)
    assert a1002.average_speed_of_answer_s == pytest.approx(30)
    assert a1002.average_handle_time_s == pytest.approx(300, abs=0.01)  # c5 still talking

    # A day is charted by hour: 9:00-10:00 holds c1-c3, 10:00-11:00 c4 (on the hour), c5.
    assert report.bucket_unit is BucketUnit.HOUR and len(report.buckets) == 24
    by_hour = {b.starts.hour: b.figures for b in report.buckets if b.figures.offered}
    assert {h: (f.offered, f.answered) for h, f in by_hour.items()} == {9: (3, 2), 10: (2, 2)}
    assert by_hour[9].service_level == pytest.approx(2 / 3)
    assert sorted(data.hours) == [9, 10]

    assert report.calls_received == 3
    assert (report.ivr_calls, report.ivr_contained, report.ivr_to_agent) == (6, 1, 1)
    assert report.ivr_containment == pytest.approx(1 / 6)
    assert report.ivr_left_at == {"?": 1, "booking.choose_slot": 1, "main.menu": 1}
    assert (report.complaints_opened, report.complaints_closed) == (2, 2)
    assert report.dialer is not None and report.dialer.freed == 0


def test_hours_and_days_are_the_hospitals(database: Database) -> None:
    """The same records seen from Shanghai (UTC+8): the UTC day's 9:00 is 17:00 there,
    the second before the UTC day (c6) is 07:59:59 there, and a longer period is charted
    by the hospital's days."""
    seed_report_day(database, DAY)
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    local_midnight = dt.datetime(2030, 1, 7, tzinfo=shanghai).astimezone(dt.UTC)
    _data, day = _report(database, local_midnight, local_midnight + dt.timedelta(days=1), shanghai)
    assert {b.starts.hour: b.figures.offered for b in day.buckets if b.figures.offered} == {
        7: 1,
        17: 3,
        18: 2,
    }
    start = dt.datetime(2030, 1, 1, tzinfo=shanghai).astimezone(dt.UTC)
    _data, week = _report(database, start, start + dt.timedelta(days=9), shanghai)
    assert week.bucket_unit is BucketUnit.DAY and len(week.buckets) == 9
    assert [
        (b.starts.date().day, b.figures.offered) for b in week.buckets if b.figures.offered
    ] == [
        (7, 6),
        (8, 1),  # c7, at the end of the UTC day: 08:00 on the 8th in Shanghai
    ]


def test_an_empty_period_has_no_ratios(database: Database) -> None:
    data, report = _report(database, DAY, DAY + dt.timedelta(hours=1))
    assert data.queues == {} and data.agents == {} and report.total.offered == 0
    assert report.total.service_level is None and report.ivr_containment is None
    assert sum(data.queues.values(), Tally()) == Tally()
    with database.session() as session, pytest.raises(ValueError, match="must end after"):
        ReportRepository(session).load(start=DAY, end=DAY, target_s=20)
