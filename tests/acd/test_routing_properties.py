"""Properties of routing over generated call centres (hypothesis): one agent per call and
one call per agent, only qualified AVAILABLE agents, and the same answer as the obvious
full-scan implementation of the rules."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from acd.model import Agent, AgentState, PriorityClass, Queue, WaitingCall
from acd.routing import call_order_key, route
from tests.acd.builders import T0, at
from tests.acd.reference_routing import naive_route

SKILLS = ["appointments", "complaints", "general"]
LANGUAGES = ["zh", "en", "ko"]
HOLDING = (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)

QUEUES = {
    f"{skill}-{language}-{level}": Queue(
        f"{skill}-{language}-{level}", skill, language, min_skill_level=level
    )
    for skill in SKILLS
    for language in LANGUAGES
    for level in (1, 3)
}

levels = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=3)
langs = st.dictionaries(st.sampled_from(LANGUAGES), st.integers(1, 5), max_size=2)


@st.composite
def call_centres(draw: st.DrawFn) -> tuple[list[WaitingCall], list[Agent]]:
    n_agents = draw(st.integers(0, 12))
    agents: list[Agent] = []
    call_ids = [f"c{j}" for j in range(20)]
    for i in range(n_agents):
        state = draw(st.sampled_from(list(AgentState)))
        since = None if state is AgentState.LOGGED_OUT else at(draw(st.integers(0, 60)))
        holding = draw(st.sampled_from(call_ids)) if state in HOLDING else None
        agents.append(
            Agent(
                id=f"a{i}",
                skills=draw(levels),
                languages=draw(langs),
                state=state,
                state_since=since,
                last_call_ended_at=draw(st.none() | st.integers(-100, 0).map(at)),
                current_call_id=holding,
            )
        )
    calls: list[WaitingCall] = []
    for j in draw(st.lists(st.integers(0, 19), unique=True, max_size=15)):
        queue = QUEUES[draw(st.sampled_from(sorted(QUEUES)))]
        callback = draw(st.booleans())
        calls.append(
            WaitingCall(
                call_id=f"c{j}",
                queue=queue.name,
                enqueued_at=at(draw(st.integers(0, 400))),
                skill=queue.skill,
                language=queue.language,
                priority=draw(st.sampled_from(list(PriorityClass))),
                sequence=draw(st.integers(0, 3)),
                last_agent_id=draw(st.none() | st.sampled_from([f"a{i}" for i in range(12)])),
                channel=None if callback else f"PJSIP/trunk-{j}",
                callback_requested=callback,
                callback_number="+8613800138000" if callback else None,
                at_head=draw(st.booleans()),
            )
        )
    return calls, agents


NOW = at(500)


@settings(max_examples=400, deadline=None)
@given(call_centres())
def test_routing_invariants(centre):
    calls, agents = centre
    result = route(QUEUES, calls, agents, NOW)
    by_agent = {a.id: a for a in agents}
    by_call = {c.call_id: c for c in calls}
    held = {a.current_call_id for a in agents if a.current_call_id is not None}

    assert len({a.agent_id for a in result}) == len(result), "an agent got two calls"
    assert len({a.call_id for a in result}) == len(result), "a call was assigned twice"
    for assignment in result:
        agent, call = by_agent[assignment.agent_id], by_call[assignment.call_id]
        queue = QUEUES[call.queue]
        assert agent.state is AgentState.AVAILABLE
        assert agent.can_serve(
            call.skill, call.language, queue.min_skill_level, queue.min_language_level
        )
        assert call.call_id not in held
        assert assignment.callback == call.callback_requested


@settings(max_examples=400, deadline=None)
@given(call_centres())
def test_no_free_qualified_agent_is_left_idle_while_a_caller_they_can_serve_waits(centre):
    calls, agents = centre
    result = route(QUEUES, calls, agents, NOW)
    taken = {a.agent_id for a in result}
    served = {a.call_id for a in result}
    held = {a.current_call_id for a in agents if a.current_call_id is not None}
    for call in calls:
        if call.call_id in served or call.call_id in held:
            continue
        queue = QUEUES[call.queue]
        for agent in agents:
            if agent.state is AgentState.AVAILABLE and agent.id not in taken:
                assert not agent.can_serve(
                    call.skill, call.language, queue.min_skill_level, queue.min_language_level
                )


@settings(max_examples=400, deadline=None)
@given(call_centres())
def test_callers_are_served_in_order_among_those_an_agent_could_take(centre):
    # Whenever a caller is passed over, no agent who was given a later caller could have
    # served them — callbacks included: never ahead of callers who held before them.
    calls, agents = centre
    result = route(QUEUES, calls, agents, NOW)
    by_agent = {a.id: a for a in agents}
    order = {c.call_id: call_order_key(c) for c in calls}
    served = {a.call_id for a in result}
    held = {a.current_call_id for a in agents if a.current_call_id is not None}
    for call in calls:
        if call.call_id in served or call.call_id in held:
            continue
        queue = QUEUES[call.queue]
        for assignment in result:
            if order[assignment.call_id] > order[call.call_id]:
                assert not by_agent[assignment.agent_id].can_serve(
                    call.skill, call.language, queue.min_skill_level, queue.min_language_level
                )


@settings(max_examples=600, deadline=None)
@given(call_centres())
def test_routing_matches_the_full_scan_reference(centre):
    calls, agents = centre
    assert route(QUEUES, calls, agents, NOW) == naive_route(QUEUES, calls, agents, NOW)


def test_generated_centres_do_assign_calls():
    # Guard against a generator that never produces an assignment.
    agents = [Agent("a0", {"general": 2}, {"en": 2}, AgentState.AVAILABLE, T0)]
    calls = [WaitingCall("c0", "general-en-1", T0, "general", "en", channel="PJSIP/x")]
    assert len(route(QUEUES, calls, agents, NOW)) == 1
