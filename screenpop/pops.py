"""Screen pops: the call offered to an agent, with the caller's record, on that agent's
sockets. No HTTP here (the socket route in routes/pops.py sends and audits).

Fed by the ACD's bus events (:mod:`acd.service`): ``acd.offered`` builds the pop (the
patient's history in one store round trip) and makes it the agent's *pending* pop, which
every socket of that agent receives — at once, and again on (re)connecting — until the call
ends, the caller hangs up, or the ring goes unanswered and the call is taken back.

Messages (JSON, server → browser):

* ``{"type": "pop", "pop": {...}}`` — see :meth:`Pop.to_json`;
* ``{"type": "answered", "call_id": ...}`` — the agent's phone answered;
* ``{"type": "withdrawn", "call_id": ..., "reason": "not_answered" | "caller_hung_up"}``;
* ``{"type": "ended", "call_id": ...}`` — the conversation ended (wrap-up begins).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from acd.service import CallAbandoned, CallAnswered, CallEnded, CallOffered, CallRequeued
from crm_store.errors import PatientNotFound
from crm_store.gateway import StoreGateway
from crm_store.phone_numbers import normalise
from crm_store.repositories.likely_patients import LikelyPatient, LikelyPatientFinder
from crm_store.repositories.patients import (
    AppointmentSummary,
    PatientHistory,
    PatientRepository,
)
from cti.bus import EventBus, Subscription

log = logging.getLogger(__name__)

#: IVR slots that may hold the name a caller gave (flows name their slots freely).
NAME_SLOTS = ("full_name", "name", "patient_name", "caller_name")

POP_TOPICS = ("acd.offered", "acd.answered", "acd.requeued", "acd.abandoned", "acd.ended")

Message = dict[str, Any]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _appointment(a: AppointmentSummary) -> dict[str, Any]:
    return {
        "reference": a.reference,
        "status": a.status.value,
        "starts_at": _iso(a.starts_at),
        "department": {"zh": a.department_zh, "en": a.department_en},
        "doctor": {"zh": a.doctor_zh, "en": a.doctor_en},
    }


@dataclass(frozen=True)
class Pop:
    """A call offered to an agent and what the agent needs to know before answering."""

    offer: CallOffered
    history: PatientHistory | None  # None: the caller is not (yet) a known patient
    answered: bool = False
    #: For an unknown caller: patients they may be, for the agent to verify and attach.
    likely: tuple[LikelyPatient, ...] = ()
    #: The agent verified the caller on the phone and attached the call to this patient.
    verified_by_agent: bool = False

    @property
    def call_id(self) -> str:
        return self.offer.call_id

    @property
    def patient_id(self) -> int | None:
        return self.history.patient.id if self.history is not None else None

    @property
    def viewed_patient_ids(self) -> list[int]:
        """Every patient whose details this pop shows (each view is audited)."""
        if self.patient_id is not None:
            return [self.patient_id]
        return [match.patient_id for match in self.likely]

    def to_json(self) -> dict[str, Any]:
        offer, findings = self.offer, self.offer.handover.findings
        caller: dict[str, Any]
        if self.history is None:
            number = normalise(offer.handover.caller_number)
            caller = {
                "known": False,
                "verified": False,
                # A caller ID that is no number is shown as received, cut short.
                "number": number.national or (offer.handover.caller_number or "")[:32] or None,
                "withheld": offer.handover.caller_number is None,
            }
        else:
            p = self.history.patient
            caller = {
                "known": True,
                "verified": offer.handover.verified or self.verified_by_agent,
                "patient_id": p.id,
                "name": p.full_name,
                "mrn": p.mrn,
                "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None,
                "language": p.preferred_language,
                "vip": p.vip,
                "chronic": p.chronic,
                "allergies": p.allergies,
                "care_notes": p.care_notes,
            }
        history = self.history
        return {
            "call_id": offer.call_id,
            "queue": offer.queue,
            "priority": offer.priority.value,
            "callback": offer.callback,
            "waited_s": round(offer.waited_s, 1),
            "offered_at": _iso(offer.at),
            "answered": self.answered,
            "caller": caller,
            "upcoming_appointments": [
                _appointment(a) for a in (history.upcoming_appointments if history else ())
            ],
            "recent_appointments": [
                _appointment(a) for a in (history.recent_appointments if history else ())
            ],
            "recent_calls": [
                {
                    "linkedid": c.linkedid,
                    "direction": c.direction,
                    "arrived_at": _iso(c.arrived_at),
                    "answered": c.answered_at is not None,
                    "agent": c.agent,
                    "disposition": c.disposition,
                    "notes": c.agent_notes,
                }
                for c in (history.recent_calls if history else ())
            ],
            "likely_matches": [
                {
                    "patient_id": m.patient_id,
                    "name": m.name,
                    "number": m.masked_number,
                    "birth_year": m.birth_year,
                    "reason": m.reason.value,
                }
                for m in self.likely
            ],
            "open_complaints": [
                {
                    "ticket": c.ticket_number,
                    "category": c.category,
                    "status": c.status,
                    "created_at": _iso(c.created_at),
                }
                for c in (history.open_complaints if history else ())
            ],
            "ivr": {
                "reason": offer.handover.reason,
                "language": offer.handover.language,
                "identity": findings.identity.value,
                "intent": findings.intent,
                "intents": list(findings.intents),
                "step": findings.step,
                "slots": dict(findings.slots),
                "turns": findings.turns,
                "last_heard": findings.last_heard,
            },
        }


@dataclass(eq=False)
class PopWatcher:
    """One socket of one agent: what it has yet to send."""

    agent_id: str
    queue: asyncio.Queue[Message | Pop | None] = field(default_factory=asyncio.Queue)

    async def next(self) -> Message | Pop | None:
        return await self.queue.get()


@dataclass
class PopDesk:
    """Pending pops per agent, and the sockets watching them."""

    store: StoreGateway
    bus: EventBus
    pending: dict[str, Pop] = field(default_factory=dict)
    #: Each agent's last call after it ended (wrap-up: notes, booking), until the next offer.
    last: dict[str, Pop] = field(default_factory=dict)
    watchers: dict[str, set[PopWatcher]] = field(default_factory=dict)
    _subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = self.bus.subscribe("screen-pops", POP_TOPICS, self._on_event)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self.bus.unsubscribe(self._subscription, drain=False)
            self._subscription = None
        for watchers in self.watchers.values():
            for watcher in watchers:
                watcher.queue.put_nowait(None)

    def watch(self, agent_id: str) -> tuple[PopWatcher, Pop | None]:
        """A new socket for ``agent_id``, and the pop it must show first (if any)."""
        watcher = PopWatcher(agent_id)
        self.watchers.setdefault(agent_id, set()).add(watcher)
        return watcher, self.pending.get(agent_id)

    def unwatch(self, watcher: PopWatcher) -> None:
        self.watchers.get(watcher.agent_id, set()).discard(watcher)

    def held_by(self, agent_id: str, call_id: str) -> Pop | None:
        """The agent's pending or last call with this id (what the agent may act on)."""
        for pop in (self.pending.get(agent_id), self.last.get(agent_id)):
            if pop is not None and pop.call_id == call_id:
                return pop
        return None

    def live(self, call_id: str) -> Pop | None:
        """The pop of a call being offered or talked to, whoever the agent (for a
        supervisor's read-only view)."""
        for pop in self.pending.values():
            if pop.call_id == call_id:
                return pop
        return None

    def attach_history(
        self, agent_id: str, call_id: str, history: PatientHistory, *, verified: bool = False
    ) -> Pop:
        """The caller of this call was just registered, attached or read again: their pop
        names them from now on (``verified``: the agent verified them on the phone)."""
        updated: Pop | None = None
        for held in (self.pending, self.last):
            pop = held.get(agent_id)
            if pop is not None and pop.call_id == call_id:
                updated = held[agent_id] = replace(
                    pop, history=history, likely=(),
                    verified_by_agent=pop.verified_by_agent or verified,
                )  # fmt: skip
        if updated is None:
            raise KeyError(call_id)
        return updated

    def _send(self, agent_id: str, item: Message | Pop) -> None:
        for watcher in self.watchers.get(agent_id, ()):
            watcher.queue.put_nowait(item)

    async def _on_event(self, _topic: str, event: Any) -> None:
        match event:
            case CallOffered():
                history = await self._history(event.handover.patient_id)
                likely = () if history is not None else await self._likely(event)
                offered = Pop(event, history, likely=likely)
                self.last.pop(event.agent_id, None)
                self.pending[event.agent_id] = offered
                self._send(event.agent_id, offered)
            case CallAnswered(agent_id=agent_id, call_id=call_id):
                held = self.pending.get(agent_id)
                if held is not None and held.call_id == call_id:
                    self.pending[agent_id] = replace(held, answered=True)
                self._send(agent_id, {"type": "answered", "call_id": call_id})
            case CallRequeued(agent_id=agent_id, call_id=call_id):
                self._withdraw(agent_id, call_id, "not_answered")
            case CallAbandoned(call_id=call_id):
                for agent_id, pop in list(self.pending.items()):
                    if pop.call_id == call_id:
                        self._withdraw(agent_id, call_id, "caller_hung_up")
            case CallEnded(agent_id=agent_id, call_id=call_id):
                ending = self.pending.get(agent_id)
                if ending is not None and ending.call_id == call_id:
                    self.last[agent_id] = self.pending.pop(agent_id)
                self._send(agent_id, {"type": "ended", "call_id": call_id})

    def _withdraw(self, agent_id: str, call_id: str, reason: str) -> None:
        pop = self.pending.get(agent_id)
        if pop is None or pop.call_id != call_id:
            return
        del self.pending[agent_id]
        self._send(agent_id, {"type": "withdrawn", "call_id": call_id, "reason": reason})

    async def _history(self, patient_id: int | None) -> PatientHistory | None:
        if patient_id is None:
            return None
        try:
            return await self.store.lookup(lambda s: PatientRepository(s).history(patient_id))
        except PatientNotFound:
            log.warning("hand-over names patient %d, who is not in the store", patient_id)
            return None

    async def _likely(self, offer: CallOffered) -> tuple[LikelyPatient, ...]:
        findings = offer.handover.findings
        name = findings.patient_name or next(
            (findings.slots[k] for k in NAME_SLOTS if findings.slots.get(k)), None
        )
        number = offer.handover.caller_number
        if number is None and name is None:
            return ()
        found = await self.store.read(lambda s: LikelyPatientFinder(s).find(number, name))
        return tuple(found)
