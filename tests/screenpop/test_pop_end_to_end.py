"""A caller handed over by the IVR, through the real Asterisk, rings a simulated agent
whose console socket receives the pop with the right patient before the answer; the
agent answers and the caller is bridged."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from acd.model import Agent, AgentState
from acd.service import AcdService, CallBridged
from cti.ami import AmiClient
from cti.handover import HANDOVER_TOPIC
from cti.settings import Settings
from tests.acd.live import QUEUES, Seen, handover_of, park_caller
from tests.fixtures.hotline import CallerSide
from tests.screenpop.conftest import Console
from tests.screenpop.test_live_calls import receive, signed_in_token
from tests.screenpop.test_pops import open_pops

pytestmark = pytest.mark.asterisk


async def test_handed_over_caller_pops_on_the_ringing_agents_socket_then_is_bridged(
    console: Console, caller_ami: CallerSide, test_settings: Settings, asterisk: Any
):
    seen = Seen()
    console.bus.subscribe("test-acd", ["acd.*"], seen.add)
    ami = AmiClient.from_settings(test_settings, console.bus)
    # The console user "agent" is ACD agent "agent"; their phone is a simulated one.
    agent = Agent("agent", skills={"general": 2}, languages={"zh": 5})
    service = AcdService.build(
        bus=console.bus,
        ami=ami,
        queues=QUEUES,
        agents=[agent],
        phones={"agent": "Local/1005@agent-sim"},
    )
    await service.start()
    await ami.start(wait_s=30)
    try:
        token = await signed_in_token(console, "agent")
        async with open_pops(console, token) as ws:
            await asyncio.sleep(0.1)
            service.login("agent")
            parked = await park_caller(caller_ami)
            wang = console.patients["wang"]
            console.bus.publish(HANDOVER_TOPIC, handover_of(parked, "general", str(wang)))
            message = await receive(ws)
            assert message["type"] == "pop"
            assert message["pop"]["call_id"] == parked.uniqueid
            assert message["pop"]["caller"]["name"] == "王秀英"
            assert not message["pop"]["answered"]  # popped while the phone rings
            answered = await receive(ws)
            assert answered == {"type": "answered", "call_id": parked.uniqueid}
            bridged = await seen.wait_for(lambda p: isinstance(p, CallBridged), "bridge")
            assert bridged.agent_id == "agent" and bridged.caller_channel == parked.channel
            assert service.agent("agent").state is AgentState.ON_CALL
            await caller_ami.ami.send({"Action": "Hangup", "Channel": parked.channel})
            ended = await receive(ws)
            assert ended == {"type": "ended", "call_id": parked.uniqueid}
    finally:
        await service.close()
        await ami.close()
