"""The AMI action ringing an agent (pure): every value checked before it reaches AMI."""

from __future__ import annotations

import pytest

from acd.errors import ConfigurationError, UnknownAgent, UnsafeDialValue
from acd.model import Agent, OverflowKind, OverflowRule, Queue
from acd.service import AcdService, originate_agent_action, originate_callback_action
from cti.bus import EventBus

GOOD = {
    "phone": "PJSIP/agent1001",
    "agent_id": "1001",
    "call_id": "1700000000.42",
    "caller_channel": "PJSIP/trunk-0000002a",
    "channel_id": "hotline-acd-abc",
    "ring_timeout_s": 20.0,
}


def test_the_agent_is_originated_into_the_bridging_context_with_asterisk_ending_the_ring():
    action = originate_agent_action(**GOOD)  # type: ignore[arg-type]
    assert action["Channel"] == "PJSIP/agent1001"
    assert (action["Context"], action["Exten"], action["Priority"]) == (
        "hotline-acd-agent",
        "s",
        "1",
    )
    assert action["Timeout"] == "20000"
    assert action["ChannelId"] == "hotline-acd-abc"
    assert "HOTLINE_ACD_CALLER=PJSIP/trunk-0000002a" in action["Variable"]
    assert "HOTLINE_ACD_CALL=1700000000.42" in action["Variable"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("phone", "PJSIP/a\r\nAction: Command"),
        ("phone", "SIP/old"),
        ("phone", "Local/1001@agent-sim,evil"),
        ("caller_channel", "PJSIP/x,F(evil^s^1)"),
        ("caller_channel", "PJSIP/x)"),
        ("call_id", "1.2\nVariable: X=1"),
        ("agent_id", "10 01"),
        ("channel_id", ""),
    ],
)
def test_unsafe_values_are_refused(key: str, value: str):
    with pytest.raises(UnsafeDialValue):
        originate_agent_action(**{**GOOD, key: value})  # type: ignore[arg-type]


async def test_every_agent_needs_a_safe_phone():
    agent = Agent("1001", skills={"general": 1}, languages={"zh": 1})
    bus = EventBus()
    with pytest.raises(UnknownAgent):
        AcdService.build(bus=bus, ami=None, queues=(), agents=[agent], phones={})  # type: ignore[arg-type]
    with pytest.raises(UnsafeDialValue):
        AcdService.build(  # type: ignore[arg-type]
            bus=bus, ami=None, queues=(), agents=[agent], phones={"1001": "DAHDI/1"}
        )
    await bus.close()


def test_a_callback_rings_the_agent_into_the_dialling_context():
    action = originate_callback_action(
        phone="PJSIP/agent1001",
        agent_id="1001",
        call_id="1700000000.42",
        patient_dial="PJSIP/+8613800138000@carrier",
        patient_ring_s=30,
        channel_id="hotline-acd-abc",
        ring_timeout_s=20.0,
    )
    assert action["Context"] == "hotline-acd-callback"
    assert "HOTLINE_CALLBACK_DIAL=PJSIP/+8613800138000@carrier" in action["Variable"]
    assert not any(str(v).startswith("HOTLINE_ACD_CALLER") for v in action["Variable"])


async def test_overflow_messages_must_exist_and_be_playable():
    agent = Agent("1001", skills={"general": 1}, languages={"zh": 1})
    phones = {"1001": "PJSIP/agent1001"}
    bus = EventBus()

    def queue(message: str) -> Queue:
        return Queue("q", "general", "zh", overflow=OverflowRule(OverflowKind.MESSAGE, message))

    async def speak(text: str, language: str) -> str:
        return "/tmp/prompt"

    with pytest.raises(ConfigurationError, match="no prompts"):
        AcdService.build(bus=bus, ami=None, queues=[queue("busy")], agents=[agent], phones=phones)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="does not exist"):
        AcdService.build(  # type: ignore[arg-type]
            bus=bus, ami=None, queues=[queue("lunch")], agents=[agent], phones=phones, prompts=speak
        )
    await bus.close()
