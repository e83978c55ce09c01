"""Recording the calls Hotline's ACD bridges, from the ACD's bus topics.

The ACD publishes ``acd.queued`` (the queue and patient), ``acd.bridged`` (caller and
agent talk: the agent's leg has run ``[hotline-record-agent]`` before its Bridge()) and
``acd.ended``. This subscriber indexes the recording when the call is bridged and
moves, verifies and indexes the file when it ends; the ACD's routing knows nothing of it.
A call that should have been recorded but was not (the caller did not hear the notice,
MixMonitor failed) or whose file is missing or damaged is logged as an error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from acd.service import CallAbandoned, CallBridged, CallEnded, CallOffered, CallQueued
from crm_store.gateway import StoreGateway
from crm_store.repositories import RecordingRepository
from cti.bus import EventBus, Subscription
from recordings.errors import RecordingError
from recordings.service import RecordingService

log = logging.getLogger(__name__)

TOPICS = ("acd.queued", "acd.offered", "acd.bridged", "acd.ended", "acd.abandoned")


class AcdRecorder:
    """Starts and finishes the recording of every call the ACD bridges, per the queue's
    policy. Build it in the composition root, then :meth:`start`."""

    def __init__(self, *, bus: EventBus, service: RecordingService, store: StoreGateway) -> None:
        self.bus = bus
        self.service = service
        self.store = store
        self._queued: dict[str, CallQueued] = {}
        #: Callbacks being offered, by call id: their queue (a callback restored after a
        #: restart was never queued in this run) and the patient leg records.
        self._callbacks: dict[str, CallOffered] = {}
        self._subscription: Subscription | None = None
        self._finishing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._subscription = self.bus.subscribe("recordings-acd", TOPICS, self._on_acd)

    async def close(self) -> None:
        """Stop listening, then let the recordings of calls that have ended be stored."""
        if self._subscription is not None:
            await self.bus.unsubscribe(self._subscription)
            self._subscription = None
        if self._finishing:
            await asyncio.gather(*self._finishing, return_exceptions=True)

    async def _on_acd(self, _topic: str, payload: Any) -> None:
        match payload:
            case CallQueued():
                self._queued[payload.call_id] = payload
            case CallOffered(callback=True):
                self._callbacks[payload.call_id] = payload
            case CallBridged():
                await self._bridged(payload)
            case CallEnded():
                # Storing waits for Asterisk to close the file: not in the bus's way.
                task = asyncio.create_task(self._ended(payload.call_id))
                self._finishing.add(task)
                task.add_done_callback(self._finishing.discard)
            case CallAbandoned():
                self._queued.pop(payload.call_id, None)
                self._callbacks.pop(payload.call_id, None)

    async def _bridged(self, bridged: CallBridged) -> None:
        queued = self._queued.get(bridged.call_id)
        callback = self._callbacks.pop(bridged.call_id, None)
        queue = callback.queue if callback else queued.queue if queued else None
        try:
            await self.service.start(
                uniqueid=bridged.call_id,
                # A callback is recorded on the patient's leg ([hotline-record-callback]).
                channel=bridged.caller_channel if callback else bridged.agent_channel,
                queue=queue,
                agent_id=None,  # the index's ids are looked up when the call has ended
                agent_key=bridged.agent_id,
                patient_id=queued.patient_id if queued else None,
            )
        except RecordingError as exc:
            log.error("call %s is not recorded: %s", bridged.call_id, exc)

    async def _ended(self, call_id: str) -> None:
        self._queued.pop(call_id, None)
        active = self.service.active(call_id)
        if active is None:
            return
        if active.agent_key is not None:
            agent_key = active.agent_key
            links = await self.store.read(
                lambda s: RecordingRepository(s).links(linkedid=call_id, agent_username=agent_key)
            )
            active.call_id = active.call_id or links.call_id
            active.agent_id = active.agent_id or links.agent_id
        try:
            await self.service.finish(call_id)
        except RecordingError as exc:
            log.error("recording of call %s is lost: %s", call_id, exc)
