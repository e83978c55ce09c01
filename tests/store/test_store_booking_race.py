"""A real race for the last places in a slot: many threads, each with its own database
connection, released together by a barrier; exactly the capacity is booked — on SQLite
and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from sqlalchemy import func, select

from crm_store.database import Database
from crm_store.enums import AppointmentStatus, BookingChannel
from crm_store.errors import SlotFull
from crm_store.models import Appointment, Slot
from crm_store.repositories import AppointmentRepository, PatientRepository, ScheduleRepository

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
WORKERS = 8
ROUNDS = 15


def _race(database: Database, slot_id: int, patient_ids: list[int]) -> Counter[str]:
    barrier = threading.Barrier(len(patient_ids))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(patient_id: int) -> None:
        channel = BookingChannel.DIALER if patient_id % 2 else BookingChannel.AGENT
        barrier.wait()
        try:
            with database.session() as session:
                AppointmentRepository(session).book(
                    patient_id=patient_id, slot_id=slot_id, booked_by=channel, now=NOW
                )
            outcome = "booked"
        except SlotFull:
            outcome = "full"
        except Exception as exc:  # anything else is a failure of the test
            outcome = f"error: {type(exc).__name__}: {exc}"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=worker, args=(pid,)) for pid in patient_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_racing_for_the_last_place_books_exactly_once(database: Database) -> None:
    with database.session() as session:
        schedule = ScheduleRepository(session)
        department = schedule.add_department(code="ENT", name_zh="耳鼻喉科", name_en="ENT")
        doctor = schedule.add_doctor(department_id=department, name_zh="赵", name_en="Zhao")
        start = NOW + dt.timedelta(days=1)
        slot_ids = schedule.add_session(
            doctor_id=doctor, starts_at=start, ends_at=start + dt.timedelta(minutes=15 * ROUNDS)
        )
        group_start = start + dt.timedelta(days=1)
        [group_slot] = schedule.add_session(
            doctor_id=doctor,
            starts_at=group_start,
            ends_at=group_start + dt.timedelta(hours=1),
            slot_minutes=60,
            capacity=3,
        )
        patients = PatientRepository(session)
        patient_ids = [patients.create(mrn=f"R{i}", full_name=f"Racer {i}") for i in range(WORKERS)]

    # Many rounds of WORKERS callers racing for a single place.
    for slot_id in slot_ids:
        outcomes = _race(database, slot_id, patient_ids)
        assert outcomes == Counter({"booked": 1, "full": WORKERS - 1}), outcomes
    # And for the last three places of a group slot.
    outcomes = _race(database, group_slot, patient_ids)
    assert outcomes == Counter({"booked": 3, "full": WORKERS - 3}), outcomes

    with database.session() as session:
        per_slot = dict(
            session.execute(
                select(Appointment.slot_id, func.count())
                .where(Appointment.status == AppointmentStatus.BOOKED)
                .group_by(Appointment.slot_id)
            ).all()
        )
        assert per_slot == {**{slot_id: 1 for slot_id in slot_ids}, group_slot: 3}
        booked = dict(session.execute(select(Slot.id, Slot.booked)).all())
        assert booked == per_slot
