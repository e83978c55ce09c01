"""Queue state, the expected wait a caller hears, overflow rules and configuration checks."""

from __future__ import annotations

import math

import pytest

from acd.errors import CallNotWaiting, ConfigurationError, InvalidModel, OverflowLoop, UnknownQueue
from acd.model import AgentState, OverflowKind, OverflowRule, PriorityClass
from acd.routing import (
    HandleTimeAverage,
    OverflowReason,
    QueueState,
    callers_ahead,
    check_queues,
    expected_wait,
    overflow,
    queue_states,
)
from tests.acd.builders import agent, at, call, queue, queues

TO_GENERAL = OverflowRule(OverflowKind.QUEUE, "general")
TO_MESSAGE = OverflowRule(OverflowKind.MESSAGE, "closed-call-back-later")


def state(*calls, staffed=4, available=0, aht=120.0, name="appointments") -> QueueState:
    return QueueState(name, tuple(calls), staffed, available, aht)


# -- expected wait ---------------------------------------------------------------------


def test_expected_wait_is_position_times_handle_time_over_staffed_agents():
    q = queue()
    waiting = [call(f"c{i}", arrived=i) for i in range(8)]
    st = state(*waiting, staffed=4, available=0, aht=120)
    # The 8th caller has 7 ahead: needs 8 agents to finish, one every 120/4 = 30 s.
    assert expected_wait(q, st, at(10), call_id="c7") == 8 * 30
    assert expected_wait(q, st, at(10), call_id="c0") == 30
    # A new caller goes after all eight.
    assert expected_wait(q, st, at(10)) == 9 * 30


def test_expected_wait_is_zero_when_a_free_agent_can_take_the_caller():
    st = state(call("c0"), staffed=4, available=2)
    assert expected_wait(queue(), st, at(1), call_id="c0") == 0
    assert expected_wait(queue(), st, at(1)) == 0


def test_expected_wait_is_infinite_when_nobody_is_staffed():
    assert expected_wait(queue(), state(call("c0"), staffed=0), at(1), call_id="c0") == math.inf


def test_expected_wait_counts_callbacks_ahead_and_the_new_callers_class():
    cb = call("cb", arrived=0).with_callback("+8613800138000")
    st = state(cb, call("n1", arrived=5), staffed=2, aht=100)
    assert callers_ahead(st, at(10)) == 2
    assert expected_wait(queue(), st, at(10)) == 3 * 50
    # A VIP arriving now has a 180 s head start: ahead of both.
    assert callers_ahead(st, at(10), priority=PriorityClass.VIP) == 0
    assert expected_wait(queue(), st, at(10), priority=PriorityClass.VIP) == 50


def test_expected_wait_for_a_call_no_longer_waiting_is_a_clear_error():
    with pytest.raises(CallNotWaiting, match="c9 is not waiting in queue 'appointments'"):
        expected_wait(queue(), state(call("c0")), at(1), call_id="c9")


def test_expected_wait_refuses_the_state_of_another_queue():
    with pytest.raises(InvalidModel, match="state of queue 'general'"):
        expected_wait(queue(), state(name="general"), at(1))


def test_queue_states_count_staffed_and_free_qualified_agents():
    qs = queues(queue("appointments"), queue("complaints", skill="complaints"))
    agents = [
        agent("free", idle_since=0),
        agent("busy", state=AgentState.ON_CALL, current_call_id="x"),
        agent("wrap", state=AgentState.WRAP_UP, current_call_id="y"),
        agent("paused", state=AgentState.PAUSED, pause_reason="lunch"),
        agent("deaf", state=AgentState.NOT_RESPONDING),
        agent("english", languages={"en": 5}),
        agent("complaints", skills={"complaints": 4}),
    ]
    waiting = [call("c0"), call("c1", queue_name="complaints", skill="complaints")]
    states = queue_states(qs, waiting, agents, {"appointments": 200.0})
    appts = states["appointments"]
    assert (appts.staffed_agents, appts.available_agents) == (3, 1)
    assert [c.call_id for c in appts.waiting] == ["c0"]
    assert appts.average_handle_time_s == 200
    assert states["complaints"].staffed_agents == 1
    assert states["complaints"].average_handle_time_s == 180  # the default


def test_handle_time_average_follows_recent_calls():
    avg = HandleTimeAverage(mean_s=180)
    avg = avg.add(100)
    assert (avg.mean_s, avg.samples) == (100, 1)  # the first real call replaces the prior
    avg = avg.add(200)
    assert avg.mean_s == pytest.approx(110)
    assert avg.add(-5) == avg  # a nonsense duration is ignored


# -- overflow --------------------------------------------------------------------------


