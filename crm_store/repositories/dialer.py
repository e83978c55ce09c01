"""The outbound dialer's records: freed places being refilled, and every offer call.

A place comes free when an appointment on a future slot is cancelled (by the IVR, an
agent or an import — every path goes through ``AppointmentRepository.cancel``) or
marked no-show while the slot is still ahead. :meth:`DialerRepository.discover_freed`
finds those appointments in the store itself, so the store knows nothing of the dialer
and a cancellation made by another process (an import, a second worker) is seen too.

Booking on acceptance is :meth:`DialerRepository.accept`: the booking
(``AppointmentRepository.book``, whose conditional UPDATE lets exactly one of two racing
accepts have the last place), the offer's outcome, the call's result and the refill's
status change in one transaction, or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, exists, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_store.enums import (
    AppointmentStatus,
    BookingChannel,
    DialerCallResult,
    FreedBy,
    OfferOutcome,
    PreferredLanguage,
    RefillStatus,
)
from crm_store.errors import AlreadyBooked, BookingRefused, InvalidTransition
from crm_store.models import (
    Appointment,
    Department,
    DialerCall,
    Doctor,
    Patient,
    Slot,
    SlotRefill,
    WaitlistOffer,
)
from crm_store.repositories._statements import rows_changed
from crm_store.repositories.appointments import AppointmentRepository
from crm_store.repositories.waitlist import WaitlistRepository

#: The waitlist offer's outcome for each way a call can end (ACCEPTED is :meth:`accept`'s).
_OFFER_OUTCOME = {
    DialerCallResult.DECLINED: OfferOutcome.REFUSED,
    DialerCallResult.SLOT_TAKEN: OfferOutcome.FAILED,
    DialerCallResult.FAILED: OfferOutcome.FAILED,
    DialerCallResult.NO_ANSWER: OfferOutcome.NO_ANSWER,
    DialerCallResult.BUSY: OfferOutcome.NO_ANSWER,
    DialerCallResult.MACHINE: OfferOutcome.NO_ANSWER,
    DialerCallResult.NO_INPUT: OfferOutcome.NO_ANSWER,
}


@dataclass(frozen=True)
class OpenRefill:
    refill_id: int
    slot_id: int
    starts_at: dt.datetime
    free_places: int
    freed_at: dt.datetime


@dataclass(frozen=True)
class CallAttempt:
    patient_id: int
    slot_id: int
    started_at: dt.datetime
    result: DialerCallResult


@dataclass(frozen=True)
class OfferDetails:
    """What the offer call says, and to whom."""

    offer_id: int
    refill_id: int
    patient_id: int
    language: PreferredLanguage
    slot_id: int
    starts_at: dt.datetime
    doctor_name_zh: str
    doctor_name_en: str
    department_name_zh: str
    department_name_en: str
    result: DialerCallResult


@dataclass(frozen=True)
class AcceptOutcome:
    result: DialerCallResult  # ACCEPTED, or SLOT_TAKEN when someone was quicker
    appointment_id: int | None = None
    reference: str | None = None


@dataclass(frozen=True)
class RefillCall:
    offer_id: int
    refill_id: int
    patient_id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    result: DialerCallResult
    detail: str | None


@dataclass(frozen=True)
class RefillView:
    refill_id: int
    slot_id: int
    slot_starts_at: dt.datetime
    freed_by: FreedBy
    freed_at: dt.datetime
    status: RefillStatus
    closed_at: dt.datetime | None
    filled_appointment_id: int | None
    calls: tuple[RefillCall, ...]


class DialerRepository:
    """Slot refills and offer calls."""

    def __init__(self, session: Session, *, refusal_cooldown: dt.timedelta | None = None) -> None:
        self.session = session
        self.waitlist = (
            WaitlistRepository(session)
            if refusal_cooldown is None
            else WaitlistRepository(session, refusal_cooldown=refusal_cooldown)
        )

    # ------------------------------------------------------------------ freed places

    def discover_freed(self, *, now: dt.datetime, starting_after: dt.datetime) -> list[int]:
        """Open a refill for every cancelled or no-show appointment on a slot starting
        after ``starting_after`` that has none yet; returns the new refill ids. A no-show's
        place is given back to the slot here (cancel() already does it for cancellations)."""
        query = (
            select(
                Appointment.id, Appointment.slot_id, Appointment.status, Appointment.cancelled_at
            )
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(
                Appointment.status.in_([AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW]),
                Slot.starts_at > starting_after,
                ~exists().where(SlotRefill.freed_appointment_id == Appointment.id),
            )
            .order_by(Appointment.id)
        )
        opened: list[int] = []
        for appointment_id, slot_id, status, cancelled_at in self.session.execute(query).all():
            no_show = status is AppointmentStatus.NO_SHOW
            try:
                with self.session.begin_nested():
                    if no_show:
                        self.session.execute(
                            update(Slot)
                            .where(Slot.id == slot_id, Slot.booked > 0)
                            .values(booked=Slot.booked - 1)
                            .execution_options(synchronize_session=False)
                        )
                    refill = SlotRefill(
                        slot_id=slot_id,
                        freed_appointment_id=appointment_id,
                        freed_by=FreedBy.NO_SHOW if no_show else FreedBy.CANCELLED,
                        freed_at=now if no_show or cancelled_at is None else cancelled_at,
                        status=RefillStatus.OPEN,
                    )
                    self.session.add(refill)
                    self.session.flush()
                    opened.append(refill.id)
            except IntegrityError:
                continue  # another dialer worker opened it first
        return opened

    def open_refills(self) -> list[OpenRefill]:
        query = (
            select(
                SlotRefill.id,
                SlotRefill.slot_id,
                Slot.starts_at,
                Slot.capacity - Slot.booked,
                SlotRefill.freed_at,
            )
            .join(Slot, Slot.id == SlotRefill.slot_id)
            .where(SlotRefill.status == RefillStatus.OPEN)
            .order_by(Slot.starts_at, SlotRefill.id)
        )
        return [OpenRefill(*row) for row in self.session.execute(query).all()]

    def close_refill(
        self,
        refill_id: int,
        status: RefillStatus,
        *,
        now: dt.datetime,
        filled_appointment_id: int | None = None,
    ) -> bool:
        """OPEN → ``status``; False when it was already closed."""
        if status is RefillStatus.OPEN:
            raise ValueError("close_refill() closes; OPEN is not a closed status")
        return (
            rows_changed(
                self.session,
                update(SlotRefill)
                .where(SlotRefill.id == refill_id, SlotRefill.status == RefillStatus.OPEN)
                .values(status=status, closed_at=now, filled_appointment_id=filled_appointment_id)
                .execution_options(synchronize_session=False),
            )
            == 1
        )

    # ------------------------------------------------------------------ calls

    def attempts_of(
        self, patient_ids: Iterable[int], *, since: dt.datetime, slot_id: int | None = None
    ) -> list[CallAttempt]:
        """Offer calls to these patients started after ``since`` and any of theirs still in
        flight — and, with ``slot_id``, every call about that slot still in flight (to
        patients no longer among the candidates because we are calling them)."""
        ids = sorted(set(patient_ids))
        in_flight = DialerCall.result == DialerCallResult.PENDING
        about_slot = (
            and_(WaitlistOffer.slot_id == slot_id, in_flight) if slot_id is not None else None
        )
        if not ids and about_slot is None:
            return []
        query = (
            select(
                DialerCall.patient_id,
                WaitlistOffer.slot_id,
                DialerCall.started_at,
                DialerCall.result,
            )
            .join(WaitlistOffer, WaitlistOffer.id == DialerCall.offer_id)
            .where(
                or_(
                    and_(
                        DialerCall.patient_id.in_(ids),
                        or_(DialerCall.started_at >= since, in_flight),
                    ),
                    about_slot if about_slot is not None else false(),
                )
            )
        )
        return [CallAttempt(*row) for row in self.session.execute(query).all()]

    def start_call(
        self,
        *,
        refill_id: int,
        entry_id: int,
        slot_id: int,
        patient_id: int,
        number_e164: str,
        now: dt.datetime,
    ) -> int:
        """Record an offer call about to be placed; returns the offer id (the call's key).
        InvalidTransition if the waitlist entry is no longer waiting."""
        offer_id = self.waitlist.record_offer(entry_id, slot_id, now=now)
        self.session.add(
            DialerCall(
                refill_id=refill_id,
                offer_id=offer_id,
                patient_id=patient_id,
                number_e164=number_e164,
                started_at=now,
                result=DialerCallResult.PENDING,
            )
        )
        self.session.flush()
        return offer_id

    def mark_answered(self, offer_id: int, *, now: dt.datetime) -> None:
        self.session.execute(
            update(DialerCall)
            .where(DialerCall.offer_id == offer_id, DialerCall.answered_at.is_(None))
            .values(answered_at=now)
            .execution_options(synchronize_session=False)
        )

    def finish_call(
        self,
        offer_id: int,
        result: DialerCallResult,
        *,
        now: dt.datetime,
        detail: str | None = None,
    ) -> bool:
        """Close a call that did not book (declined, no answer, busy, machine, …) and put
        the patient back on the waitlist. False when the call was already closed (the
        AGI side and the AMI side may both report one call)."""
        if result not in _OFFER_OUTCOME:
            raise ValueError(f"finish_call() does not close calls as {result.value}")
        with self.session.begin_nested():
            if not self._close_call(offer_id, result, now=now, detail=detail):
                return False
            self.waitlist.record_outcome(offer_id, _OFFER_OUTCOME[result], now=now)
        return True

    def accept(self, offer_id: int, *, now: dt.datetime) -> AcceptOutcome:
        """The patient pressed 1: book the slot for them — or, when another patient has
        just taken the last place, record that and leave them on the waitlist."""
        offer = self.session.get(WaitlistOffer, offer_id)
        call = self.session.scalar(select(DialerCall).where(DialerCall.offer_id == offer_id))
        if offer is None or call is None or call.result is not DialerCallResult.PENDING:
            raise InvalidTransition("offer call", "closed or missing", "accepted")
        try:
            booked = AppointmentRepository(self.session).book(
                patient_id=call.patient_id,
                slot_id=offer.slot_id,
                booked_by=BookingChannel.DIALER,
                notes=f"waitlist offer {offer_id}",
                now=now,
            )
        except AlreadyBooked:
            # They hold this slot already (booked it themselves meanwhile): nothing to take.
            self.finish_call(
                offer_id, DialerCallResult.SLOT_TAKEN, now=now, detail="already booked"
            )
            return AcceptOutcome(DialerCallResult.SLOT_TAKEN)
        except BookingRefused as exc:
            self.finish_call(
                offer_id, DialerCallResult.SLOT_TAKEN, now=now, detail=type(exc).__name__
            )
            return AcceptOutcome(DialerCallResult.SLOT_TAKEN)
        self._close_call(offer_id, DialerCallResult.ACCEPTED, now=now, detail=None)
        self.waitlist.record_outcome(
            offer_id, OfferOutcome.ACCEPTED, appointment_id=booked.appointment_id, now=now
        )
        # FILLED even if the dialer had meanwhile given up on it (the slot was booked).
        self.session.execute(
            update(SlotRefill)
            .where(SlotRefill.id == call.refill_id, SlotRefill.status != RefillStatus.FILLED)
            .values(
                status=RefillStatus.FILLED,
                closed_at=now,
                filled_appointment_id=booked.appointment_id,
            )
            .execution_options(synchronize_session=False)
        )
        return AcceptOutcome(DialerCallResult.ACCEPTED, booked.appointment_id, booked.reference)

    def pending_started_before(self, cutoff: dt.datetime) -> list[int]:
        """Offer ids of calls still open that began before ``cutoff`` (lost track of)."""
        query = select(DialerCall.offer_id).where(
            DialerCall.result == DialerCallResult.PENDING, DialerCall.started_at < cutoff
        )
        return list(self.session.scalars(query))

    def calls_in_flight(self) -> int:
        return (
            self.session.scalar(
                select(func.count()).where(DialerCall.result == DialerCallResult.PENDING)
            )
            or 0
        )

    def offer_details(self, offer_id: int) -> OfferDetails | None:
        query = (
            select(
                WaitlistOffer.id,
                DialerCall.refill_id,
                DialerCall.patient_id,
                Patient.preferred_language,
                Slot.id,
                Slot.starts_at,
                Doctor.name_zh,
                Doctor.name_en,
                Department.name_zh,
                Department.name_en,
                DialerCall.result,
            )
            .join(DialerCall, DialerCall.offer_id == WaitlistOffer.id)
            .join(Patient, Patient.id == DialerCall.patient_id)
            .join(Slot, Slot.id == WaitlistOffer.slot_id)
            .join(Doctor, Doctor.id == Slot.doctor_id)
            .join(Department, Department.id == Slot.department_id)
            .where(WaitlistOffer.id == offer_id)
        )
        row = self.session.execute(query).first()
        return None if row is None else OfferDetails(*row)

    # ------------------------------------------------------------------ operators

    def refills(
        self,
        *,
        slot_id: int | None = None,
        status: RefillStatus | None = None,
        freed_since: dt.datetime | None = None,
        freed_before: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[RefillView]:
        """Refills (newest first) with every call made for them; ``freed_since`` and
        ``freed_before`` bound when the place was freed (``[since, before)``)."""
        query = (
            select(SlotRefill, Slot.starts_at)
            .join(Slot, Slot.id == SlotRefill.slot_id)
            .order_by(SlotRefill.freed_at.desc(), SlotRefill.id.desc())
            .limit(limit)
        )
        if slot_id is not None:
            query = query.where(SlotRefill.slot_id == slot_id)
        if status is not None:
            query = query.where(SlotRefill.status == status)
        if freed_since is not None:
            query = query.where(SlotRefill.freed_at >= freed_since)
        if freed_before is not None:
            query = query.where(SlotRefill.freed_at < freed_before)
        rows = self.session.execute(query).all()
        ids = [refill.id for refill, _ in rows]
        calls: dict[int, list[RefillCall]] = {i: [] for i in ids}
        if ids:
            for call in self.session.scalars(
                select(DialerCall)
                .where(DialerCall.refill_id.in_(ids))
                .order_by(DialerCall.started_at, DialerCall.id)
            ):
                calls[call.refill_id].append(
                    RefillCall(
                        call.offer_id,
                        call.refill_id,
                        call.patient_id,
                        call.started_at,
                        call.ended_at,
                        call.result,
                        call.detail,
                    )
                )
        return [
            RefillView(
                refill_id=refill.id,
                slot_id=refill.slot_id,
                slot_starts_at=starts_at,
                freed_by=refill.freed_by,
                freed_at=refill.freed_at,
                status=refill.status,
                closed_at=refill.closed_at,
                filled_appointment_id=refill.filled_appointment_id,
                calls=tuple(calls[refill.id]),
            )
            for refill, starts_at in rows
        ]

    def running_calls(self) -> list[RefillCall]:
        query = (
            select(DialerCall)
            .where(DialerCall.result == DialerCallResult.PENDING)
            .order_by(DialerCall.started_at)
        )
        return [
            RefillCall(
                c.offer_id, c.refill_id, c.patient_id, c.started_at, c.ended_at, c.result, c.detail
            )
            for c in self.session.scalars(query)
        ]

    # ------------------------------------------------------------------ internals

    def _close_call(
        self, offer_id: int, result: DialerCallResult, *, now: dt.datetime, detail: str | None
    ) -> bool:
        return (
            rows_changed(
                self.session,
                update(DialerCall)
                .where(
                    and_(
                        DialerCall.offer_id == offer_id,
                        DialerCall.result == DialerCallResult.PENDING,
                    )
                )
                .values(result=result, ended_at=now, detail=detail[:64] if detail else None)
                .execution_options(synchronize_session=False),
            )
            == 1
        )
