"""Which waiting caller goes to which free agent: the routing rules, one behaviour each."""

from __future__ import annotations

import pytest

from acd.errors import UnknownQueue
from acd.model import AgentState, PriorityClass
from acd.routing import DEFAULT_POLICY, AssignmentReason, RoutingPolicy, route
from tests.acd.builders import agent, at, call, queue, queues

VIP, URGENT, CHRONIC, NORMAL = (
    PriorityClass.VIP,
    PriorityClass.URGENT,
    PriorityClass.CHRONIC,
    PriorityClass.NORMAL,
)
QS = queues(
    queue("appointments"),
    queue("appointments-en", skill="appointments", language="en"),
    queue("complaints", skill="complaints"),
)


def pairs(assignments):
    return [(a.call_id, a.agent_id) for a in assignments]


def test_single_caller_goes_to_the_single_free_agent():
    [a] = route(QS, [call("c1", arrived=0)], [agent("ann")], at(10))
    assert (a.call_id, a.agent_id, a.queue, a.callback) == ("c1", "ann", "appointments", False)
    assert a.reason is AssignmentReason.LONGEST_IDLE
    assert a.waited_s == 10


def test_callers_of_one_class_are_served_first_come_first_served():
    calls = [call("late", arrived=30), call("early", arrived=10), call("middle", arrived=20)]
    assert pairs(route(QS, calls, [agent("ann")], at(40))) == [("early", "ann")]


def test_vip_caller_overtakes_waiting_callers():
    calls = [call("n1", arrived=0), call("n2", arrived=10), call("vip", arrived=60, priority=VIP)]
    assert pairs(route(QS, calls, [agent("ann")], at(61))) == [("vip", "ann")]


def test_urgent_beats_vip_beats_chronic_beats_normal_arriving_together():
    calls = [
        call("normal", arrived=5, priority=NORMAL),
        call("chronic", arrived=5, priority=CHRONIC),
        call("vip", arrived=5, priority=VIP),
        call("urgent", arrived=5, priority=URGENT),
    ]
    agents = [agent(f"a{i}", idle_since=i) for i in range(4)]
    served = [a.call_id for a in route(QS, calls, agents, at(6))]
    assert served == ["urgent", "vip", "chronic", "normal"]


def test_long_waiting_normal_caller_is_not_starved_by_vips():
    bound = DEFAULT_POLICY.starvation_bound_s
    assert bound == 300
    # A normal caller who has waited longer than the VIP head start beats a new VIP...
    vip_head_start = DEFAULT_POLICY.class_weight_s[VIP]
    calls = [call("patient", arrived=0), call("new-vip", arrived=vip_head_start + 1, priority=VIP)]
    assert pairs(route(QS, calls, [agent("ann")], at(vip_head_start + 1))) == [("patient", "ann")]
    # ...and once they have waited the starvation bound, no newcomer of any class does.
    calls = [call("patient", arrived=0)] + [
        call(f"new-{p.value}", arrived=bound + 1, priority=p) for p in PriorityClass
    ]
    assert pairs(route(QS, calls, [agent("ann")], at(bound + 1))) == [("patient", "ann")]


