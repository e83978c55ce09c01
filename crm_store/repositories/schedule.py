"""Departments, doctors, clinic sessions and their bookable slots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.errors import InvalidRecord, SlotNotFound
from crm_store.models import ClinicSession, Department, Doctor, Slot, utcnow


@dataclass(frozen=True)
class FreeSlot:
    """A slot with at least one place left."""

    slot_id: int
    department_id: int
    doctor_id: int
    doctor_zh: str
    doctor_en: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    places_left: int


@dataclass(frozen=True)
class DepartmentView:
    department_id: int
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class DoctorView:
    doctor_id: int
    department_id: int
    name_zh: str
    name_en: str


class ScheduleRepository:
    """The hospital's timetable: who sees patients when, and what is still free."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_department(self, *, code: str, name_zh: str, name_en: str) -> int:
        """Create a department; returns its id."""
        department = Department(code=code, name_zh=name_zh, name_en=name_en)
        self.session.add(department)
        self.session.flush()
        return department.id

    def add_doctor(
        self, *, department_id: int, name_zh: str, name_en: str, title: str | None = None
    ) -> int:
        """Create a doctor in a department; returns its id."""
        doctor = Doctor(department_id=department_id, name_zh=name_zh, name_en=name_en, title=title)
        self.session.add(doctor)
        self.session.flush()
        return doctor.id

    def add_session(
        self,
        *,
        doctor_id: int,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        slot_minutes: int = 15,
        capacity: int = 1,
        location: str | None = None,
    ) -> list[int]:
        """Open a clinic session and cut it into slots of ``slot_minutes`` holding
        ``capacity`` patients each; returns the slot ids in time order."""
        if ends_at <= starts_at:
            raise InvalidRecord("ends_at", "a session must end after it starts")
        if slot_minutes <= 0 or capacity <= 0:
            raise InvalidRecord("slot_minutes/capacity", "must be positive")
        doctor = self.session.get(Doctor, doctor_id)
        if doctor is None:
            raise InvalidRecord("doctor_id", f"no doctor with id {doctor_id}")
        clinic = ClinicSession(
            doctor_id=doctor_id,
            department_id=doctor.department_id,
            starts_at=starts_at,
            ends_at=ends_at,
            location=location,
        )
        self.session.add(clinic)
        self.session.flush()
        slots = []
        step = dt.timedelta(minutes=slot_minutes)
        start = starts_at
        while start + step <= ends_at:
            slots.append(
                Slot(
                    session_id=clinic.id,
                    department_id=doctor.department_id,
                    doctor_id=doctor_id,
                    starts_at=start,
                    ends_at=start + step,
                    capacity=capacity,
                    booked=0,
                )
            )
            start += step
        self.session.add_all(slots)
        self.session.flush()
        return [slot.id for slot in slots]

    def free_slots(
        self,
        *,
        department_id: int | None = None,
        doctor_id: int | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime,
        limit: int = 50,
        now: dt.datetime | None = None,
    ) -> list[FreeSlot]:
        """Slots with a place left between ``start`` (default now) and ``end``, for a
        department and/or a doctor, soonest first. Never returns slots already begun or
        in cancelled sessions."""
        if department_id is None and doctor_id is None:
            raise InvalidRecord("department_id/doctor_id", "give a department or a doctor")
        now = now or utcnow()
        start = max(start or now, now)
        query = (
            select(
                Slot.id,
                Slot.department_id,
                Slot.doctor_id,
                Doctor.name_zh,
                Doctor.name_en,
                Slot.starts_at,
                Slot.ends_at,
                Slot.capacity - Slot.booked,
            )
            .join(Doctor, Doctor.id == Slot.doctor_id)
            .join(ClinicSession, ClinicSession.id == Slot.session_id)
            .where(
                Slot.starts_at >= start,
                Slot.starts_at < end,
                Slot.booked < Slot.capacity,
                ClinicSession.cancelled.is_(False),
                Doctor.active.is_(True),
            )
            .order_by(Slot.starts_at, Slot.id)
            .limit(limit)
        )
        if department_id is not None:
            query = query.where(Slot.department_id == department_id)
        if doctor_id is not None:
            query = query.where(Slot.doctor_id == doctor_id)
        return [FreeSlot(*row) for row in self.session.execute(query)]

    def slot(self, slot_id: int) -> FreeSlot:
        """One slot with its places left (0 when full); SlotNotFound if absent."""
        row = self.session.execute(
            select(
                Slot.id,
                Slot.department_id,
                Slot.doctor_id,
                Doctor.name_zh,
                Doctor.name_en,
                Slot.starts_at,
                Slot.ends_at,
                Slot.capacity - Slot.booked,
            )
            .join(Doctor, Doctor.id == Slot.doctor_id)
            .where(Slot.id == slot_id)
        ).first()
        if row is None:
            raise SlotNotFound(slot_id)
        return FreeSlot(*row)

    def department(self, department_id: int) -> DepartmentView | None:
        """A department by id, or None."""
        found = self.session.get(Department, department_id)
        return None if found is None else _department_view(found)

    def department_by_code(self, code: str) -> DepartmentView | None:
        """An active department by its code (what flows name it by), or None."""
        found = self.session.scalar(
            select(Department).where(Department.code == code, Department.active.is_(True))
        )
        return None if found is None else _department_view(found)

    def departments(self) -> list[DepartmentView]:
        """The active departments, in the order they were created."""
        query = select(Department).where(Department.active.is_(True)).order_by(Department.id)
        return [_department_view(d) for d in self.session.scalars(query)]

    def doctor(self, doctor_id: int) -> DoctorView | None:
        """A doctor by id, or None."""
        found = self.session.get(Doctor, doctor_id)
        if found is None:
            return None
        return DoctorView(found.id, found.department_id, found.name_zh, found.name_en)

    def session_starts(
        self, doctor_id: int, *, start: dt.datetime, end: dt.datetime
    ) -> list[dt.datetime]:
        """When a doctor's (not cancelled) clinic sessions start between ``start`` and
        ``end``, soonest first."""
        query = (
            select(ClinicSession.starts_at)
            .where(
                ClinicSession.doctor_id == doctor_id,
                ClinicSession.starts_at >= start,
                ClinicSession.starts_at < end,
                ClinicSession.cancelled.is_(False),
            )
            .order_by(ClinicSession.starts_at)
        )
        return list(self.session.scalars(query))


def _department_view(department: Department) -> DepartmentView:
    return DepartmentView(department.id, department.code, department.name_zh, department.name_en)
