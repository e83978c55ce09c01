"""The ACD's values refuse what cannot be right, with messages that say what to do."""

from __future__ import annotations

from datetime import datetime

import pytest

from acd.errors import InvalidModel
from acd.model import Agent, AgentState, OverflowKind, OverflowRule, PriorityClass, WaitingCall
from tests.acd.builders import T0, agent, call, queue


def test_priority_class_of_a_patient_takes_the_strongest_flag():
    assert PriorityClass.of() is PriorityClass.NORMAL
    assert PriorityClass.of(chronic=True) is PriorityClass.CHRONIC
    assert PriorityClass.of(vip=True, chronic=True) is PriorityClass.VIP
    assert PriorityClass.of(urgent=True, vip=True) is PriorityClass.URGENT


@pytest.mark.parametrize("level", [0, 6, -1, 2.5])
def test_levels_outside_one_to_five_are_refused(level):
    with pytest.raises(InvalidModel, match=r"levels go from 1 \(can take the call\) to 5"):
        agent("ann", skills={"appointments": level})
    with pytest.raises(InvalidModel):
        agent("ann", languages={"zh": level})


def test_naive_datetimes_are_refused():
    with pytest.raises(InvalidModel, match="timezone-aware"):
        Agent("ann", {}, {}, AgentState.AVAILABLE, state_since=datetime(2025, 1, 1))
    with pytest.raises(InvalidModel, match="timezone-aware"):
        WaitingCall("c1", "q", datetime(2025, 1, 1), "s", "zh", channel="PJSIP/x")


def test_a_logged_in_agent_needs_the_time_of_their_state():
    with pytest.raises(InvalidModel, match="no state_since"):
        Agent("ann", {}, {}, AgentState.AVAILABLE)


def test_a_waiting_call_holds_a_channel_or_asks_for_a_callback_with_a_number():
    with pytest.raises(InvalidModel, match="holds no channel and asked for no callback"):
        WaitingCall("c1", "q", T0, "s", "zh")
    with pytest.raises(InvalidModel, match="no number to call"):
        WaitingCall("c1", "q", T0, "s", "zh", callback_requested=True)
    with pytest.raises(InvalidModel, match="still holds channel"):
        WaitingCall(
            "c1", "q", T0, "s", "zh", channel="x", callback_requested=True, callback_number="1"
        )


def test_choosing_a_callback_keeps_everything_that_decides_the_place():
    before = call("c1", arrived=30, priority=PriorityClass.CHRONIC, sequence=7)
    after = before.with_callback("+8613800138000")
    assert after.channel is None and after.is_callback
    for kept in ("enqueued_at", "priority", "sequence", "queue", "at_head", "call_id"):
        assert getattr(after, kept) == getattr(before, kept)


def test_arrive_takes_the_queues_skill_and_language_unless_told_otherwise():
    q = queue("general", skill="general", language="zh")
    c = WaitingCall.arrive(q, call_id="c1", channel="PJSIP/t-1", now=T0, sequence=3)
    assert (c.queue, c.skill, c.language, c.sequence) == ("general", "general", "zh", 3)
    c = WaitingCall.arrive(q, call_id="c1", channel="PJSIP/t-1", now=T0, sequence=3, language="en")
    assert c.language == "en"


def test_queue_settings_out_of_range_are_refused():
    with pytest.raises(InvalidModel, match="min_skill_level"):
        queue(min_skill_level=6)
    with pytest.raises(InvalidModel, match="ring_timeout_s"):
        queue(ring_timeout_s=0)
    with pytest.raises(InvalidModel, match="use None for no limit"):
        queue(max_wait_s=0)
    with pytest.raises(InvalidModel, match="use 0 for no wrap-up"):
        queue(wrap_up_s=-1)
    with pytest.raises(InvalidModel, match="name a queue or a message"):
        OverflowRule(OverflowKind.QUEUE, "")
