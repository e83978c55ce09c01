"""The ACD service end to end through the real Asterisk with the project's dialplan.

The tests stand in for the IVR: they park a simulated caller in ``[hotline-wait]``
(Originate of ``Local/s@caller-sim``) and publish its :class:`~cti.handover.Handover` on
the service's bus. Simulated agents are ``Local/<ext>@agent-sim`` (answers after 1 s) and
``Local/<ext>@agent-sim-noanswer`` (never answers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from acd.model import AgentState
from acd.service import (
    CallAbandoned,
    CallAnswered,
    CallBridged,
    CallOffered,
    CallQueued,
    CallRequeued,
)
from cti.handover import HANDOVER_TOPIC
from tests.acd.live import QUEUES as QUEUES  # re-exported: other suites import them here
from tests.acd.live import Parked as Parked
from tests.acd.live import Rig, handover_of, park_caller, state_is
from tests.acd.live import Seen as Seen

pytestmark = pytest.mark.asterisk


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
