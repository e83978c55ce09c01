"""Calls to patients about their appointments — the day-before reminder and the
post-visit follow-up survey: which appointments are due one, and every call made.

A patient who cancels on the reminder call cancels through
``AppointmentRepository.cancel`` like any other channel, so the freed place is found by
the dialer's refill (``DialerRepository.discover_freed``) and offered to the waitlist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, aliased

from crm_store.enums import (
    AppointmentStatus,
    BookingChannel,
    PreferredLanguage,
    ReminderKind,
    ReminderResult,
)
from crm_store.errors import AppointmentNotCancellable, AppointmentNotFound, InvalidTransition
from crm_store.models import (
    Appointment,
    Department,
    Doctor,
    Patient,
    PhoneNumber,
    ReminderCall,
    Slot,
)
from crm_store.repositories._statements import rows_changed
from crm_store.repositories.appointments import AppointmentRepository


@dataclass(frozen=True)
class DueAppointment:
    appointment_id: int
    patient_id: int
    phone_e164: str | None  # the patient's own primary number
    starts_at: dt.datetime


@dataclass(frozen=True)
class ReminderAttempt:
    appointment_id: int
    started_at: dt.datetime
    result: ReminderResult


@dataclass(frozen=True)
class ReminderDetails:
    """What the reminder call says, and to whom."""

    call_id: int
    appointment_id: int
    reference: str
    patient_id: int
    language: PreferredLanguage
    starts_at: dt.datetime
    doctor_name_zh: str
    doctor_name_en: str
    department_name_zh: str
    department_name_en: str
    result: ReminderResult


@dataclass(frozen=True)
class ReminderCallView:
    call_id: int
    kind: ReminderKind
    appointment_id: int
    patient_id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    result: ReminderResult
    detail: str | None
    answers: dict[str, int] | None


class ReminderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def due_between(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        status: AppointmentStatus = AppointmentStatus.BOOKED,
        department_codes: Iterable[str] | None = None,
    ) -> list[DueAppointment]:
        """Appointments in ``status`` whose slot starts in [start, end), earliest first
        (only in these departments, when given)."""
        own = aliased(PhoneNumber)
        primary_phone = (
            select(own.e164)
            .where(own.patient_id == Appointment.patient_id, own.relation.is_(None))
            .order_by(own.is_primary.desc(), own.id)
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(Appointment.id, Appointment.patient_id, primary_phone, Slot.starts_at)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(
                Appointment.status == status,
                Slot.starts_at >= start,
                Slot.starts_at < end,
            )
            .order_by(Slot.starts_at, Appointment.id)
        )
        if department_codes is not None:
            query = query.join(Department, Department.id == Slot.department_id).where(
                Department.code.in_(sorted(set(department_codes)))
            )
        return [DueAppointment(*row) for row in self.session.execute(query).all()]

    def attempts_for(
        self, appointment_ids: Iterable[int], kind: ReminderKind = ReminderKind.REMINDER
    ) -> list[ReminderAttempt]:
        ids = sorted(set(appointment_ids))
        if not ids:
            return []
        query = select(
            ReminderCall.appointment_id, ReminderCall.started_at, ReminderCall.result
        ).where(ReminderCall.appointment_id.in_(ids), ReminderCall.kind == kind)
        return [ReminderAttempt(*row) for row in self.session.execute(query).all()]

    def calls_in_flight(self) -> int:
        count = self.session.scalar(
            select(func.count()).where(ReminderCall.result == ReminderResult.PENDING)
        )
        return count or 0

    def start(
        self,
        *,
        appointment_id: int,
        patient_id: int,
        number_e164: str,
        now: dt.datetime,
        kind: ReminderKind = ReminderKind.REMINDER,
    ) -> int:
        call = ReminderCall(
            appointment_id=appointment_id,
            kind=kind,
            patient_id=patient_id,
            number_e164=number_e164,
            started_at=now,
            result=ReminderResult.PENDING,
        )
        self.session.add(call)
        self.session.flush()
        return call.id

    def finish(
        self, call_id: int, result: ReminderResult, *, now: dt.datetime, detail: str | None = None
    ) -> bool:
        """Close a pending call; False when it was already closed."""
        if result is ReminderResult.PENDING:
            raise ValueError("finish() closes a call; PENDING is not an ending")
        return self._close(
            call_id, result=result, ended_at=now, detail=detail[:64] if detail else None
        )

    def record_answers(
        self, call_id: int, answers: dict[str, int], *, complete: bool, now: dt.datetime
    ) -> bool:
        """Store a follow-up survey's answers and close the call: COMPLETED when every
        question was answered, else NO_INPUT (what was answered is kept)."""
        result = ReminderResult.COMPLETED if complete else ReminderResult.NO_INPUT
        return self._close(call_id, result=result, ended_at=now, answers=dict(answers))

    def recent(
        self, *, kind: ReminderKind | None = None, limit: int = 100
    ) -> list[ReminderCallView]:
        """Reminder and follow-up calls, newest first (pending ones included)."""
        query = select(ReminderCall).order_by(
            ReminderCall.started_at.desc(), ReminderCall.id.desc()
        )
        if kind is not None:
            query = query.where(ReminderCall.kind == kind)
        return [
            ReminderCallView(
                c.id,
                c.kind,
                c.appointment_id,
                c.patient_id,
                c.started_at,
                c.ended_at,
                c.result,
                c.detail,
                None if c.answers is None else {str(k): int(v) for k, v in c.answers.items()},
            )
            for c in self.session.scalars(query.limit(limit))
        ]

    def answers(self, call_id: int) -> dict[str, int] | None:
        stored = self.session.scalar(select(ReminderCall.answers).where(ReminderCall.id == call_id))
        return None if stored is None else {str(k): int(v) for k, v in stored.items()}

    def cancel_appointment(self, call_id: int, *, now: dt.datetime) -> bool:
        """The patient pressed 2: cancel their appointment (its place goes back to the
        slot, to be refilled) and close the call as CANCELLED. False if the call was
        already closed; an appointment no longer booked is left as it is."""
        details = self.details(call_id)
        if details is None or details.result is not ReminderResult.PENDING:
            raise InvalidTransition("reminder call", "closed or missing", "cancelled")
        detail = None
        try:
            AppointmentRepository(self.session).cancel(
                details.reference,
                cancelled_by=BookingChannel.DIALER,
                patient_id=details.patient_id,
                reason="cancelled by the patient on the reminder call",
                now=now,
            )
        except (AppointmentNotFound, AppointmentNotCancellable) as exc:
            detail = type(exc).__name__
        return self.finish(call_id, ReminderResult.CANCELLED, now=now, detail=detail)

    def details(self, call_id: int) -> ReminderDetails | None:
        query = (
            select(
                ReminderCall.id,
                Appointment.id,
                Appointment.reference,
                Appointment.patient_id,
                Patient.preferred_language,
                Slot.starts_at,
                Doctor.name_zh,
                Doctor.name_en,
                Department.name_zh,
                Department.name_en,
                ReminderCall.result,
            )
            .join(Appointment, Appointment.id == ReminderCall.appointment_id)
            .join(Patient, Patient.id == Appointment.patient_id)
            .join(Slot, Slot.id == Appointment.slot_id)
            .join(Doctor, Doctor.id == Slot.doctor_id)
            .join(Department, Department.id == Slot.department_id)
            .where(ReminderCall.id == call_id)
        )
        row = self.session.execute(query).first()
        return None if row is None else ReminderDetails(*row)

    def _close(self, call_id: int, **values: object) -> bool:
        """Set ``values`` on a call still pending; False when it was already closed."""
        statement = (
            update(ReminderCall)
            .where(and_(ReminderCall.id == call_id, ReminderCall.result == ReminderResult.PENDING))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rows_changed(self.session, statement) == 1
