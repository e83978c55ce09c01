"""A small clinic with a booked slot that is about to be cancelled, and a waitlist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm_store.enums import BookingChannel, PreferredLanguage
from crm_store.repositories import (
    AppointmentRepository,
    PatientRepository,
    ScheduleRepository,
    WaitlistRepository,
)


@dataclass(frozen=True)
class Clinic:
    slot_id: int
    slot_starts_at: dt.datetime
    booked_reference: str  # the appointment to cancel
    waitlisted: dict[str, int]  # phone number → patient id
    entries: dict[str, int]  # phone number → waitlist entry id


def build_clinic(
    session: Session,
    *,
    now: dt.datetime,
    numbers: list[str],
    capacity: int = 1,
    starts_in: dt.timedelta = dt.timedelta(days=2),
    tag: str = "",
    language: PreferredLanguage = PreferredLanguage.ENGLISH,
    holder_numbers: list[str] | None = None,
) -> Clinic:
    """Dr. Li's cardiology slot ``starts_in`` from ``now``, full (its holders phoned at
    ``holder_numbers``, if given); one waitlisted patient (consenting, priority in list
    order) per number."""
    schedule = ScheduleRepository(session)
    department = schedule.add_department(code=f"CARD{tag}", name_zh="心内科", name_en="cardiology")
    doctor = schedule.add_doctor(department_id=department, name_zh="李医生", name_en="Li")
    start = now + starts_in
    [slot] = schedule.add_session(
        doctor_id=doctor,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        slot_minutes=30,
        capacity=capacity,
    )
    patients = PatientRepository(session)
    appointments = AppointmentRepository(session)
    reference = ""
    for n in range(capacity):
        holder = patients.create(
            mrn=f"H{tag}{n}",
            full_name=f"Holder {n}",
            preferred_language=language,
            numbers=[(holder_numbers[n], None)] if holder_numbers else [],
        )
        reference = appointments.book(
            patient_id=holder, slot_id=slot, booked_by=BookingChannel.IVR, now=now
        ).reference
    waitlist = WaitlistRepository(session)
    waitlisted: dict[str, int] = {}
    entries: dict[str, int] = {}
    local_day = start.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    for i, number in enumerate(numbers):
        patient = patients.create(
            mrn=f"W{tag}{i}",
            full_name=f"Waiting {i}",
            preferred_language=language,
            numbers=[(number, None)],
        )
        waitlisted[number] = patient
        entries[number] = waitlist.add(
            patient_id=patient,
            department_id=department,
            earliest_date=local_day - dt.timedelta(days=3),
            latest_date=local_day + dt.timedelta(days=3),
            clinical_priority=min(5, i + 1),
            consent_to_call=True,
        )
    return Clinic(slot, start, reference, waitlisted, entries)