def test_under_a_never_ending_stream_of_vips_only_those_within_the_head_start_overtake():
    # Overload: a VIP arrives every 10 s, the one agent frees up every 20 s.
    head_start = DEFAULT_POLICY.class_weight_s[VIP]
    waiting = [call("patient", arrived=0)]
    served: list[tuple[str, float]] = []
    for tick in range(1, 200):
        now = 10 * tick
        waiting.append(call(f"vip{tick}", arrived=now, priority=VIP))
        if tick % 2 == 0:
            [a] = route(QS, waiting, [agent("ann", idle_since=now)], at(now))
            waiting = [c for c in waiting if c.call_id != a.call_id]
            served.append((a.call_id, arrival_of(a.call_id)))
            if a.call_id == "patient":
                break
    assert served[-1][0] == "patient"
    overtook = [arrived for _, arrived in served[:-1]]
    # Exactly the VIPs who arrived less than the head start after the patient went first.
    assert overtook == [10.0 * i for i in range(1, int(head_start // 10))]


def arrival_of(call_id: str) -> float:
    return 0.0 if call_id == "patient" else 10.0 * int(call_id.removeprefix("vip"))


def test_agent_who_last_served_the_patient_gets_the_call_when_free():
    agents = [agent("longest-idle", idle_since=0), agent("dr-li-desk", idle_since=50)]
    [a] = route(QS, [call("c1", arrived=55, last_agent_id="dr-li-desk")], agents, at(60))
    assert (a.agent_id, a.reason) == ("dr-li-desk", AssignmentReason.CONTINUITY)


def test_patient_whose_last_agent_is_busy_goes_to_the_longest_idle_agent():
    agents = [
        agent("ann", idle_since=0),
        agent("bob", idle_since=10),
        agent("dr-li-desk", state=AgentState.ON_CALL, current_call_id="other"),
    ]
    [a] = route(QS, [call("c1", last_agent_id="dr-li-desk")], agents, at(60))
    assert (a.agent_id, a.reason) == ("ann", AssignmentReason.LONGEST_IDLE)


def test_continuity_requires_the_skill_and_language_too():
    agents = [agent("ann", idle_since=10), agent("former", idle_since=0, languages={"en": 5})]
    [a] = route(QS, [call("c1", last_agent_id="former", language="zh")], agents, at(60))
    assert a.agent_id == "ann"


def test_free_agent_is_kept_for_their_returning_patient_when_another_agent_can_take_the_vip():
    agents = [agent("dr-li-desk", idle_since=0), agent("bob", idle_since=30)]
    calls = [
        call("vip", arrived=50, priority=VIP),
        call("returning", arrived=40, last_agent_id="dr-li-desk"),
    ]
    assert pairs(route(QS, calls, agents, at(60))) == [("vip", "bob"), ("returning", "dr-li-desk")]


def test_priority_beats_continuity_when_only_that_agent_is_free():
    calls = [
        call("vip", arrived=50, priority=VIP),
        call("returning", arrived=40, last_agent_id="ann"),
    ]
    assert pairs(route(QS, calls, [agent("ann")], at(60))) == [("vip", "ann")]


def test_longest_idle_agent_gets_the_call():
    agents = [
        agent("recent", idle_since=50),
        agent("longest", idle_since=5),
        agent("mid", idle_since=20),
    ]
    [a] = route(QS, [call("c1", arrived=55)], agents, at(60))
    assert a.agent_id == "longest"


def test_idle_time_counts_from_becoming_available_not_from_the_last_call():
    # Back from a long pause: their last call ended long ago, but they are idle only now.
    agents = [
        agent("back-from-lunch", idle_since=50, last_call_ended_at=at(-3600)),
        agent("waiting", idle_since=20, last_call_ended_at=at(10)),
    ]
    [a] = route(QS, [call("c1", arrived=55)], agents, at(60))
    assert a.agent_id == "waiting"


def test_higher_skill_level_wins_between_equally_idle_agents():
    agents = [
        agent("junior", idle_since=10, skills={"appointments": 1}),
        agent("senior", idle_since=10, skills={"appointments": 5}),
    ]
    assert route(QS, [call("c1")], agents, at(60))[0].agent_id == "senior"


def test_higher_language_level_wins_between_equally_idle_agents():
    agents = [
        agent("learner", idle_since=10, languages={"zh": 2}),
        agent("native", idle_since=10, languages={"zh": 5}),
    ]
    assert route(QS, [call("c1")], agents, at(60))[0].agent_id == "native"


def test_level_is_worth_a_bounded_head_start_so_experts_do_not_take_every_call():
    credit = 4 * DEFAULT_POLICY.skill_level_credit_s  # level 5 vs level 1
    expert = agent("expert", idle_since=100, skills={"appointments": 5})
    fresh_junior = agent("junior", idle_since=100 - credit + 1, skills={"appointments": 1})
    old_junior = agent("junior", idle_since=100 - credit - 1, skills={"appointments": 1})
    assert route(QS, [call("c1")], [expert, fresh_junior], at(200))[0].agent_id == "expert"
    assert route(QS, [call("c1")], [expert, old_junior], at(200))[0].agent_id == "junior"


def test_equal_agents_break_ties_on_the_earlier_last_call_then_the_id():
    agents = [
        agent("b", idle_since=10, last_call_ended_at=at(5)),
        agent("a", idle_since=10, last_call_ended_at=at(8)),
    ]
    assert route(QS, [call("c1")], agents, at(60))[0].agent_id == "b"
    agents = [agent("b", idle_since=10), agent("a", idle_since=10)]
    assert route(QS, [call("c1")], agents, at(60))[0].agent_id == "a"


def test_equal_callers_break_ties_on_the_arrival_sequence_then_the_call_id():
    calls = [call("x", arrived=5, sequence=2), call("y", arrived=5, sequence=1)]
    assert route(QS, calls, [agent("ann")], at(6))[0].call_id == "y"
    calls = [call("y", arrived=5, sequence=1), call("x", arrived=5, sequence=1)]
    assert route(QS, calls, [agent("ann")], at(6))[0].call_id == "x"


def test_the_decision_does_not_depend_on_the_order_of_the_inputs():
    calls = [call(f"c{i}", arrived=i % 7, priority=list(PriorityClass)[i % 4]) for i in range(12)]
    agents = [agent(f"a{i}", idle_since=(i * 7) % 5) for i in range(6)]
    first = route(QS, calls, agents, at(100))
    again = route(QS, list(reversed(calls)), list(reversed(agents)), at(100))
    assert first == again


def test_no_agent_with_the_language_means_no_assignment():
    agents = [agent("ann", languages={"zh": 5}), agent("bob", languages={"ko": 5})]
    assert route(QS, [call("c1", queue_name="appointments-en", language="en")], agents, at(5)) == []


def test_no_agent_with_the_skill_means_no_assignment():
    assert (
        route(QS, [call("c1", queue_name="complaints", skill="complaints")], [agent("ann")], at(5))
        == []
    )


def test_queue_minimum_levels_are_required():
    qs = queues(queue("appointments", min_skill_level=3, min_language_level=4))
    agents = [
        agent("low-skill", skills={"appointments": 2}, languages={"zh": 5}),
        agent("low-language", skills={"appointments": 5}, languages={"zh": 3}),
    ]
    assert route(qs, [call("c1")], agents, at(5)) == []
    agents.append(agent("qualified", skills={"appointments": 3}, languages={"zh": 4}))
    assert pairs(route(qs, [call("c1")], agents, at(5))) == [("c1", "qualified")]


def test_a_caller_nobody_free_can_serve_is_passed_over_and_keeps_their_place():
    calls = [
        call("complaint", arrived=0, queue_name="complaints", skill="complaints"),
        call("booking", arrived=10),
    ]
    assert pairs(route(QS, calls, [agent("ann")], at(20))) == [("booking", "ann")]
    complainer = agent("carl", skills={"complaints": 3}, idle_since=30)
    calls.append(call("booking2", arrived=15))
    result = route(QS, calls, [agent("ann", idle_since=25), complainer], at(40))
    assert pairs(result) == [("complaint", "carl"), ("booking", "ann")]


def test_one_agent_with_two_skills_serves_the_earlier_caller_across_queues():
    both = agent("ann", skills={"appointments": 3, "complaints": 3})
    calls = [
        call("booking", arrived=10),
        call("complaint", arrived=5, queue_name="complaints", skill="complaints"),
    ]
    assert pairs(route(QS, calls, [both], at(20))) == [("complaint", "ann")]


def test_many_callers_and_agents_are_matched_one_to_one_in_order():
    calls = [call(f"c{i}", arrived=i) for i in range(5)]
    agents = [agent(f"a{i}", idle_since=10 - i) for i in range(3)]
    assert pairs(route(QS, calls, agents, at(20))) == [("c0", "a2"), ("c1", "a1"), ("c2", "a0")]


def test_only_available_agents_get_calls():
    agents = [
        agent(
            s.value,
            state=s,
            current_call_id=f"held-{s.value}"
            if s.value in {"ringing", "on_call", "wrap_up"}
            else None,
            pause_reason="break" if s is AgentState.PAUSED else None,
        )
        for s in AgentState
        if s is not AgentState.AVAILABLE
    ]
    assert route(QS, [call("c1")], agents, at(5)) == []


def test_a_call_an_agent_already_holds_is_never_assigned_again():
    ringing = agent("ann", state=AgentState.RINGING, current_call_id="c1")
    assert route(QS, [call("c1")], [ringing, agent("bob")], at(5)) == []


def test_a_call_listed_twice_is_assigned_once():
    c = call("c1")
    assert pairs(route(QS, [c, c], [agent("ann"), agent("bob", idle_since=1)], at(5))) == [
        ("c1", "ann")
    ]


def test_nothing_to_do_without_free_agents_or_without_callers():
    assert route(QS, [call("c1")], [], at(5)) == []
    assert route(QS, [], [agent("ann")], at(5)) == []


def test_unanswered_ring_requeues_call_at_head_and_next_agent_gets_it_first():
    calls = [call("early", arrived=0, priority=VIP), call("requeued", arrived=50).back_at_head()]
    assert pairs(route(QS, calls, [agent("bob")], at(60))) == [("requeued", "bob")]


def test_callback_keeps_its_place_and_is_placed_once():
    # c1 held, c2 asked to be called back, c3 held; they arrived in that order.
    c1, c2, c3 = call("c1", arrived=0), call("c2", arrived=10), call("c3", arrived=20)
    c2 = c2.with_callback("+8613800138000")
    waiting = [c3, c2, c1]
    # First agent: the caller ahead of the callback.
    [a] = route(QS, waiting, [agent("ann")], at(30))
    assert (a.call_id, a.callback) == ("c1", False)
    waiting.remove(c1)
    # Second agent: the callback, in its place, before c3 who held but came later.
    [b] = route(
        QS,
        waiting,
        [agent("ann", state=AgentState.RINGING, current_call_id="c1"), agent("bob")],
        at(40),
    )
    assert (b.call_id, b.callback) == ("c2", True)
    # While bob rings for the callback it is never placed again, even if still listed.
    bob_ringing = agent(
        "bob", state=AgentState.RINGING, current_call_id="c2", current_call_is_callback=True
    )
    [c] = route(QS, waiting, [bob_ringing, agent("carl")], at(41))
    assert c.call_id == "c3"


def test_callback_is_not_placed_ahead_of_callers_who_held_before_it():
    waiting = [call("held", arrived=0), call("cb", arrived=5).with_callback("+8613800138000")]
    assert [a.call_id for a in route(QS, waiting, [agent("ann")], at(60))] == ["held"]


def test_a_custom_policy_changes_the_weights():
    policy = RoutingPolicy(class_weight_s={p: 0.0 for p in PriorityClass})
    calls = [call("normal", arrived=0), call("vip", arrived=1, priority=VIP)]
    assert route(QS, calls, [agent("ann")], at(2), policy=policy)[0].call_id == "normal"


def test_a_call_in_an_unconfigured_queue_is_a_clear_error():
    with pytest.raises(UnknownQueue, match=r"'retired'.*not configured"):
        route(QS, [call("c1", queue_name="retired")], [agent("ann")], at(5))
