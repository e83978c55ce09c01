"""Day-before reminders and follow-ups: which to place now (pure)."""

from __future__ import annotations

import datetime as dt

from crm_store.enums import ReminderResult
from crm_store.repositories.reminders import DueAppointment, ReminderAttempt
from cti.dialer.config import DialerPolicy
from cti.dialer.reminders import follow_up_window, reminder_window, reminders_to_place

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2027, 6, 2, 10, 0, tzinfo=SHANGHAI)  # Wednesday
POLICY = DialerPolicy(enabled=True, reminders=True, total_lines=3)
TOMORROW = dt.datetime(2027, 6, 3, 9, 0, tzinfo=SHANGHAI)


def due(
    n: int, *, hours: int = 0, phone: str | None = "auto", patient: int | None = None
) -> DueAppointment:
    return DueAppointment(
        appointment_id=n,
        patient_id=patient or 100 + n,
        phone_e164=f"+86138001380{n:02d}" if phone == "auto" else phone,
        starts_at=TOMORROW + dt.timedelta(hours=hours),
    )


def ids(chosen: list[DueAppointment]) -> list[int]:
    return [a.appointment_id for a in chosen]


def test_window_is_the_hospitals_next_day() -> None:
    start, end = reminder_window(NOW, POLICY)
    assert start == dt.datetime(2027, 6, 3, tzinfo=SHANGHAI)
    assert end == dt.datetime(2027, 6, 4, tzinfo=SHANGHAI)


def test_follow_ups_are_for_the_previous_day() -> None:
    start, end = follow_up_window(NOW, POLICY)
    assert start == dt.datetime(2027, 6, 1, tzinfo=SHANGHAI)
    assert end == dt.datetime(2027, 6, 2, tzinfo=SHANGHAI)


def test_a_completed_survey_is_done() -> None:
    attempts = [ReminderAttempt(1, NOW - dt.timedelta(hours=3), ReminderResult.COMPLETED)]
    assert reminders_to_place([due(1)], attempts, NOW, POLICY, lines_in_use=0) == []


def test_earliest_first_within_the_lines() -> None:
    appointments = [due(1, hours=5), due(2, hours=1), due(3, hours=3), due(4, hours=2)]
    assert ids(reminders_to_place(appointments, [], NOW, POLICY, lines_in_use=0)) == [2, 4, 3]
    assert ids(reminders_to_place(appointments, [], NOW, POLICY, lines_in_use=2)) == [2]
    assert reminders_to_place(appointments, [], NOW, POLICY, lines_in_use=3) == []


def test_off_outside_hours_no_phone_and_do_not_call() -> None:
    appointments = [due(1), due(2, phone=None), due(3)]
    assert reminders_to_place(appointments, [], NOW, DialerPolicy(), lines_in_use=0) == []
    night = dt.datetime(2027, 6, 2, 21, 0, tzinfo=SHANGHAI)
    assert reminders_to_place(appointments, [], night, POLICY, lines_in_use=0) == []
    blocked = POLICY.model_copy(update={"do_not_call": frozenset({"+8613800138003"})})
    assert ids(reminders_to_place(appointments, [], NOW, blocked, lines_in_use=0)) == [1]


def test_done_pending_retried_and_capped() -> None:
    appointments = [due(n) for n in range(1, 7)]
    hour = dt.timedelta(hours=1)
    attempts = [
        ReminderAttempt(1, NOW - hour, ReminderResult.CONFIRMED),
        ReminderAttempt(2, NOW - hour, ReminderResult.CANCELLED),
        ReminderAttempt(3, NOW - dt.timedelta(minutes=1), ReminderResult.PENDING),
        ReminderAttempt(4, NOW - hour, ReminderResult.NO_ANSWER),  # retried after spacing
        ReminderAttempt(5, NOW - dt.timedelta(minutes=10), ReminderResult.BUSY),  # too soon
        ReminderAttempt(6, NOW - 2 * hour, ReminderResult.MACHINE),
        ReminderAttempt(6, NOW - hour, ReminderResult.NO_INPUT),  # two calls: done trying
    ]
    assert ids(reminders_to_place(appointments, attempts, NOW, POLICY, lines_in_use=0)) == [4]


def test_one_call_per_patient_at_a_time() -> None:
    appointments = [due(1, patient=7), due(2, hours=1, patient=7)]
    assert ids(reminders_to_place(appointments, [], NOW, POLICY, lines_in_use=0)) == [1]
