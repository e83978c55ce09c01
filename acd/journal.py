"""Writes what the ACD service publishes to the store: agents' states (so pauses and their
reasons survive a restart) and each caller's path (queued, offered, answered, wait,
abandoned, ended). One bus subscription, so rows are written in the order things happened,
off the AMI reader's path."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from acd.agent_states import StateChanged
from acd.model import OverflowKind
from acd.service import (
    CallAbandoned,
    CallAnswered,
    CallbackPlaced,
    CallbackRequested,
    CallbackResult,
    CallEnded,
    CallOffered,
    CallOverflowed,
    CallQueued,
    WaitAnnounced,
)
from acd.wait_error import WaitErrorReport, wait_error
from crm_store.gateway import StoreGateway
from crm_store.repositories.acd import AcdRepository, PendingCallback, SavedAgentState
from crm_store.repositories.ivr import IvrRepository
from cti.bus import EventBus, Subscription
from ivr.flows import Findings

log = logging.getLogger(__name__)

TOPICS = (
    "acd.agent_state",
    "acd.queued",
    "acd.offered",
    "acd.answered",
    "acd.abandoned",
    "acd.ended",
    "acd.callback_requested",
    "acd.callback_placed",
    "acd.callback_result",
    "acd.overflowed",
    "acd.announced",
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

    async def pending_callbacks(self, since: dt.datetime) -> list[PendingCallback]:
        return await self.store.read(lambda s: AcdRepository(s).pending_callbacks(since))

    async def callback_findings(self, pending: Iterable[PendingCallback]) -> dict[str, Findings]:
        """What the IVR learnt on each pending callback's call (its stored session
        findings), so a callback restored after a restart pops as it would have."""
        keys = [item.call_key for item in pending]
        stored = await self.store.read(lambda s: IvrRepository(s).findings_of(keys))
        return {key: Findings.from_json(found) for key, found in stored.items()}

    async def expected_wait_error(self, start: dt.datetime, end: dt.datetime) -> WaitErrorReport:
        """How far the expected waits told to callers queued in ``[start, end)`` were from
        the waits they then had (mean absolute error and bias)."""
        pairs = await self.store.read(lambda s: AcdRepository(s).told_waits(start, end))
        return wait_error(pairs)

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
                    repo.call_offered(event.call_id, event.agent_id, event.at)
                case CallAnswered():
                    repo.call_answered(event.call_id, event.agent_id, event.at)
                case CallAbandoned():
                    repo.call_abandoned(event.call_id, event.at)
                case CallEnded():
                    repo.call_ended(event.call_id, event.at)
                case CallbackRequested():
                    repo.callback_requested(event.call_id, event.number, event.at)
                case CallbackPlaced():
                    repo.callback_placed(event.call_id, event.at)
                case CallbackResult():
                    repo.callback_result(event.call_id, event.outcome.value, event.attempts)
                case CallOverflowed():
                    repo.call_overflowed(
                        event.call_id,
                        event.reason.value,
                        event.target,
                        to_queue=event.kind is OverflowKind.QUEUE,
                    )
                    if event.kind is OverflowKind.MESSAGE:
                        repo.call_ended(event.call_id, event.at)
                case WaitAnnounced(expected_wait_s=float() as told):
                    repo.wait_told(event.call_id, told, event.at)

        await self.store.write(work)
        self.bus.publish(WRITTEN_TOPIC, event)
