"""Which agents are talking to callers (what the listen / whisper / barge buttons offer),
from the ACD's bus topics."""

from __future__ import annotations

import datetime as dt

from acd.model import PriorityClass
from acd.service import CallAbandoned, CallBridged, CallEnded, CallQueued
from cti.bus import EventBus
from screenpop.monitoring import Conversation, Conversations

T0 = dt.datetime(2030, 1, 7, 2, 0, tzinfo=dt.UTC)


async def test_a_bridged_call_is_offered_for_monitoring_until_it_ends() -> None:
    bus = EventBus()
    conversations = Conversations(bus)
    await conversations.start()
    try:
        bus.publish("acd.queued", CallQueued("1.1", "patients", PriorityClass.NORMAL, 7, T0))
        bus.publish("acd.queued", CallQueued("1.2", "vip", PriorityClass.VIP, None, T0))
        bus.publish(
            "acd.bridged", CallBridged("1.1", "li", "PJSIP/trunk-1", "PJSIP/3001-1", "b1", T0)
        )
        await bus.drain()
        assert conversations.current() == [
            Conversation("1.1", "li", "PJSIP/3001-1", "patients", T0)
        ]
        bus.publish("acd.abandoned", CallAbandoned("1.2", "vip", 30.0, T0))
        bus.publish("acd.ended", CallEnded("1.1", "li", T0 + dt.timedelta(minutes=3)))
        await bus.drain()
        assert conversations.current() == []
    finally:
        await conversations.stop()
        await bus.close()
