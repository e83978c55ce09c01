"""The call tracker wired to the world: AMI events in, call records out.

- Consumes ``ami.*`` channel events from the bus, applies them to the pure
  :class:`~cti.tracker.CallTracker`, and publishes ``call.started|updated|ended``.
- Links each new call to its patient by caller ID (off the event path).
- Journals calls to the store in batches, one writer thread, latest snapshot wins.
- After every AMI login (first start and each reconnect) resynchronises from
  ``CoreShowChannels`` so no live call is lost from view.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from panoramisk.message import Message
from sqlalchemy.orm import Session

from crm_store.gateway import StoreGateway
from crm_store.repositories.calls import CallRepository, CallSnapshot
from crm_store.write_batcher import WriteBatcher
from cti.ami import AmiClient, AmiEvent
from cti.bus import EventBus, Subscription
from cti.caller_identification import CallerIdentifier
from cti.errors import AmiError
from cti.tracker import TRACKED_EVENTS, CallChange, CallTracker, ChangeKind, ChannelStatus

log = logging.getLogger(__name__)


class CallJournal(WriteBatcher[CallSnapshot]):
    """Writes call snapshots to the store in batches; the newest snapshot of a call wins."""

    def __init__(self, store: StoreGateway, *, max_delay_s: float = 0.05) -> None:
        super().__init__(
            store,
            _save_all,
            name="call-journal",
            max_delay_s=max_delay_s,
            key=lambda snapshot: snapshot.linkedid,
        )


def _save_all(session: Session, batch: Sequence[CallSnapshot]) -> None:
    CallRepository(session).save_many(batch)


def _field_reader(message: Message) -> Callable[[str], str]:
    return lambda key: str(message.get(key) or "")


class CallTrackingService:
    """Keeps :attr:`tracker` in step with Asterisk and the store in step with it."""

    def __init__(
        self,
        *,
        bus: EventBus,
        ami: AmiClient,
        tracker: CallTracker,
        journal: CallJournal,
        identifier: CallerIdentifier,
    ) -> None:
        self.bus = bus
        self.ami = ami
        self.tracker = tracker
        self.journal = journal
        self.identifier = identifier
        self.resyncs = 0
        self._subscription: Subscription | None = None
        self._lookups: set[asyncio.Task[None]] = set()
        # The number each live call was last looked up by: the dialplan may set the
        # caller ID after the channel exists, and then the patient must be found again.
        self._looked_up: dict[str, str | None] = {}

    async def start(self) -> None:
        """Adopt calls the store still has open (Hotline restarted), then follow events."""
        open_calls = await self.journal.store.read(lambda s: CallRepository(s).open_calls())
        for snapshot in open_calls:
            self.tracker.adopt(snapshot)
        self._subscription = self.bus.subscribe(
            "call-tracker", [f"ami.{name}" for name in TRACKED_EVENTS], self._on_event
        )
        self.ami.on_login(self.resync)

    async def close(self) -> None:
        if self._subscription is not None:
            await self.bus.unsubscribe(self._subscription)
        for task in list(self._lookups):
            task.cancel()

    def _on_event(self, _topic: str, event: AmiEvent) -> None:
        change = self.tracker.apply(event)
        if change is not None:
            self._publish(change)

    def _publish(self, change: CallChange) -> None:
        call = change.call
        self.journal.enqueue(call.snapshot())
        self.bus.publish(f"call.{change.kind.value}", call)
        if change.kind is ChangeKind.ENDED:
            self._looked_up.pop(call.linkedid, None)
            return
        e164 = call.number.e164 if call.number else None
        if call.linkedid not in self._looked_up or self._looked_up[call.linkedid] != e164:
            self._looked_up[call.linkedid] = e164
            task = asyncio.get_running_loop().create_task(self._link_patient(call.linkedid))
            self._lookups.add(task)
            task.add_done_callback(self._lookups.discard)

    async def _link_patient(self, linkedid: str) -> None:
        call = self.tracker.calls.get(linkedid)
        if call is None:
            return
        identification = await self.identifier.identify(call.caller_number_raw)
        if self.tracker.calls.get(linkedid) is not call:
            return  # ended meanwhile; its final snapshot is already journalled
        patient = identification.patient
        change = self.tracker.link_patient(linkedid, patient.patient_id if patient else None)
        if change is not None:
            self._publish(change)

    async def resync(self) -> None:
        """Rebuild live calls from Asterisk's channel list."""
        try:
            events = await self.ami.send_list({"Action": "CoreShowChannels"})
        except AmiError as exc:
            log.warning("call resync failed: %s", exc)
            return
        # Events queued before the listing must be applied first, or a call that
        # started just before would look unknown to the listing's reconciliation.
        if self._subscription is not None:
            await self._subscription.queue.join()
        channels = [ChannelStatus.from_fields(_field_reader(event)) for event in events]
        changes = self.tracker.resync(channels, time.time())
        for change in changes:
            self._publish(change)
        self.resyncs += 1
        log.info("call resync: %d channels live, %d calls changed", len(channels), len(changes))
