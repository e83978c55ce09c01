"""The ACD service end to end through the real Asterisk with the project's dialplan.

The tests stand in for the IVR: they park a simulated caller in ``[hotline-wait]``
(Originate of ``Local/s@caller-sim``) and publish its :class:`~cti.handover.Handover` on
the service's bus. Simulated agents are ``Local/<ext>@agent-sim`` (answers after 1 s) and
``Local/<ext>@agent-sim-noanswer`` (never answers).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from acd.agent_states import StateChanged
from acd.model import Agent, AgentState, Queue
from acd.service import (
    AcdService,
    CallAbandoned,
    CallAnswered,
    CallBridged,
    CallOffered,
    CallQueued,
    CallRequeued,
)
from cti.ami import AmiClient
from cti.asterisk import AsteriskRunner
from cti.bus import EventBus
from cti.handover import HANDOVER_TOPIC, Handover
from cti.settings import Settings
from ivr.flows import Findings, Identity
from tests.fixtures.hotline import CallerSide

pytestmark = pytest.mark.asterisk

QUEUES = (
    Queue("general", skill="general", language="zh", ring_timeout_s=3, wrap_up_s=1),
    Queue("vip", skill="general", language="zh", ring_timeout_s=3, wrap_up_s=1),
)


@dataclass
class Seen:
    """Everything the service published, with a way to wait for what a test expects."""

    items: list[tuple[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, topic: str, payload: Any) -> None:
        self.items.append((topic, payload))
        self.changed.set()

    async def wait_for(
        self, predicate: Callable[[Any], bool], what: str, timeout_s: float = 20
    ) -> Any:
        async def _wait() -> Any:
            seen = 0
            while True:
                for _topic, payload in self.items[seen:]:
                    if predicate(payload):
                        return payload
                seen = len(self.items)
                self.changed.clear()
                await self.changed.wait()

        try:
            return await asyncio.wait_for(_wait(), timeout_s)
        except TimeoutError:
            raise AssertionError(
                f"no {what} within {timeout_s} s; saw {[t for t, _ in self.items]}"
            ) from None

    def of(self, kind: type) -> list[Any]:
        return [p for _t, p in self.items if isinstance(p, kind)]


@dataclass
class Rig:
    service: AcdService
    bus: EventBus
    seen: Seen
    caller: CallerSide


@pytest.fixture
async def make_rig(
    asterisk: AsteriskRunner, test_settings: Settings, caller_ami: CallerSide
) -> AsyncIterator[Callable[[Mapping[str, str]], Any]]:
    built: list[tuple[AcdService, AmiClient, EventBus]] = []

    async def build(phones: Mapping[str, str]) -> Rig:
        bus = EventBus()
        seen = Seen()
        bus.subscribe("test-acd", ["acd.*"], seen.add)
        ami = AmiClient.from_settings(test_settings, bus)
        agents = [Agent(a, skills={"general": 3}, languages={"zh": 5}) for a in phones]
        service = AcdService.build(bus=bus, ami=ami, queues=QUEUES, agents=agents, phones=phones)
        await service.start()
        await ami.start(wait_s=30)
        built.append((service, ami, bus))
        return Rig(service, bus, seen, caller_ami)

    yield build
    for service, ami, bus in built:
        await service.close()
        await ami.close()
        await bus.close()


@dataclass(frozen=True)
class Parked:
    uniqueid: str
    channel: str


async def park_caller(
    caller: CallerSide, *, hold_s: int = 25, variables: Sequence[str] = ()
) -> Parked:
    """A simulated caller, answered and waiting in [hotline-wait] with music;
    ``variables`` (NAME=value) are set on the caller's channel as a hand-over would."""
    events = await caller.ami.send_list(
        {
            "Action": "Originate",
            "Channel": "Local/s@caller-sim",
            "Context": "hotline-wait",
            "Exten": "s",
            "Priority": "1",
            "Async": "true",
            "Timeout": "10000",
            "Variable": [f"SIM_HOLD_S={hold_s}", *variables],
        }
    )
    response = next(e for e in events if e.get("Event") == "OriginateResponse")
    assert response.get("Response") == "Success", response
    return Parked(str(response.get("Uniqueid")), str(response.get("Channel")))


def handover_of(parked: Parked, queue: str, patient_id: str | None = None) -> Handover:
    findings = Findings(
        reason="caller_asked",
        language="zh",
        identity=Identity.VERIFIED if patient_id else Identity.UNKNOWN,
        patient_id=patient_id,
        patient_name=None,
        intent="book",
        intents=("book",),
        step="agent",
        slots={},
        turns=2,
        last_heard="预约",
    )
    return Handover(
        uniqueid=parked.uniqueid,
        channel=parked.channel,
        queue=queue,
        reason="caller_asked",
        skill=None,
        language="zh",
        findings=findings,
        at=dt.datetime.now(dt.UTC),
    )


def state_is(agent_id: str, state: AgentState) -> Callable[[Any], bool]:
    return lambda p: isinstance(p, StateChanged) and p.agent_id == agent_id and p.new is state