def test_overflow_when_queue_exceeds_max_wait():
    q = queue(max_wait_s=120, overflow=TO_GENERAL)
    st = state(call("old", arrived=0), call("new", arrived=100))
    decision = overflow(q, st, at(125))
    assert [(m.call_id, m.reason) for m in decision.moves] == [("old", OverflowReason.MAX_WAIT)]
    assert decision.moves[0].rule == TO_GENERAL
    assert decision.accepts_new_callers and decision.overflows


def test_a_moved_caller_keeps_their_place_and_gets_the_new_queues_full_max_wait():
    general = queue("general", skill="general", max_wait_s=300, overflow=TO_MESSAGE)
    moved = call("old", arrived=0, priority=PriorityClass.CHRONIC).moved_to(general, at(125))
    assert (moved.queue, moved.skill, moved.enqueued_at) == ("general", "general", at(0))
    assert moved.priority is PriorityClass.CHRONIC
    assert overflow(general, state(moved, name="general"), at(400)).moves == ()
    assert len(overflow(general, state(moved, name="general"), at(425)).moves) == 1


def test_full_queue_refuses_new_callers_but_keeps_those_waiting():
    q = queue(max_waiting=2, overflow=TO_MESSAGE)
    decision = overflow(q, state(call("a"), call("b")), at(5))
    assert decision.moves == ()
    assert (decision.accepts_new_callers, decision.refusal) == (False, OverflowReason.QUEUE_FULL)
    assert overflow(q, state(call("a")), at(5)).accepts_new_callers


def test_callers_moved_for_max_wait_free_their_line_for_new_callers():
    q = queue(max_wait_s=60, max_waiting=2, overflow=TO_MESSAGE)
    decision = overflow(q, state(call("a", arrived=0), call("b", arrived=50)), at(70))
    assert [m.call_id for m in decision.moves] == ["a"]
    assert decision.accepts_new_callers


def test_callbacks_neither_overflow_nor_count_against_the_limit():
    q = queue(max_wait_s=60, max_waiting=1, overflow=TO_MESSAGE)
    cb = call("cb", arrived=0).with_callback("+8613800138000")
    decision = overflow(q, state(cb), at(3600))
    assert decision.moves == () and decision.accepts_new_callers


def test_queue_with_nobody_staffed_overflows_everyone_holding_when_the_rule_says_so():
    q = queue(overflow=TO_MESSAGE)
    cb = call("cb", arrived=0).with_callback("+8613800138000")
    decision = overflow(q, state(call("b", arrived=5), call("a", arrived=1), cb, staffed=0), at(6))
    assert [(m.call_id, m.reason) for m in decision.moves] == [
        ("a", OverflowReason.NO_AGENTS),
        ("b", OverflowReason.NO_AGENTS),
    ]
    assert (decision.accepts_new_callers, decision.refusal) == (False, OverflowReason.NO_AGENTS)
    patient_rule = OverflowRule(OverflowKind.MESSAGE, "please-hold", when_no_agents=False)
    assert not overflow(queue(overflow=patient_rule), state(call("a"), staffed=0), at(6)).overflows


def test_queue_without_rule_never_overflows():
    assert not overflow(queue(), state(call("a", arrived=0), staffed=0), at(10_000)).overflows


# -- configuration ---------------------------------------------------------------------


def test_a_sound_configuration_is_returned_by_name():
    qs = check_queues(
        [
            queue("vip", skill="vip", max_wait_s=30, overflow=TO_GENERAL),
            queue("general", skill="general", max_wait_s=600, overflow=TO_MESSAGE),
        ]
    )
    assert sorted(qs) == ["general", "vip"]


def test_overflow_to_an_unknown_queue_is_refused():
    with pytest.raises(UnknownQueue, match="overflow rule of queue 'vip'"):
        check_queues([queue("vip", max_wait_s=30, overflow=TO_GENERAL)])


def test_overflow_rules_going_round_in_a_circle_are_refused():
    rules = [
        queue("a", overflow=OverflowRule(OverflowKind.QUEUE, "b")),
        queue("b", overflow=OverflowRule(OverflowKind.QUEUE, "c")),
        queue("c", overflow=OverflowRule(OverflowKind.QUEUE, "a")),
    ]
    with pytest.raises(OverflowLoop, match="a → b → c → a"):
        check_queues(rules)
    with pytest.raises(OverflowLoop):
        check_queues([queue("self", overflow=OverflowRule(OverflowKind.QUEUE, "self"))])


def test_limits_without_a_rule_and_duplicate_names_are_refused():
    with pytest.raises(ConfigurationError, match="limits but no overflow rule"):
        check_queues([queue(max_waiting=10)])
    with pytest.raises(ConfigurationError, match="configured twice"):
        check_queues([queue("a"), queue("a")])
