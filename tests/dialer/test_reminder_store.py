"""Reminder calls in the store, on SQLite and PostgreSQL: what is due, every call, and a
cancellation on the call freeing the place for the refill."""

from __future__ import annotations

import datetime as dt

from crm_store.database import Database
from crm_store.enums import AppointmentStatus, BookingChannel, ReminderKind, ReminderResult
from crm_store.repositories import AppointmentRepository
from crm_store.repositories.dialer import DialerRepository
from crm_store.repositories.reminders import ReminderRepository
from tests.dialer.builders import build_clinic

NOW = dt.datetime(2030, 3, 4, 2, 0, tzinfo=dt.UTC)
PHONE = "+8613200132001"


def test_due_calls_and_cancel_on_the_call(database: Database) -> None:
    with database.session() as session:
        clinic = build_clinic(
            session, now=NOW, numbers=[], starts_in=dt.timedelta(hours=30), holder_numbers=[PHONE]
        )
        later = build_clinic(
            session,
            now=NOW,
            numbers=[],
            starts_in=dt.timedelta(hours=60),
            holder_numbers=["+8613200132002"],
            tag="L",
        )
        repo = ReminderRepository(session)
        [due] = repo.due_between(NOW + dt.timedelta(hours=24), NOW + dt.timedelta(hours=48))
        assert (due.phone_e164, due.starts_at) == (PHONE, clinic.slot_starts_at)
        first = repo.start(
            appointment_id=due.appointment_id, patient_id=due.patient_id, number_e164=PHONE, now=NOW
        )
        assert repo.calls_in_flight() == 1
        assert repo.finish(first, ReminderResult.NO_ANSWER, now=NOW, detail="reason 3")
        assert not repo.finish(first, ReminderResult.BUSY, now=NOW)  # closed once
        second = repo.start(
            appointment_id=due.appointment_id, patient_id=due.patient_id, number_e164=PHONE, now=NOW
        )
        details = repo.details(second)
        assert details is not None and details.reference == clinic.booked_reference
        assert repo.cancel_appointment(second, now=NOW)
        assert [a.result for a in repo.attempts_for([due.appointment_id])] == [
            ReminderResult.NO_ANSWER,
            ReminderResult.CANCELLED,
        ]
        cancelled = AppointmentRepository(session).get(clinic.booked_reference)
        assert cancelled.status is AppointmentStatus.CANCELLED
        # The freed place is the refill's to offer; the other appointment is untouched.
        [refill] = DialerRepository(session).discover_freed(now=NOW, starting_after=NOW)
        [view] = DialerRepository(session).refills()
        assert (view.refill_id, view.slot_id) == (refill, clinic.slot_id)
        kept = AppointmentRepository(session).get(later.booked_reference)
        assert kept.status is AppointmentStatus.BOOKED
        assert kept.booked_by is BookingChannel.IVR


def test_follow_up_answers_are_kept_even_when_incomplete(database: Database) -> None:
    with database.session() as session:
        booked_at = NOW - dt.timedelta(days=3)
        clinic = build_clinic(
            session,
            now=booked_at,
            numbers=[],
            starts_in=dt.timedelta(days=2),
            holder_numbers=[PHONE],
            tag="F",
        )
        AppointmentRepository(session).mark(clinic.booked_reference, AppointmentStatus.ATTENDED)
        repo = ReminderRepository(session)
        window = (booked_at, NOW)
        assert repo.due_between(*window) == []  # not booked any more: no reminder
        assert (
            repo.due_between(*window, status=AppointmentStatus.ATTENDED, department_codes=[]) == []
        )
        [visit] = repo.due_between(
            *window, status=AppointmentStatus.ATTENDED, department_codes=["CARDF"]
        )
        call = repo.start(
            appointment_id=visit.appointment_id,
            patient_id=visit.patient_id,
            number_e164=PHONE,
            now=NOW,
            kind=ReminderKind.FOLLOW_UP,
        )
        assert repo.attempts_for([visit.appointment_id]) == []  # reminders are another kind
        assert repo.record_answers(call, {"satisfaction": 2}, complete=False, now=NOW)
        assert not repo.record_answers(call, {"satisfaction": 5}, complete=True, now=NOW)
        assert repo.answers(call) == {"satisfaction": 2}
        [attempt] = repo.attempts_for([visit.appointment_id], ReminderKind.FOLLOW_UP)
        assert attempt.result is ReminderResult.NO_INPUT
