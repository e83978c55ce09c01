"""Writes what the ACD service publishes to the store: agents' states (so pauses and their
reasons survive a restart) and each caller's path (queued, offered, answered, wait,
abandoned, ended). One bus subscription, so rows are written in the order things happened,
off the AMI reader's path."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from acd.agent_states import StateChanged
from acd.service import CallAbandoned, CallAnswered, CallEnded, CallOffered, CallQueued
from crm_store.gateway import StoreGateway
from crm_store.repositories.acd import AcdRepository, SavedAgentState
from cti.bus import EventBus, Subscription

log = logging.getLogger(__name__)

TOPICS = (
    "acd.agent_state",
    "acd.queued",
    "acd.offered",
    "acd.answered",
    "acd.abandoned",
    "acd.ended",
)
#: Published (with the event) once the event's row is written: readers of the rows (the
#: wallboard) re-read then, not on the ``acd.*`` event, which may still be unwritten.
WRITTEN_TOPIC = "acd_journal.written"


class AcdJournal:
    def __init__(self, bus: EventBus, store: StoreGateway) -> None:
        self.bus = bus
        self.store = store
        self._subscription: Subscription | None = None

    def start(self) -> None:
        self._subscription = self.bus.subscribe("acd-journal", TOPICS, self._on_event)

    async def close(self) -> None:
        if self._subscription is not None:
            await self.bus.unsubscribe(self._subscription, drain=True)
            self._subscription = None

    async def saved_states(self) -> dict[str, SavedAgentState]:
        return await self.store.read(lambda s: AcdRepository(s).agent_states())

    async def _on_event(self, _topic: str, event: Any) -> None:
        def work(session: Session) -> None:
            repo = AcdRepository(session)
            match event:
                case StateChanged():
                    repo.save_agent_state(event.agent_id, event.new, event.pause_reason, event.at)
                case CallQueued():
                    repo.call_queued(
                        event.call_id,
                        queue=event.queue,
                        priority=event.priority.value,
                        patient_id=event.patient_id,
                        at=event.at,
                    )
                case CallOffered():
                    repo.call_offered(event.call_id, event.agent_id)
                case CallAnswered():
                    repo.call_answered(event.call_id, event.agent_id, event.at)
                case CallAbandoned():
                    repo.call_abandoned(event.call_id, event.at)
                case CallEnded():
                    repo.call_ended(event.call_id, event.at)

        await self.store.write(work)
        self.bus.publish(WRITTEN_TOPIC, event)
