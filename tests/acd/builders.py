"""Small builders for ACD unit tests: a clock, queues, agents and waiting calls."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from acd.model import Agent, AgentState, PriorityClass, Queue, WaitingCall

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """The test clock: ``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


def queue(
    name: str = "appointments", skill: str = "appointments", language: str = "zh", **kw: object
) -> Queue:
    return Queue(name=name, skill=skill, language=language, **kw)  # type: ignore[arg-type]


def queues(*items: Queue) -> dict[str, Queue]:
    return {q.name: q for q in items}


def agent(
    agent_id: str,
    *,
    idle_since: float = 0.0,
    skills: Mapping[str, int] | None = None,
    languages: Mapping[str, int] | None = None,
    state: AgentState = AgentState.AVAILABLE,
    **kw: object,
) -> Agent:
    return Agent(
        id=agent_id,
        skills=dict(skills) if skills is not None else {"appointments": 3},
        languages=dict(languages) if languages is not None else {"zh": 5},
        state=state,
        state_since=at(idle_since),
        **kw,  # type: ignore[arg-type]
    )


_sequence = iter(range(1, 10**9))


def call(
    call_id: str,
    *,
    arrived: float = 0.0,
    priority: PriorityClass = PriorityClass.NORMAL,
    queue_name: str = "appointments",
    skill: str = "appointments",
    language: str = "zh",
    sequence: int | None = None,
    **kw: object,
) -> WaitingCall:
    fields: dict[str, object] = {"channel": f"PJSIP/trunk-{call_id}", **kw}
    if fields.get("callback_requested"):
        fields["channel"] = None
    return WaitingCall(
        call_id=call_id,
        queue=queue_name,
        enqueued_at=at(arrived),
        skill=skill,
        language=language,
        priority=priority,
        sequence=next(_sequence) if sequence is None else sequence,
        **fields,  # type: ignore[arg-type]
    )
