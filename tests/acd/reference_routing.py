"""The routing rules written the obvious way: for every call, in order, scan every agent.

This is the specification :func:`acd.routing.route` is checked against (property tests)
and the baseline it is benchmarked against (bench/acd_routing.py). O(calls * agents).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from acd.model import Agent, AgentState, Queue, WaitingCall
from acd.routing import (
    DEFAULT_POLICY,
    Assignment,
    AssignmentReason,
    RoutingPolicy,
    agent_choice_key,
    call_order_key,
)


def naive_route(
    queues: Mapping[str, Queue],
    waiting_calls: Sequence[WaitingCall],
    agents: Sequence[Agent],
    now: datetime,
    *,
    policy: RoutingPolicy = DEFAULT_POLICY,
) -> list[Assignment]:
    held = {a.current_call_id for a in agents if a.state is not AgentState.AVAILABLE}
    calls = sorted(
        (c for c in waiting_calls if c.call_id not in held),
        key=lambda c: call_order_key(c, policy),
    )

    def qualified(a: Agent, c: WaitingCall) -> bool:
        q = queues[c.queue]
        return a.state is AgentState.AVAILABLE and a.can_serve(
            c.skill, c.language, q.min_skill_level, q.min_language_level
        )

    kept = {a.id for c in calls for a in agents if a.id == c.last_agent_id and qualified(a, c)}
    taken: set[str] = set()
    served: set[str] = set()
    out: list[Assignment] = []
    for c in calls:
        if c.call_id in served:
            continue
        chosen: Agent | None = None
        reason = AssignmentReason.CONTINUITY
        for a in agents:
            if a.id == c.last_agent_id and a.id not in taken and qualified(a, c):
                chosen = a
        if chosen is None:
            reason = AssignmentReason.LONGEST_IDLE
            best: tuple[bool, tuple[float, float, str]] | None = None
            for a in agents:
                if a.id in taken or not qualified(a, c):
                    continue
                key = (
                    a.id in kept,
                    agent_choice_key(a, a.skills[c.skill], a.languages[c.language], policy),
                )
                if best is None or key < best:
                    best, chosen = key, a
        if chosen is None:
            continue
        agent = chosen
        taken.add(agent.id)
        served.add(c.call_id)
        out.append(
            Assignment(
                call_id=c.call_id,
                agent_id=agent.id,
                queue=c.queue,
                callback=c.callback_requested,
                reason=reason,
                priority=c.priority,
                waited_s=(now - c.enqueued_at).total_seconds(),
            )
        )
    return out
