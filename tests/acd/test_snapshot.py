"""The ACD service's snapshot: its live state as immutable values, taken in one step.

Driven through the bus as the IVR and the AMI client drive it; the AMI link is a
stand-in that accepts the ring action (ringing through the real Asterisk is in
tests/acd/test_service_asterisk.py and tests/screenpop/test_wallboard_browser.py)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from acd.model import Agent, AgentState, Queue
from acd.service import AcdService
from acd.snapshot import HeldPhase
from cti.ami import AmiEvent
from cti.bus import EventBus
from cti.handover import HANDOVER_TOPIC
from tests.acd.test_service_asterisk import Parked, handover_of

QUEUES = (Queue("general", skill="general", language="zh"), Queue("vip", "general", "zh"))


class AcceptingAmi:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    async def send(self, action: Any) -> None:
        self.sent.append(action)


async def park(bus: EventBus, uniqueid: str, queue: str) -> None:
    parked = Parked(uniqueid, f"PJSIP/trunk-{uniqueid}")
    bus.publish(HANDOVER_TOPIC, handover_of(parked, queue))
    event = {"Event": "UserEvent", "UserEvent": "HotlineWait", "Uniqueid": uniqueid}
    bus.publish("ami.UserEvent", AmiEvent("UserEvent", event, time.time()))
    await bus.drain()


async def test_snapshot_shows_waiting_callers_agents_and_the_calls_they_hold() -> None:
    bus = EventBus()
    ami = AcceptingAmi()
    agents = [Agent(a, skills={"general": 2}, languages={"zh": 5}) for a in ("b2", "a1")]
    service = AcdService.build(
        bus=bus,
        ami=ami,  # type: ignore[arg-type]
        queues=QUEUES,
        agents=agents,
        phones={"a1": "PJSIP/a1", "b2": "PJSIP/b2"},
    )
    await service.start()
    try:
        service.login("b2", paused_reason="lunch")
        await park(bus, "1700000000.1", "general")
        await park(bus, "1700000000.2", "vip")
        first = service.snapshot()
        assert [c.call_id for c in first.waiting] == ["1700000000.1", "1700000000.2"]
        assert [a.id for a in first.agents] == ["a1", "b2"]
        assert [q.name for q in first.queues] == ["general", "vip"]
        assert first.held == ()

        service.login("a1")  # free: the VIP line's caller, though second, rings them
        await bus.drain()
        second = service.snapshot()
        assert [c.call_id for c in second.waiting] == ["1700000000.1"]
        (held,) = second.held
        assert (held.call_id, held.agent_id, held.queue) == ("1700000000.2", "a1", "vip")
        assert held.phase is HeldPhase.RINGING
        assert held.since == service.agent("a1").state_since
        assert service.agent("a1").state is AgentState.RINGING

        # A snapshot never changes afterwards: it is values, not views of the service.
        with pytest.raises(dataclasses.FrozenInstanceError):
            first.waiting = ()  # type: ignore[misc]
        assert len(first.waiting) == 2 and first.held == ()
    finally:
        await service.close()
        await bus.close()
