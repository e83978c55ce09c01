"""Booking, cancelling and rescheduling appointments — safe under concurrency.

The one rule: a slot's ``booked`` counter only moves by a conditional UPDATE
(``booked = booked + 1 WHERE booked < capacity``) whose row count says whether this
transaction got the place. On PostgreSQL the row lock makes the second of two racing
updates re-check the condition after the first commits; on SQLite writers are serialised
by the database lock. Either way exactly one of two callers racing for the last place
wins, and a partial unique index keeps a patient from holding the same slot twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_store.enums import AppointmentStatus, BookingChannel
from crm_store.errors import (
    AlreadyBooked,
    AppointmentNotCancellable,
    AppointmentNotFound,
    PatientNotFound,
    SlotFull,
    SlotInPast,
    SlotNotFound,
)
from crm_store.identifiers import make_reference
from crm_store.models import Appointment, ClinicSession, Slot, utcnow
from crm_store.repositories._statements import rows_changed

log = logging.getLogger(__name__)

#: New references are random; a collision with an existing one is retried.
REFERENCE_ATTEMPTS = 10


@dataclass(frozen=True)
class BookedAppointment:
    appointment_id: int
    reference: str
    patient_id: int
    slot_id: int
    starts_at: dt.datetime
    status: AppointmentStatus
    booked_by: BookingChannel


class AppointmentRepository:
    """Appointments by reference number."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def book(
        self,
        *,
        patient_id: int,
        slot_id: int,
        booked_by: BookingChannel,
        user_id: int | None = None,
        notes: str | None = None,
        now: dt.datetime | None = None,
        _rescheduled_from: int | None = None,
    ) -> BookedAppointment:
        """Take one place in a slot for a patient and return the new appointment with
        its reference number. Raises SlotFull, SlotInPast, SlotNotFound, AlreadyBooked or
        PatientNotFound, having changed nothing."""
        now = now or utcnow()
        with self.session.begin_nested():  # the counter and the row, or neither
            taken = self.session.execute(
                update(Slot)
                .where(
                    Slot.id == slot_id,
                    Slot.booked < Slot.capacity,
                    Slot.starts_at > now,
                    ~exists().where(
                        ClinicSession.id == Slot.session_id, ClinicSession.cancelled.is_(True)
                    ),
                )
                .values(booked=Slot.booked + 1)
                .returning(Slot.starts_at)
                .execution_options(synchronize_session=False)
            ).first()
            if taken is None:
                raise self._why_not_bookable(slot_id, now)
            starts_at = taken[0]
            appointment_id, reference = self._insert(
                patient_id=patient_id,
                slot_id=slot_id,
                booked_by=booked_by,
                user_id=user_id,
                notes=notes,
                now=now,
                rescheduled_from=_rescheduled_from,
            )
        log.info(
            "booked appointment %s in slot %s via %s", appointment_id, slot_id, booked_by.value
        )
        return BookedAppointment(
            appointment_id=appointment_id,
            reference=reference,
            patient_id=patient_id,
            slot_id=slot_id,
            starts_at=starts_at,
            status=AppointmentStatus.BOOKED,
            booked_by=booked_by,
        )

    def cancel(
        self,
        reference: str,
        *,
        cancelled_by: BookingChannel,
        patient_id: int | None = None,
        reason: str | None = None,
        now: dt.datetime | None = None,
    ) -> BookedAppointment:
        """Cancel a booked appointment and give its place back to the slot; returns the
        cancelled appointment (its ``slot_id`` is the freed slot, for the waitlist).
        With ``patient_id`` (the identified caller) only that patient's appointment
        matches. AppointmentNotFound / AppointmentNotCancellable otherwise."""
        now = now or utcnow()
        with self.session.begin_nested():
            conditions = [
                Appointment.reference == reference,
                Appointment.status == AppointmentStatus.BOOKED,
            ]
            if patient_id is not None:
                conditions.append(Appointment.patient_id == patient_id)
            row = self.session.execute(
                update(Appointment)
                .where(*conditions)
                .values(
                    status=AppointmentStatus.CANCELLED,
                    cancelled_at=now,
                    cancelled_by=cancelled_by,
                    cancel_reason=reason[:200] if reason else None,
                )
                .returning(
                    Appointment.id,
                    Appointment.patient_id,
                    Appointment.slot_id,
                    Appointment.booked_by,
                )
                .execution_options(synchronize_session=False)
            ).first()
            if row is None:
                current = self._status(reference, patient_id)
                if current is None:
                    raise AppointmentNotFound(reference)
                raise AppointmentNotCancellable(reference, current.value)
            starts_at = self.session.execute(
                update(Slot)
                .where(Slot.id == row.slot_id, Slot.booked > 0)
                .values(booked=Slot.booked - 1)
                .returning(Slot.starts_at)
                .execution_options(synchronize_session=False)
            ).scalar_one()
        log.info("cancelled appointment %s, slot %s freed", row.id, row.slot_id)
        return BookedAppointment(
            appointment_id=row.id,
            reference=reference,
            patient_id=row.patient_id,
            slot_id=row.slot_id,
            starts_at=starts_at,
            status=AppointmentStatus.CANCELLED,
            booked_by=row.booked_by,
        )

    def reschedule(
        self,
        reference: str,
        *,
        new_slot_id: int,
        changed_by: BookingChannel,
        patient_id: int | None = None,
        user_id: int | None = None,
        now: dt.datetime | None = None,
    ) -> BookedAppointment:
        """Move a booked appointment to another slot, atomically: the old one is
        cancelled (reason "rescheduled") and a new one, with a new reference that links
        back to the old, is booked — or, if the new slot cannot be had, nothing changes."""
        now = now or utcnow()
        with self.session.begin_nested():
            old = self.cancel(
                reference,
                cancelled_by=changed_by,
                patient_id=patient_id,
                reason="rescheduled",
                now=now,
            )
            return self.book(
                patient_id=old.patient_id,
                slot_id=new_slot_id,
                booked_by=changed_by,
                user_id=user_id,
                now=now,
                _rescheduled_from=old.appointment_id,
            )

    def get(self, reference: str, *, patient_id: int | None = None) -> BookedAppointment:
        """An appointment by reference (restricted to a patient when given)."""
        query = (
            select(Appointment, Slot.starts_at)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(Appointment.reference == reference)
        )
        if patient_id is not None:
            query = query.where(Appointment.patient_id == patient_id)
        row = self.session.execute(query).first()
        if row is None:
            raise AppointmentNotFound(reference)
        return _view(row[0], row[1])

    def for_patient(
        self, patient_id: int, *, upcoming_only: bool = False, now: dt.datetime | None = None
    ) -> list[BookedAppointment]:
        """A patient's appointments in time order (only booked future ones if asked)."""
        query = (
            select(Appointment, Slot.starts_at)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(Appointment.patient_id == patient_id)
            .order_by(Slot.starts_at)
        )
        if upcoming_only:
            query = query.where(
                Appointment.status == AppointmentStatus.BOOKED, Slot.starts_at >= (now or utcnow())
            )
        return [
            _view(appointment, starts_at) for appointment, starts_at in self.session.execute(query)
        ]

    def mark(self, reference: str, status: AppointmentStatus) -> None:
        """Record attendance: BOOKED → ATTENDED or NO_SHOW."""
        if status not in (AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW):
            raise ValueError("mark() records attendance only; use cancel() to cancel")
        changed = rows_changed(
            self.session,
            update(Appointment)
            .where(
                Appointment.reference == reference,
                Appointment.status == AppointmentStatus.BOOKED,
            )
            .values(status=status)
            .execution_options(synchronize_session=False),
        )
        if changed != 1:
            current = self._status(reference, None)
            if current is None:
                raise AppointmentNotFound(reference)
            raise AppointmentNotCancellable(reference, current.value)

    # ------------------------------------------------------------------ internals

    def _insert(
        self,
        *,
        patient_id: int,
        slot_id: int,
        booked_by: BookingChannel,
        user_id: int | None,
        notes: str | None,
        now: dt.datetime,
        rescheduled_from: int | None,
    ) -> tuple[int, str]:
        for _attempt in range(REFERENCE_ATTEMPTS):
            reference = make_reference()
            try:
                with self.session.begin_nested():
                    appointment_id = self.session.execute(
                        insert(Appointment)
                        .values(
                            reference=reference,
                            patient_id=patient_id,
                            slot_id=slot_id,
                            status=AppointmentStatus.BOOKED,
                            booked_by=booked_by,
                            booked_by_user_id=user_id,
                            booked_at=now,
                            notes=notes,
                            rescheduled_from_id=rescheduled_from,
                        )
                        .returning(Appointment.id)
                    ).scalar_one()
                return appointment_id, reference
            except IntegrityError as exc:
                message = str(exc.orig).lower()
                if "reference" in message:
                    continue  # another appointment has this random reference: draw again
                if "foreign key" in message or "fk_appointments_patient" in message:
                    raise PatientNotFound(patient_id) from exc
                raise AlreadyBooked(slot_id) from exc
        raise RuntimeError("could not draw an unused reference number; is the table full?")

    def _why_not_bookable(self, slot_id: int, now: dt.datetime) -> Exception:
        row = self.session.execute(
            select(Slot.starts_at, Slot.booked, Slot.capacity, ClinicSession.cancelled)
            .join(ClinicSession, ClinicSession.id == Slot.session_id)
            .where(Slot.id == slot_id)
        ).first()
        if row is None or row.cancelled:
            return SlotNotFound(slot_id)
        if row.starts_at <= now:
            return SlotInPast(slot_id)
        return SlotFull(slot_id)

    def _status(self, reference: str, patient_id: int | None) -> AppointmentStatus | None:
        query = select(Appointment.status).where(Appointment.reference == reference)
        if patient_id is not None:
            query = query.where(Appointment.patient_id == patient_id)
        return self.session.scalar(query)


def _view(appointment: Appointment, starts_at: dt.datetime) -> BookedAppointment:
    return BookedAppointment(
        appointment_id=appointment.id,
        reference=appointment.reference,
        patient_id=appointment.patient_id,
        slot_id=appointment.slot_id,
        starts_at=starts_at,
        status=appointment.status,
        booked_by=appointment.booked_by,
    )
