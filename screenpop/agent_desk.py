"""What a signed-in agent does from the console, over the store and the ACD: no HTTP here
(routes/console.py maps requests to these calls).

An agent acts only on the patient of a call offered to them — the one ringing or being
talked to (the pending pop) or the one they just had (kept through wrap-up until the next
offer) — so a console cannot be used to reach any other record (:class:`NotYourCall`).
Every change is written with the agent's user id and an audit row in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from crm_store.enums import (
    AuditAction,
    AuditEntity,
    BookingChannel,
    CallDisposition,
    ComplaintCategory,
)
from crm_store.gateway import StoreGateway
from crm_store.repositories.acd import AcdRepository
from crm_store.repositories.appointments import AppointmentRepository, BookedAppointment
from crm_store.repositories.audit import AuditLogRepository
from crm_store.repositories.calls import CallRepository
from crm_store.repositories.complaints import ComplaintRepository
from crm_store.repositories.patients import PatientHistory, PatientRepository
from crm_store.repositories.schedule import FreeSlot, ScheduleRepository
from screenpop.errors import NoPatientOnCall, NotASuggestedMatch, NotYourCall, PatientAlreadyKnown
from screenpop.pops import Pop, PopDesk

T = TypeVar("T")

#: How far ahead the console lists free slots.
SLOT_HORIZON = dt.timedelta(days=30)


@dataclass(frozen=True)
class Actor:
    """The signed-in agent: ACD agent id (= username) and store user id."""

    agent_id: str
    user_id: int


def _audit(
    session: Session, actor: Actor, action: AuditAction, patient_id: int, **detail: object
) -> None:
    AuditLogRepository(session).write(
        action=action,
        entity_type=AuditEntity.PATIENT,
        entity_id=patient_id,
        user_id=actor.user_id,
        detail={"via": "console", **detail},
    )


@dataclass
class AgentDesk:
    store: StoreGateway
    pops: PopDesk

    def call(self, actor: Actor, call_id: str) -> Pop:
        """The agent's pending or last call with this id, else NotYourCall (403)."""
        pop = self.pops.held_by(actor.agent_id, call_id)
        if pop is None:
            raise NotYourCall()
        return pop

    def patient_on(self, actor: Actor, call_id: str) -> int:
        patient_id = self.call(actor, call_id).patient_id
        if patient_id is None:
            raise NoPatientOnCall()
        return patient_id

    async def refresh(self, actor: Actor, call_id: str) -> Pop:
        """The call's pop with the patient's record read again (after a booking), audited
        as a view like the first pop."""
        patient_id = self.patient_on(actor, call_id)

        def work(session: Session) -> PatientHistory:
            history = PatientRepository(session).history(patient_id)
            _audit(session, actor, AuditAction.VIEW, patient_id, view="console", call_id=call_id)
            return history

        history = await self.store.write(work)
        return self.pops.attach_history(actor.agent_id, call_id, history)

    async def free_slots(
        self, actor: Actor, call_id: str, department_id: int, *, limit: int = 40
    ) -> list[FreeSlot]:
        self.patient_on(actor, call_id)  # slots are for the caller on this call only
        end = dt.datetime.now(dt.UTC) + SLOT_HORIZON
        return await self.store.read(
            lambda s: ScheduleRepository(s).free_slots(
                department_id=department_id, end=end, limit=limit
            )
        )

    async def _change(
        self,
        actor: Actor,
        call_id: str,
        change: str,
        op: Callable[[Session, int], T],
        detail: Callable[[T], dict[str, object]],
    ) -> T:
        """Run ``op`` on the call's patient and write its audit row in one transaction."""
        patient_id = self.patient_on(actor, call_id)

        def work(session: Session) -> T:
            result = op(session, patient_id)
            _audit(
                session, actor, AuditAction.UPDATE, patient_id,
                change=change, call_id=call_id, **detail(result),
            )  # fmt: skip
            return result

        return await self.store.write(work)

    async def book(self, actor: Actor, call_id: str, slot_id: int) -> BookedAppointment:
        return await self._change(
            actor,
            call_id,
            "appointment_booked",
            lambda s, patient_id: AppointmentRepository(s).book(
                patient_id=patient_id,
                slot_id=slot_id,
                booked_by=BookingChannel.AGENT,
                user_id=actor.user_id,
            ),
            lambda booked: {"reference": booked.reference},
        )

    async def cancel(
        self, actor: Actor, call_id: str, reference: str, reason: str | None
    ) -> BookedAppointment:
        return await self._change(
            actor,
            call_id,
            "appointment_cancelled",
            lambda s, patient_id: AppointmentRepository(s).cancel(
                reference, cancelled_by=BookingChannel.AGENT, patient_id=patient_id, reason=reason
            ),
            lambda _cancelled: {"reference": reference},
        )

    async def reschedule(
        self, actor: Actor, call_id: str, reference: str, slot_id: int
    ) -> BookedAppointment:
        return await self._change(
            actor,
            call_id,
            "appointment_rescheduled",
            lambda s, patient_id: AppointmentRepository(s).reschedule(
                reference,
                new_slot_id=slot_id,
                changed_by=BookingChannel.AGENT,
                patient_id=patient_id,
                user_id=actor.user_id,
            ),
            lambda moved: {"reference": reference, "new_reference": moved.reference},
        )

    async def open_complaint(
        self, actor: Actor, call_id: str, category: ComplaintCategory, description: str
    ) -> str:
        return await self._change(
            actor,
            call_id,
            "complaint_opened",
            lambda s, patient_id: ComplaintRepository(s).open(
                category=category,
                description=description,
                opened_via=BookingChannel.AGENT,
                patient_id=patient_id,
                user_id=actor.user_id,
            ),
            lambda ticket: {"ticket": ticket},
        )

    async def wrap_up(
        self, actor: Actor, call_id: str, disposition: CallDisposition, notes: str | None
    ) -> None:
        """The agent's disposition and notes on the call's ACD record (the call they are on
        or just had; the caller need not be a patient)."""
        patient_id = self.call(actor, call_id).patient_id
        now = dt.datetime.now(dt.UTC)

        def work(session: Session) -> None:
            AcdRepository(session).wrap_up(
                call_id, agent_key=actor.agent_id, disposition=disposition, notes=notes, at=now
            )
            if patient_id is not None:
                _audit(
                    session, actor, AuditAction.UPDATE, patient_id,
                    change="call_wrapped_up", disposition=disposition.value, call_id=call_id,
                )  # fmt: skip

        await self.store.write(work)

    async def register(self, actor: Actor, call_id: str, full_name: str, number: str | None) -> Pop:
        """Register the unknown caller of this call as a patient, with the number the call
        came from (the tracked call's, else the one the agent typed); the call's pop then
        names the new patient, so the agent can go on to book for them."""
        pop = self.call(actor, call_id)
        if pop.patient_id is not None:
            raise PatientAlreadyKnown()

        def work(session: Session) -> int:
            call = CallRepository(session).get(call_id)
            heard = call.caller_number_e164 if call is not None else None
            dial = heard or number
            patients = PatientRepository(session)
            patient_id = patients.create(
                mrn=f"TEL-{secrets.token_hex(5).upper()}",  # the hospital assigns its own later
                full_name=full_name,
                numbers=[(dial, None)] if dial else [],
            )
            _audit(
                session, actor, AuditAction.CREATE, patient_id,
                change="patient_registered", call_id=call_id,
            )  # fmt: skip
            return patient_id

        patient_id = await self.store.write(work)
        history = await self.store.read(lambda s: PatientRepository(s).history(patient_id))
        return self.pops.attach_history(actor.agent_id, call_id, history)

    async def attach(self, actor: Actor, call_id: str, patient_id: int, verified_by: str) -> Pop:
        """The unknown caller of this call is ``patient_id``, one of the pop's likely
        matches, whom the agent verified on the phone (``verified_by``): the call's records
        name the patient from now on (their recent calls list it), audited."""
        pop = self.call(actor, call_id)
        if pop.patient_id is not None:
            raise PatientAlreadyKnown()
        if patient_id not in {match.patient_id for match in pop.likely}:
            raise NotASuggestedMatch()

        def work(session: Session) -> PatientHistory:
            AcdRepository(session).attach_patient(call_id, patient_id)
            CallRepository(session).attach_patient(call_id, patient_id)
            _audit(
                session, actor, AuditAction.UPDATE, patient_id,
                change="call_attached", call_id=call_id, verified_by=verified_by,
            )  # fmt: skip
            return PatientRepository(session).history(patient_id)

        history = await self.store.write(work)
        return self.pops.attach_history(actor.agent_id, call_id, history, verified=True)
