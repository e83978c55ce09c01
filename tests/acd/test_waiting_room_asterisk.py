"""Waiting callers through the real Asterisk and the project's dialplan: callbacks that
keep the caller's place, overflow by configuration, announcements of place and expected
wait, and the ACD's state rebuilt after the AMI link drops.

Callers are parked in ``[hotline-wait]`` as in test_service_asterisk.py; patients called
back are ``Local/<digits>@patient-sim`` (answers) or ``@patient-sim-noanswer``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from acd.announcements import AnnouncementPolicy
from acd.callbacks import CallbackOutcome, CallbackPolicy
from acd.model import AgentState, OverflowKind, OverflowRule, Queue
from acd.routing import OverflowReason
from acd.service import (
    CallAbandoned,
    CallbackPlaced,
    CallbackRefused,
    CallbackRequested,
    CallbackResult,
    CallBridged,
    CallEnded,
    CallOffered,
    CallOverflowed,
    CallQueued,
    WaitAnnounced,
    WaitPrompts,
)
from acd.wait_deadline import WaitDeadlinePolicy
from acd.wait_prompts import prompt_player
from cti.asterisk import AsteriskRunner
from cti.handover import HANDOVER_TOPIC
from ivr.cli import prompt_cache_dir
from ivr.prompts import PromptCache, PromptRenderer
from tests.acd.live import (
    Parked,
    Rig,
    answer_callback_question,
    handover_of,
    hung_up,
    park_caller,
    state_is,
)

pytestmark = pytest.mark.asterisk

NUMBER = "13800138000"
E164 = "+8613800138000"


@pytest.fixture(scope="module")
async def prompts(asterisk: AsteriskRunner) -> AsyncIterator[WaitPrompts]:
    renderer = PromptRenderer()
    yield prompt_player(PromptCache(renderer, prompt_cache_dir(asterisk.layout)), asterisk.layout)
    renderer.close()


def is_(kind: type, call_id: str | None = None) -> Callable[[Any], bool]:
    return lambda p: isinstance(p, kind) and (call_id is None or p.call_id == call_id)


async def queue_caller(rig: Rig, queue: str = "general", **options: Any) -> Parked:
    parked = await park_caller(rig.caller, hold_s=90, **options)
    rig.bus.publish(HANDOVER_TOPIC, handover_of(parked, queue))
    await rig.seen.wait_for(is_(CallQueued, parked.uniqueid), f"{parked.uniqueid} queued", 30)
    return parked


async def hang_up(rig: Rig, channel: str) -> None:
    await rig.caller.ami.send({"Action": "Hangup", "Channel": channel})


async def test_callback_caller_keeps_their_place_and_is_called_back_when_their_turn_comes(
    make_rig, prompts
):
    rig = await callback_rig(make_rig, prompts, "1101")
    first = await queue_caller(rig)
    called_back = await queue_caller(rig, number=NUMBER, keys="1")
    await answer_callback_question(rig.caller, called_back, "1")
    requested = await rig.seen.wait_for(is_(CallbackRequested), "callback request", 60)
    assert (requested.call_id, requested.number) == (called_back.uniqueid, E164)

    # The caller hears the number read back and Asterisk hangs up: the call lives on.
    await hung_up(rig.caller, called_back.uniqueid, "the callback caller's hang-up")
    waiting = rig.service.waiting[called_back.uniqueid]
    assert waiting.callback_requested and waiting.channel is None
    last = await queue_caller(rig)
    assert not rig.seen.of(CallAbandoned)

    # Served in arrival order: the caller who held first, then the callback, then the last.
    rig.service.resume("1101")
    offer = await rig.seen.wait_for(is_(CallOffered), "first offer")
    assert offer.call_id == first.uniqueid and not offer.callback
    await rig.seen.wait_for(is_(CallBridged, first.uniqueid), "first bridged")
    await hang_up(rig, first.channel)

    offer = await rig.seen.wait_for(is_(CallOffered, called_back.uniqueid), "callback offer")
    assert offer.callback and offer.agent_id == "1101"
    assert offer.handover.uniqueid == called_back.uniqueid  # the pop as for any call
    await rig.seen.wait_for(is_(CallbackPlaced, called_back.uniqueid), "patient dialled")
    bridged = await rig.seen.wait_for(is_(CallBridged, called_back.uniqueid), "patient bridged")
    assert bridged.caller_channel.startswith(f"Local/{E164[1:]}@patient-sim")
    assert not [o for o in rig.seen.of(CallOffered) if o.call_id == last.uniqueid]

    await hang_up(rig, bridged.caller_channel)  # the patient ends the conversation
    result = await rig.seen.wait_for(is_(CallbackResult), "callback result")
    assert (result.outcome, result.attempts) == (CallbackOutcome.CONNECTED, 1)
    await rig.seen.wait_for(is_(CallEnded, called_back.uniqueid), "callback ended")
    offer = await rig.seen.wait_for(is_(CallOffered, last.uniqueid), "last offer")
    await rig.seen.wait_for(is_(CallBridged, last.uniqueid), "last bridged")
    await hang_up(rig, last.channel)
    offered = [o.call_id for o in rig.seen.of(CallOffered)]
    assert offered == [first.uniqueid, called_back.uniqueid, last.uniqueid]  # never twice


async def test_withheld_number_cannot_take_a_callback_and_keeps_holding(make_rig, prompts):
    rig = await callback_rig(make_rig, prompts, "1102")
    caller = await queue_caller(rig, number="", keys="1")
    answer = await rig.seen.wait_for(
        lambda p: isinstance(p, CallbackRequested | CallbackRefused), "callback answer", 30
    )
    assert isinstance(answer, CallbackRefused) and answer.call_id == caller.uniqueid
    assert rig.service.waiting[caller.uniqueid].channel == caller.channel  # still holding
    rig.service.resume("1102")
    await rig.seen.wait_for(is_(CallBridged, caller.uniqueid), "bridged after the refusal")
    await hang_up(rig, caller.channel)


def callback_kept(call_id: str) -> Callable[[Any], bool]:
    return lambda e: (
        e.name == "UserEvent"
        and e.get("UserEvent") == "HotlineWait"
        and e.get("Phase") == "callback-kept"
        and e.get("Uniqueid") == call_id
    )


async def callback_rig(make_rig: Any, prompts: WaitPrompts, agent: str) -> Rig:
    """One agent, paused, and callbacks offered to patients who answer."""
    rig: Rig = await make_rig(
        {agent: f"Local/{agent}@agent-sim"},
        prompts=prompts,
        callbacks=CallbackPolicy("Local/{digits}@patient-sim"),
    )
    rig.service.login(agent, paused_reason="meeting")
    return rig


async def test_caller_who_presses_2_or_nothing_after_the_number_is_read_back_keeps_holding(
    make_rig, prompts
):
    rig = await callback_rig(make_rig, prompts, "1110")
    declined = await queue_caller(rig, number=NUMBER, keys="1")
    await answer_callback_question(rig.caller, declined, "2")
    silent = await queue_caller(rig, number="13900139000", keys="1")
    for parked in (declined, silent):
        await rig.caller.log.wait_for(
            callback_kept(parked.uniqueid), what="back to holding", timeout_s=60
        )
        assert rig.service.waiting[parked.uniqueid].channel == parked.channel
    assert not rig.seen.of(CallbackRequested)
    rig.service.resume("1110")
    offer = await rig.seen.wait_for(is_(CallOffered), "the first caller's offer", 30)
    assert offer.call_id == declined.uniqueid and not offer.callback  # their place kept
    await rig.seen.wait_for(is_(CallBridged, declined.uniqueid), "bridged", 30)
    for parked in (declined, silent):
        await hang_up(rig, parked.channel)


async def test_callback_patient_who_does_not_answer_is_retried_then_recorded_failed(
    make_rig, prompts
):
    rig: Rig = await make_rig(
        {"1103": "Local/1103@agent-sim"},
        prompts=prompts,
        callbacks=CallbackPolicy(
            "Local/{digits}@patient-sim-noanswer", max_attempts=2, retry_after_s=0.5, ring_s=2
        ),
    )
    rig.service.login("1103", paused_reason="meeting")
    caller = await queue_caller(rig, number=NUMBER, keys="1")
    await answer_callback_question(rig.caller, caller, "1")
    await rig.seen.wait_for(is_(CallbackRequested), "callback request", 60)
    rig.service.resume("1103")
    first = await rig.seen.wait_for(is_(CallbackResult), "first attempt", 40)
    assert (first.outcome, first.attempts) == (CallbackOutcome.NOT_REACHED, 1)
    last = await rig.seen.wait_for(
        lambda p: isinstance(p, CallbackResult) and p.attempts == 2, "second attempt", 40
    )
    assert last.outcome is CallbackOutcome.FAILED
    assert [o.call_id for o in rig.seen.of(CallOffered)] == [caller.uniqueid] * 2
    assert caller.uniqueid not in rig.service.waiting
    assert caller.uniqueid not in rig.service.retrying
    await rig.seen.wait_for(state_is("1103", AgentState.AVAILABLE), "agent free again")


OVERFLOW_QUEUES = (
    Queue(
        "general",
        skill="general",
        language="zh",
        ring_timeout_s=3,
        wrap_up_s=1,
        max_waiting=1,
        max_wait_s=4,
        overflow=OverflowRule(OverflowKind.QUEUE, "spill"),
    ),
    Queue(
        "spill",
        skill="general",
        language="zh",
        ring_timeout_s=3,
        wrap_up_s=1,
        overflow=OverflowRule(OverflowKind.MESSAGE, "busy"),
    ),
    Queue(
        "night",
        skill="night-desk",
        language="zh",
        overflow=OverflowRule(OverflowKind.MESSAGE, "closed"),
    ),
)


async def test_queue_past_its_limits_overflows_to_another_queue_by_configuration(make_rig, prompts):
    rig: Rig = await make_rig(
        {"1104": "Local/1104@agent-sim"}, queues=OVERFLOW_QUEUES, prompts=prompts
    )
    # The agent is on a call: staffed (so "spill" takes callers) but not free.
    rig.service.login("1104")
    busy = await queue_caller(rig)
    await rig.seen.wait_for(is_(CallBridged, busy.uniqueid), "the agent is busy")

    holding = await queue_caller(rig)
    full = await queue_caller(rig)
    moved = await rig.seen.wait_for(is_(CallOverflowed, full.uniqueid), "queue full")
    assert (moved.reason, moved.kind, moved.target) == (
        OverflowReason.QUEUE_FULL,
        OverflowKind.QUEUE,
        "spill",
    )
    assert rig.service.waiting[full.uniqueid].queue == "spill"
    waited = await rig.seen.wait_for(is_(CallOverflowed, holding.uniqueid), "max wait", 30)
    assert waited.reason is OverflowReason.MAX_WAIT and waited.target == "spill"
    for parked in (busy, holding, full):
        await hang_up(rig, parked.channel)


async def test_queue_with_nobody_staffed_plays_its_message_and_ends_the_call(make_rig, prompts):
    rig: Rig = await make_rig(
        {"1105": "Local/1105@agent-sim"}, queues=OVERFLOW_QUEUES, prompts=prompts
    )
    parked = await park_caller(rig.caller, hold_s=90)
    rig.bus.publish(HANDOVER_TOPIC, handover_of(parked, "night"))
    moved = await rig.seen.wait_for(is_(CallOverflowed, parked.uniqueid), "no agents")
    assert (moved.reason, moved.kind, moved.target) == (
        OverflowReason.NO_AGENTS,
        OverflowKind.MESSAGE,
        "closed",
    )
    assert parked.uniqueid not in rig.service.waiting
    # The message is played, then Asterisk says goodbye: the caller's channel ends.
    await hung_up(rig.caller, parked.uniqueid, "hang-up after the message")
    assert not rig.seen.of(CallAbandoned)


async def test_waiting_callers_hear_place_and_expected_wait_and_are_still_bridged(
    make_rig, prompts
):
    rig: Rig = await make_rig(
        {"1106": "Local/1106@agent-sim"},
        prompts=prompts,
        announcements=AnnouncementPolicy(first_after_s=1, every_s=4, min_wait_s=30),
    )
    rig.service.login("1106")
    talking = await queue_caller(rig)
    await rig.seen.wait_for(is_(CallBridged, talking.uniqueid), "agent busy")
    second = await queue_caller(rig)
    third = await queue_caller(rig)
    # One agent, 180 s average handle time (the prior): the next caller waits ~3 min, the
    # one behind ~6 min. Nobody is told "you are caller number 1".
    told_second = await rig.seen.wait_for(is_(WaitAnnounced, second.uniqueid), "announce 2")
    assert (told_second.ahead, told_second.expected_wait_s) == (None, 180.0)
    told_third = await rig.seen.wait_for(is_(WaitAnnounced, third.uniqueid), "announce 3")
    assert (told_third.ahead, told_third.expected_wait_s) == (1, 360.0)
    await rig.seen.wait_for(
        lambda p: (
            isinstance(p, WaitAnnounced) and p.call_id == third.uniqueid and p is not told_third
        ),
        "a repeat announcement",
    )
    # The announcements did not cost a place nor break the agent's Bridge().
    await hang_up(rig, talking.channel)
    offer = await rig.seen.wait_for(is_(CallOffered, second.uniqueid), "second offered")
    assert offer.agent_id == "1106"
    await rig.seen.wait_for(is_(CallBridged, second.uniqueid), "second bridged", 30)
    for parked in (second, third):
        await hang_up(rig, parked.channel)


async def test_wait_limit_still_sends_the_caller_to_the_fallback_despite_announcements(
    make_rig, prompts
):
    rig: Rig = await make_rig(
        {"1108": "Local/1108@agent-sim"},
        prompts=prompts,
        callbacks=CallbackPolicy("Local/{digits}@patient-sim"),
        announcements=AnnouncementPolicy(first_after_s=0, every_s=1),
        # No heartbeat within the test: the arrival's wait limit is the one that holds.
        wait_deadline=WaitDeadlinePolicy(every_s=600, grace_s=660),
    )
    # Nobody is logged in: the caller only hears the callback offer, again and again.
    caller = await queue_caller(rig, number=NUMBER, wait_max_s=8)
    await rig.seen.wait_for(is_(WaitAnnounced, caller.uniqueid), "an announcement")
    fallback = await rig.caller.log.wait_for(
        lambda e: (
            e.name == "UserEvent"
            and e.get("UserEvent") == "HotlineFallback"
            and e.get("Uniqueid") == caller.uniqueid
        ),
        what="the caller's fallback",
        timeout_s=60,
    )
    assert fallback.get("Reason") == "wait-timeout"
    announced = len([p for p in rig.seen.of(WaitAnnounced) if p.call_id == caller.uniqueid])
    assert announced >= 2  # re-entering the music did not restart the wait limit
    for _ in range(50):
        if caller.uniqueid not in rig.service.waiting:
            break
        await asyncio.sleep(0.1)
    assert caller.uniqueid not in rig.service.waiting  # the ACD let go of them
    await hang_up(rig, caller.channel)


def fell_back(rig: Rig, call_id: str) -> Callable[[Any], bool]:
    return lambda e: (
        e.name == "UserEvent"
        and e.get("UserEvent") == "HotlineFallback"
        and e.get("Uniqueid") == call_id
    )


async def test_caller_keeps_waiting_past_the_wait_limit_while_hotline_runs_and_falls_back_after_it_stops(  # noqa: E501
    make_rig,
):
    grace_s = 6
    rig: Rig = await make_rig(
        {"1109": "Local/1109@agent-sim"},
        wait_deadline=WaitDeadlinePolicy(every_s=2, grace_s=grace_s),
    )
    rig.service.login("1109", paused_reason="meeting")  # nobody takes the call
    caller = await queue_caller(rig, wait_max_s=8)
    await asyncio.sleep(20)  # well past the arrival's wait limit
    assert not [e for e in rig.caller.log.events if fell_back(rig, caller.uniqueid)(e)]
    assert caller.uniqueid in rig.service.waiting  # still holding, place kept

    await rig.service.close()  # Hotline stops: no more heartbeats
    stopped_at = time.time()
    deadline = await rig.caller.ami.send(
        {"Action": "Getvar", "Channel": caller.channel, "Variable": "HOTLINE_WAIT_UNTIL"}
    )
    # The deadline the dialplan holds is at most the grace after the last heartbeat.
    assert int(deadline.get("Value")) <= stopped_at + grace_s + 1
    fallback = await rig.caller.log.wait_for(
        fell_back(rig, caller.uniqueid), what="the caller's fallback", timeout_s=60
    )
    assert fallback.get("Reason") == "wait-timeout"
    await hang_up(rig, caller.channel)


async def test_acd_rebuilds_its_state_after_the_ami_link_comes_back(
    make_rig, ami_proxy, test_settings
):
    from tests.fixtures.hotline import AMI_PROXY_PORT

    proxied = test_settings.model_copy(update={"ami_port": AMI_PROXY_PORT})
    rig: Rig = await make_rig({"1107": "Local/1107@agent-sim"}, settings=proxied)
    rig.service.login("1107", paused_reason="meeting")
    gone = await queue_caller(rig)
    stays = await queue_caller(rig)
    ami_proxy.cut()
    try:
        await hang_up(rig, gone.channel)  # unseen by the ACD: its link is down
        unseen = await park_caller(rig.caller, hold_s=90)  # its arrival event is lost
        rig.bus.publish(HANDOVER_TOPIC, handover_of(unseen, "general"))
        await asyncio.sleep(1)
        assert gone.uniqueid in rig.service.waiting
    finally:
        ami_proxy.restore()
    abandoned = await rig.seen.wait_for(is_(CallAbandoned, gone.uniqueid), "resync", 60)
    assert abandoned.queue == "general"
    await rig.seen.wait_for(is_(CallQueued, unseen.uniqueid), "lost arrival queued", 60)
    assert set(rig.service.waiting) == {stays.uniqueid, unseen.uniqueid}
    rig.service.resume("1107")
    await rig.seen.wait_for(is_(CallBridged, stays.uniqueid), "first in line bridged", 30)
    for parked in (stays, unseen):
        await hang_up(rig, parked.channel)


async def test_an_answer_lost_with_the_ami_link_is_found_on_reconnect(
    make_rig, ami_proxy, test_settings
):
    from tests.fixtures.hotline import AMI_PROXY_PORT

    proxied = test_settings.model_copy(update={"ami_port": AMI_PROXY_PORT})
    rig: Rig = await make_rig({"1109": "Local/1109@agent-sim"}, settings=proxied)
    rig.service.ring_backstop_s = 1.0  # Hotline's own ring timer: 3 s + 1 s
    rig.service.login("1109", paused_reason="meeting")
    caller = await queue_caller(rig)
    rig.service.resume("1109")
    await rig.seen.wait_for(is_(CallOffered, caller.uniqueid), "offer")
    await rig.caller.log.wait_for(
        lambda e: e.name == "Newchannel" and e.get("Channel").startswith("Local/1109@agent-sim"),
        what="the agent's phone ringing",
    )
    ami_proxy.cut()  # the agent answers (after 1 s) while the ACD hears nothing
    try:
        await rig.caller.log.wait_for(
            lambda e: e.name == "BridgeEnter" and e.get("Uniqueid") == caller.uniqueid,
            what="the caller bridged by the agent's leg",
        )
        # Past the ring timeout and its backstop: the agent is not cut off.
        await asyncio.sleep(rig.service.queues["general"].ring_timeout_s + 2)
        assert rig.service.agent("1109").state is AgentState.RINGING
    finally:
        ami_proxy.restore()
    await rig.seen.wait_for(is_(CallBridged, caller.uniqueid), "bridge found on reconnect", 60)
    assert rig.service.agent("1109").state is AgentState.ON_CALL
    await hang_up(rig, caller.channel)
    await rig.seen.wait_for(state_is("1109", AgentState.WRAP_UP), "wrap-up after the call")
