"""The agent state machine: transitions return the new agent and the effects to carry out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError

import pytest

from acd import agent_states as sm
from acd.agent_states import (
    CancelTimer,
    ConnectCall,
    RequeueCallAtHead,
    RingAgent,
    StartTimer,
    StateChanged,
    StopRinging,
    TimerKind,
    Transition,
)
from acd.errors import InvalidAgentTransition, InvalidModel, StaleEvent
from acd.model import Agent, AgentState, PriorityClass
from acd.routing import route
from tests.acd.builders import agent, at, call, queue, queues

S = AgentState
NOW = at(100)


def in_state(state: AgentState, **kw: object) -> Agent:
    fields: dict[str, object] = {}
    if state in (S.RINGING, S.ON_CALL, S.WRAP_UP):
        fields["current_call_id"] = "c1"
    if state is S.PAUSED:
        fields["pause_reason"] = "break"
    fields.update(kw)
    return agent("ann", state=state, idle_since=50, **fields)


def logged_out() -> Agent:
    return Agent(id="ann", skills={"appointments": 3}, languages={"zh": 5})


def states(transition: Transition) -> list[tuple[AgentState, AgentState]]:
    return [(e.old, e.new) for e in transition.effects if isinstance(e, StateChanged)]


ACTIONS: dict[str, Callable[[Agent], Transition]] = {
    "login": lambda a: sm.login(a, NOW),
    "logout": lambda a: sm.logout(a, NOW),
    "pause": lambda a: sm.pause(a, "training", NOW),
    "resume": lambda a: sm.resume(a, NOW),
    "offer": lambda a: sm.offer(a, "c2", NOW, ring_timeout_s=20),
    "answer": lambda a: sm.answer(a, "c1", NOW),
    "ring_timeout": lambda a: sm.ring_timeout(a, "c1", NOW),
    "withdraw_offer": lambda a: sm.withdraw_offer(a, "c1", NOW),
    "hang_up": lambda a: sm.hang_up(a, "c1", NOW, wrap_up_s=30),
    "end_wrap_up": lambda a: sm.end_wrap_up(a, NOW),
    "wrap_up_timer": lambda a: sm.end_wrap_up(a, NOW, call_id="c1"),
}

# The whole table: the state each action leads to from each state; "!" = the action is
# refused (InvalidAgentTransition), "stale" = a late or duplicated event (StaleEvent).
TABLE_TEXT = """
action         logged_out available  ringing        on_call wrap_up    paused     not_responding
login          available  !          !              !       !          !          !
logout         !          logged_out logged_out     !       logged_out logged_out logged_out
pause          !          paused     ringing        on_call paused     paused     paused
resume         !          !          !              !       !          available  available
offer          !          ringing    !              !       !          !          !
answer         !          !          on_call        stale   !          !          !
ring_timeout   stale      stale      not_responding stale   stale      stale      stale
withdraw_offer stale      stale      available      stale   stale      stale      stale
hang_up        !          stale      stale          wrap_up stale      stale      stale
end_wrap_up    !          !          !              !       available  !          !
wrap_up_timer  stale      stale      stale          stale   available  stale      stale
"""


def _parse_table() -> dict[str, dict[AgentState, AgentState | type[Exception]]]:
    header, *rows = TABLE_TEXT.strip().splitlines()
    columns = [AgentState(name) for name in header.split()[1:]]
    outcome = {"!": InvalidAgentTransition, "stale": StaleEvent}
    table: dict[str, dict[AgentState, AgentState | type[Exception]]] = {}
    for row in rows:
        action, *cells = row.split()
        table[action] = {
            state: outcome.get(cell) or AgentState(cell)
            for state, cell in zip(columns, cells, strict=True)
        }
    return table


TABLE = _parse_table()
CASES = [(action, state, TABLE[action][state]) for action in ACTIONS for state in AgentState]


def test_the_table_covers_every_action_in_every_state():
    assert set(TABLE) == set(ACTIONS)
    assert all(set(row) == set(AgentState) for row in TABLE.values())


@pytest.mark.parametrize(
    ("action", "state", "expected"), CASES, ids=lambda v: getattr(v, "value", v)
)
def test_every_action_in_every_state(action, state, expected):
    before = logged_out() if state is S.LOGGED_OUT else in_state(state)
    if isinstance(expected, type):
        with pytest.raises(expected) as caught:
            ACTIONS[action](before)
        message = str(caught.value)
        assert "ann" in message
        if expected is InvalidAgentTransition:
            assert state.value in message
            assert caught.value.hint and caught.value.hint in message
        else:
            assert "can be ignored" in message
    else:
        after = ACTIONS[action](before).agent
        assert after.state is expected
        assert before.state is state  # the old value is untouched


def test_agents_are_immutable_values():
    with pytest.raises(FrozenInstanceError):
        in_state(S.AVAILABLE).state = S.PAUSED  # type: ignore[misc]


def test_login_makes_the_agent_available_from_now():
    t = sm.login(logged_out(), NOW)
    assert (t.agent.state, t.agent.state_since) == (S.AVAILABLE, NOW)
    assert t.effects == (StateChanged("ann", S.LOGGED_OUT, S.AVAILABLE, NOW),)


def test_login_paused_starts_with_the_reason():
    t = sm.login(logged_out(), NOW, paused_reason="briefing")
    assert (t.agent.state, t.agent.pause_reason) == (S.PAUSED, "briefing")


def test_a_whole_call_cycle_and_its_effects():
    a = sm.login(logged_out(), at(0)).agent
    offered = sm.offer(a, "c1", at(10), ring_timeout_s=15)
    assert offered.agent.current_call_id == "c1"
    assert offered.effects == (
        StateChanged("ann", S.AVAILABLE, S.RINGING, at(10)),
        RingAgent("ann", "c1", callback=False),
        StartTimer("ann", TimerKind.RING, "c1", 15),
    )
    answered = sm.answer(offered.agent, "c1", at(14))
    assert answered.effects == (
        StateChanged("ann", S.RINGING, S.ON_CALL, at(14)),
        CancelTimer("ann", TimerKind.RING, "c1"),
        ConnectCall("ann", "c1", callback=False),
    )
    ended = sm.hang_up(answered.agent, "c1", at(200), wrap_up_s=30)
    assert ended.agent.state is S.WRAP_UP
    assert ended.agent.last_call_ended_at == at(200)
    assert ended.agent.current_call_id == "c1"  # notes are written about it during wrap-up
    assert ended.effects == (
        StateChanged("ann", S.ON_CALL, S.WRAP_UP, at(200)),
        StartTimer("ann", TimerKind.WRAP_UP, "c1", 30),
    )
    done = sm.end_wrap_up(ended.agent, at(230), call_id="c1")
    assert (done.agent.state, done.agent.state_since, done.agent.current_call_id) == (
        S.AVAILABLE,
        at(230),
        None,
    )
    assert done.effects == (
        StateChanged("ann", S.WRAP_UP, S.AVAILABLE, at(230)),
        CancelTimer("ann", TimerKind.WRAP_UP, "c1"),
    )


def test_unanswered_ring_requeues_call_at_head_and_marks_agent_not_responding():
    qs = queues(queue())
    waiting = [call("c0", arrived=0), call("c1", arrived=10), call("c2", arrived=20)]
    ann = agent("ann", idle_since=0)
    [first] = route(qs, waiting, [ann], at(30))
    assert first.call_id == "c0"
    ringing = sm.offer(ann, "c0", at(30), ring_timeout_s=20).agent

    timed_out = sm.ring_timeout(ringing, "c0", at(50))
    assert timed_out.agent.state is S.NOT_RESPONDING
    assert timed_out.agent.not_responding_count == 1
    assert timed_out.agent.current_call_id is None
    assert StopRinging("ann", "c0") in timed_out.effects
    assert RequeueCallAtHead("c0", "ann") in timed_out.effects

    # The adapter puts the call back at the head; a VIP who arrived meanwhile comes after it.
    requeued = call("c0", arrived=0).back_at_head()
    assert requeued.offers == 1
    waiting = [waiting[1], waiting[2], call("vip", arrived=45, priority=PriorityClass.VIP)]
    waiting.append(requeued)
    bob = agent("bob", idle_since=40)
    [again] = route(qs, waiting, [timed_out.agent, bob], at(51))
    assert (again.call_id, again.agent_id) == ("c0", "bob")


def test_not_responding_count_grows_with_each_unanswered_ring_and_resets_on_answer():
    a = in_state(S.AVAILABLE)
    for n in (1, 2):
        a = sm.offer(a, f"c{n}", NOW, ring_timeout_s=20).agent
        a = sm.ring_timeout(a, f"c{n}", NOW).agent
        assert a.not_responding_count == n
        a = sm.resume(a, NOW).agent
    a = sm.offer(a, "c3", NOW, ring_timeout_s=20).agent
    assert sm.answer(a, "c3", NOW).agent.not_responding_count == 0


def test_a_late_ring_timer_after_the_answer_is_stale():
    a = sm.answer(in_state(S.RINGING), "c1", NOW).agent
    with pytest.raises(StaleEvent, match="ring timeout for call c1"):
        sm.ring_timeout(a, "c1", NOW)


def test_a_wrap_up_timer_of_an_earlier_call_is_stale():
    a = in_state(S.WRAP_UP, current_call_id="c9")
    with pytest.raises(StaleEvent, match="holds call c9"):
        sm.end_wrap_up(a, NOW, call_id="c1")


def test_events_for_another_call_than_the_one_held_are_stale():
    with pytest.raises(StaleEvent):
        sm.answer(in_state(S.RINGING), "other", NOW)
    with pytest.raises(StaleEvent):
        sm.hang_up(in_state(S.ON_CALL), "other", NOW, wrap_up_s=30)


def test_caller_hanging_up_while_ringing_frees_the_agent_without_requeue():
    t = sm.withdraw_offer(in_state(S.RINGING), "c1", NOW)
    assert t.agent.state is S.AVAILABLE
    assert not any(isinstance(e, RequeueCallAtHead) for e in t.effects)
    assert CancelTimer("ann", TimerKind.RING, "c1") in t.effects


def test_pause_asked_on_a_call_starts_when_the_call_and_wrap_up_end():
    on_call = sm.pause(in_state(S.ON_CALL), "lunch", NOW)
    assert on_call.effects == ()
    assert (on_call.agent.state, on_call.agent.pending_pause_reason) == (S.ON_CALL, "lunch")
    wrap = sm.hang_up(on_call.agent, "c1", at(110), wrap_up_s=20).agent
    assert wrap.state is S.WRAP_UP
    after = sm.end_wrap_up(wrap, at(130), call_id="c1")
    assert (after.agent.state, after.agent.pause_reason) == (S.PAUSED, "lunch")
    assert after.agent.pending_pause_reason is None
    assert StateChanged("ann", S.WRAP_UP, S.PAUSED, at(130), "lunch") in after.effects


def test_pending_pause_applies_at_once_when_there_is_no_wrap_up():
    on_call = sm.pause(in_state(S.ON_CALL), "lunch", NOW).agent
    after = sm.hang_up(on_call, "c1", at(110), wrap_up_s=0).agent
    assert (after.state, after.pause_reason, after.last_call_ended_at) == (
        S.PAUSED,
        "lunch",
        at(110),
    )


def test_resume_cancels_a_pending_pause():
    a = sm.pause(in_state(S.ON_CALL), "lunch", NOW).agent
    a = sm.resume(a, NOW).agent
    assert a.pending_pause_reason is None
    a = sm.hang_up(a, "c1", NOW, wrap_up_s=0).agent
    assert a.state is S.AVAILABLE


def test_pause_during_wrap_up_ends_the_wrap_up():
    t = sm.pause(in_state(S.WRAP_UP), "meeting", NOW)
    assert (t.agent.state, t.agent.pause_reason) == (S.PAUSED, "meeting")
    assert CancelTimer("ann", TimerKind.WRAP_UP, "c1") in t.effects


def test_pause_reason_is_published_for_persistence_and_can_change():
    t = sm.pause(in_state(S.AVAILABLE), "  break ", NOW)
    assert t.effects == (StateChanged("ann", S.AVAILABLE, S.PAUSED, NOW, "break"),)
    t = sm.pause(t.agent, "training", at(200))
    assert (t.agent.pause_reason, t.agent.state_since) == ("training", at(200))
    assert sm.resume(t.agent, at(300)).agent.pause_reason is None


@pytest.mark.parametrize("reason", ["", "   ", "x" * 65, "break\r\nAction: Hangup"])
def test_unusable_pause_reasons_are_refused(reason):
    with pytest.raises(InvalidModel, match="pause reason"):
        sm.pause(in_state(S.AVAILABLE), reason, NOW)


def test_logout_while_ringing_sends_the_call_back_to_the_head():
    t = sm.logout(in_state(S.RINGING), NOW)
    assert t.agent.state is S.LOGGED_OUT and t.agent.current_call_id is None
    assert RequeueCallAtHead("c1", "ann") in t.effects
    assert StopRinging("ann", "c1") in t.effects


def test_logout_on_a_call_says_to_end_the_call_first():
    with pytest.raises(InvalidAgentTransition, match="end or transfer the call first"):
        sm.logout(in_state(S.ON_CALL), NOW)


def test_offer_to_a_paused_agent_says_to_route_to_an_available_one():
    with pytest.raises(InvalidAgentTransition, match="route to an AVAILABLE agent"):
        sm.offer(in_state(S.PAUSED), "c2", NOW, ring_timeout_s=20)


def test_a_callback_offer_dials_the_patient_once_the_agent_answers():
    offered = sm.offer(in_state(S.AVAILABLE), "cb", NOW, ring_timeout_s=20, callback=True)
    assert RingAgent("ann", "cb", callback=True) in offered.effects
    answered = sm.answer(offered.agent, "cb", NOW)
    assert ConnectCall("ann", "cb", callback=True) in answered.effects


def test_timer_lengths_must_make_sense():
    with pytest.raises(InvalidModel):
        sm.offer(in_state(S.AVAILABLE), "c2", NOW, ring_timeout_s=0)
    with pytest.raises(InvalidModel):
        sm.hang_up(in_state(S.ON_CALL), "c1", NOW, wrap_up_s=-1)
