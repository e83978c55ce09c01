"""Report figures from a known set of call records equal the hand-computed values."""

from __future__ import annotations

import datetime as dt

import pytest

from screenpop.reports import (
    CallRecord,
    ComplaintRecord,
    bar_chart_svg,
    compute_report,
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


def test_exports_and_chart() -> None:
    report = compute_report(CALLS, COMPLAINTS, start=DAY, end=DAY + dt.timedelta(days=1))
    lines = report_csv(report).splitlines()
    assert lines[0].startswith("kind,name,offered,answered")
    assert lines[1] == "total,*,4,3,1,2,0.5,15.0,0.25,160.0"
    assert len(lines) == 1 + 1 + 2 + 2
    data = report_json(report)
    assert data["start"] == "2026-01-01T00:00:00+00:00"
    svg = bar_chart_svg({"<b>appointments</b>": 1 / 3, "complaints": 1.0})
    assert svg.startswith("<svg") and "&lt;b&gt;" in svg and "33%" in svg and "100%" in svg


def test_an_empty_period_has_no_ratios_and_a_backwards_one_is_refused() -> None:
    report = compute_report([], [], start=DAY, end=DAY + dt.timedelta(hours=1))
    assert report.total.service_level is None and report.ivr_containment is None
    with pytest.raises(ValueError, match="must end after"):
        compute_report([], [], start=DAY, end=DAY)