async def test_handed_over_caller_rings_the_agent_who_answers_and_is_bridged(make_rig):
    rig: Rig = await make_rig({"1001": "Local/1001@agent-sim"})
    rig.service.login("1001")
    parked = await park_caller(rig.caller)
    handover = handover_of(parked, "general", patient_id="42")
    rig.bus.publish(HANDOVER_TOPIC, handover)

    offered = await rig.seen.wait_for(lambda p: isinstance(p, CallOffered), "offer")
    assert (offered.call_id, offered.agent_id) == (parked.uniqueid, "1001")
    assert offered.handover == handover  # the screen pop's findings travel with the offer
    answered = await rig.seen.wait_for(lambda p: isinstance(p, CallAnswered), "answer")
    assert answered.agent_id == "1001"
    bridged = await rig.seen.wait_for(lambda p: isinstance(p, CallBridged), "bridge")
    assert bridged.caller_channel == parked.channel
    assert bridged.agent_channel.startswith("Local/1001@agent-sim")
    assert rig.service.agent("1001").state is AgentState.ON_CALL

    # Asterisk itself has both channels in one bridge.
    def enters(uniqueid: str) -> Callable[[Any], bool]:
        return lambda e: e.name == "BridgeEnter" and e.get("Uniqueid") == uniqueid

    caller_in = await rig.caller.log.wait_for(enters(parked.uniqueid), what="caller enters")
    assert caller_in.get("BridgeUniqueid") == bridged.bridge_id
    assert caller_in.get("BridgeNumChannels") in ("1", "2")

    # The caller hangs up: the agent wraps up (1 s), then is available again.
    await rig.caller.ami.send({"Action": "Hangup", "Channel": parked.channel})
    await rig.seen.wait_for(state_is("1001", AgentState.WRAP_UP), "wrap-up")
    await rig.seen.wait_for(state_is("1001", AgentState.AVAILABLE), "available after wrap-up")


async def test_vip_caller_overtakes_a_caller_who_came_first(make_rig):
    rig: Rig = await make_rig({"1002": "Local/1002@agent-sim"})
    rig.service.login("1002", paused_reason="break")
    first = await park_caller(rig.caller)
    rig.bus.publish(HANDOVER_TOPIC, handover_of(first, "general"))
    await rig.seen.wait_for(
        lambda p: isinstance(p, CallQueued) and p.call_id == first.uniqueid, "first queued"
    )
    vip = await park_caller(rig.caller)
    rig.bus.publish(HANDOVER_TOPIC, handover_of(vip, "vip"))
    await rig.seen.wait_for(
        lambda p: isinstance(p, CallQueued) and p.call_id == vip.uniqueid, "VIP queued"
    )
    assert not rig.seen.of(CallOffered)  # the agent is on a break: nobody is rung

    rig.service.resume("1002")
    offered = await rig.seen.wait_for(lambda p: isinstance(p, CallOffered), "offer")
    assert offered.call_id == vip.uniqueid
    await rig.seen.wait_for(lambda p: isinstance(p, CallBridged), "VIP bridged")
    for parked in (first, vip):
        await rig.caller.ami.send({"Action": "Hangup", "Channel": parked.channel})
    abandoned = await rig.seen.wait_for(lambda p: isinstance(p, CallAbandoned), "abandon")
    assert abandoned.call_id == first.uniqueid


async def test_unanswered_ring_requeues_at_the_head_and_the_agent_is_not_responding(make_rig):
    rig: Rig = await make_rig(
        {"2001": "Local/2001@agent-sim-noanswer", "1003": "Local/1003@agent-sim"}
    )
    rig.service.login("2001")  # idle longest: rung first
    await asyncio.sleep(0.05)
    rig.service.login("1003")
    rig.service.pause("1003", "training")
    parked = await park_caller(rig.caller)
    rig.bus.publish(HANDOVER_TOPIC, handover_of(parked, "general"))

    offered = await rig.seen.wait_for(lambda p: isinstance(p, CallOffered), "first offer")
    assert offered.agent_id == "2001"
    requeued = await rig.seen.wait_for(lambda p: isinstance(p, CallRequeued), "requeue")
    assert (requeued.call_id, requeued.agent_id) == (parked.uniqueid, "2001")
    assert rig.service.agent("2001").state is AgentState.NOT_RESPONDING
    assert rig.service.waiting[parked.uniqueid].at_head

    rig.service.resume("1003")
    second = await rig.seen.wait_for(
        lambda p: isinstance(p, CallOffered) and p.agent_id == "1003", "second offer"
    )
    assert second.call_id == parked.uniqueid
    await rig.seen.wait_for(lambda p: isinstance(p, CallBridged), "bridged with 1003")
    await rig.caller.ami.send({"Action": "Hangup", "Channel": parked.channel})
    await rig.seen.wait_for(state_is("1003", AgentState.WRAP_UP), "wrap-up")


async def test_caller_hanging_up_while_waiting_is_abandoned(make_rig):
    rig: Rig = await make_rig({"1004": "Local/1004@agent-sim"})
    parked = await park_caller(rig.caller)
    rig.bus.publish(HANDOVER_TOPIC, handover_of(parked, "general"))
    await rig.seen.wait_for(lambda p: isinstance(p, CallQueued), "queued")
    await rig.caller.ami.send({"Action": "Hangup", "Channel": parked.channel})
    abandoned = await rig.seen.wait_for(lambda p: isinstance(p, CallAbandoned), "abandon")
    assert abandoned.call_id == parked.uniqueid and abandoned.queue == "general"
    assert parked.uniqueid not in rig.service.waiting
    rig.service.login("1004")
    assert not rig.seen.of(CallOffered)
