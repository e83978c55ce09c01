"""The routing decision: which waiting call goes to which free agent. Pure.

Order of callers
    Callers are served in order of *effective priority* = class weight + time waited. The
    weight is a head start in seconds (:class:`RoutingPolicy`, defaults below), so the
    order is the order of the *virtual arrival time* ``enqueued_at - weight``, which does
    not change as time passes:

    ========  ======  =====================================================
    class     weight  meaning
    ========  ======  =====================================================
    URGENT    300 s   clinically urgent (flagged by the IVR or the record)
    VIP       180 s   VIP patients and the VIP line
    CHRONIC    90 s   chronic-care patients
    NORMAL      0 s
    ========  ======  =====================================================

    No starvation: a caller of weight ``w`` who has waited ``W_max - w`` seconds (300 s for
    a NORMAL caller) is ahead of every caller who arrives later, of any class, so from then
    on their place only improves. A newly arrived VIP overtakes a NORMAL caller only while
    that caller has waited less than 180 s.

    Before all of these come calls put back *at the head* after an unanswered ring, in
    their own order. Ties break on the arrival ``sequence`` and then the call id.

Choice of agent
    Only AVAILABLE agents who hold the call's skill and language at the queue's minimum
    levels at least. Among them:

    1. the agent who last served this patient (continuity of care), when free;
    2. otherwise the agent idle longest, where each level above 1 counts as extra idle
       time (``skill_level_credit_s`` and ``language_level_credit_s``, 30 s each by
       default): a level-5 agent idle 10 s goes before a level-1 agent idle 2 min, but not
       before one idle 5 min — experts are preferred without taking every call.
       "Idle" is time since the agent became AVAILABLE (``state_since``); ties go to the
       agent whose last call ended earlier, then to the lowest agent id.

    A free agent who last served a waiting patient is *kept for that patient*: an earlier
    caller takes them only when no other qualified agent is free (priority still wins over
    continuity when they conflict).

    Calls are taken in order, each given the best agent still free: a caller nobody free
    can serve is passed over (they keep their place) and the next caller is considered.

Callbacks
    A caller who chose to be called back stays in the queue as the same
    :class:`~acd.model.WaitingCall` with no channel. It is routed like anyone else — when
    its turn comes, never before callers who held and were ahead of it — and the
    assignment says ``callback=True`` so the adapter rings the agent and then dials the
    patient. A call that an agent holds (ringing, on call, wrap-up) is never assigned
    again, even if the adapter still lists it as waiting.

Cost of one decision
    One pass over the agents, a sort of the waiting calls, and an index of the *free*
    agents by skill built once per decision; each (skill, language, levels) demand gets a
    sorted candidate list with a cursor, so no call scans all agents:
    O(A + C log C + F·s + Σ F_d log F_d) for A agents, C callers, F free agents with s
    skills each, F_d free agents matching demand d.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from acd.errors import CallNotWaiting, ConfigurationError, InvalidModel, OverflowLoop, UnknownQueue
from acd.model import (
    Agent,
    AgentState,
    OverflowKind,
    OverflowRule,
    PriorityClass,
    Queue,
    WaitingCall,
)

DEFAULT_CLASS_WEIGHTS_S: Mapping[PriorityClass, float] = MappingProxyType(
    {
        PriorityClass.URGENT: 300.0,
        PriorityClass.VIP: 180.0,
        PriorityClass.CHRONIC: 90.0,
        PriorityClass.NORMAL: 0.0,
    }
)


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    """The tunable numbers of routing, in seconds (see the module docstring)."""

    class_weight_s: Mapping[PriorityClass, float] = field(
        default_factory=lambda: DEFAULT_CLASS_WEIGHTS_S
    )
    skill_level_credit_s: float = 30.0
    language_level_credit_s: float = 30.0

    @property
    def starvation_bound_s(self) -> float:
        """After waiting this long, a NORMAL caller is overtaken by no later arrival."""
        return max(self.class_weight_s.values()) - self.class_weight_s[PriorityClass.NORMAL]


DEFAULT_POLICY = RoutingPolicy()


class AssignmentReason(str, enum.Enum):
    CONTINUITY = "continuity"  # the agent who last served this patient
    LONGEST_IDLE = "longest_idle"  # the longest idle qualified agent (level credit included)


@dataclass(frozen=True, slots=True)
class Assignment:
    """Offer ``call_id`` to ``agent_id`` (see :func:`acd.agent_states.offer`)."""

    call_id: str
    agent_id: str
    queue: str
    callback: bool
    reason: AssignmentReason
    priority: PriorityClass
    waited_s: float


CallKey = tuple[int, float, int, str]


def call_order_key(call: WaitingCall, policy: RoutingPolicy = DEFAULT_POLICY) -> CallKey:
    """The sort key of a waiting call: smaller goes first."""
    return (
        0 if call.at_head else 1,
        call.enqueued_at.timestamp() - policy.class_weight_s[call.priority],
        call.sequence,
        call.call_id,
    )


def agent_choice_key(
    agent: Agent, skill_level: int, language_level: int, policy: RoutingPolicy = DEFAULT_POLICY
) -> tuple[float, float, str]:
    """The sort key of a free agent for a call: smaller is chosen first."""
    assert agent.state_since is not None  # AVAILABLE agents always have it (model check)
    credit = (skill_level - 1) * policy.skill_level_credit_s + (
        language_level - 1
    ) * policy.language_level_credit_s
    last = agent.last_call_ended_at
    return (
        agent.state_since.timestamp() - credit,
        last.timestamp() if last is not None else -math.inf,
        agent.id,
    )


class _Pool:
    """Free agents who can take one kind of call, best first, consumed by a cursor.
    Agents kept for a waiting patient are in a second list, used only when the first is
    exhausted."""

    __slots__ = ("kept", "kept_pos", "open", "open_pos")

    def __init__(self, open_: list[str], kept: list[str]) -> None:
        self.open = open_
        self.kept = kept
        self.open_pos = 0
        self.kept_pos = 0

    def take(self, taken: set[str]) -> str | None:
        agents, pos = self.open, self.open_pos
        while pos < len(agents) and agents[pos] in taken:
            pos += 1
        self.open_pos = pos
        if pos < len(agents):
            return agents[pos]
        agents, pos = self.kept, self.kept_pos
        while pos < len(agents) and agents[pos] in taken:
            pos += 1
        self.kept_pos = pos
        if pos < len(agents):
            return agents[pos]
        return None


def _queue_of(queues: Mapping[str, Queue], call: WaitingCall) -> Queue:
    try:
        return queues[call.queue]
    except KeyError:
        raise UnknownQueue(call.queue, f"waiting call {call.call_id}") from None


def route(
    queues: Mapping[str, Queue],
    waiting_calls: Iterable[WaitingCall],
    agents: Iterable[Agent],
    now: datetime,
    *,
    policy: RoutingPolicy = DEFAULT_POLICY,
) -> list[Assignment]:
    """Assign waiting calls to free agents (see the module docstring for the rules).

    ``queues`` by name; ``agents`` unique by id. Returns the assignments in the order the
    calls were served. Raises :class:`acd.errors.UnknownQueue` for a call whose queue is
    not configured.
    """
    free: dict[str, Agent] = {}
    held: set[str] = set()
    for agent in agents:
        if agent.state is AgentState.AVAILABLE:
            free[agent.id] = agent
        elif agent.current_call_id is not None:
            held.add(agent.current_call_id)
    if not free:
        return []

    weights = policy.class_weight_s
    keyed: list[tuple[CallKey, WaitingCall]] = []
    for call in waiting_calls:
        if call.call_id in held:
            continue
        key = (
            0 if call.at_head else 1,
            call.enqueued_at.timestamp() - weights[call.priority],
            call.sequence,
            call.call_id,
        )
        keyed.append((key, call))
    if not keyed:
        return []
    keyed.sort(key=_first)

    # Free agents kept for a waiting patient of theirs.
    kept: set[str] = set()
    for _, call in keyed:
        last = call.last_agent_id
        if last is not None and last in free:
            queue = _queue_of(queues, call)
            if free[last].can_serve(
                call.skill, call.language, queue.min_skill_level, queue.min_language_level
            ):
                kept.add(last)

    by_skill: dict[str, list[Agent]] = {}
    for agent in free.values():
        for skill in agent.skills:
            by_skill.setdefault(skill, []).append(agent)

    pools: dict[tuple[str, str, int, int], _Pool] = {}
    taken: set[str] = set()
    served: set[str] = set()
    assignments: list[Assignment] = []
    n_free = len(free)
    for _, call in keyed:
        call_id = call.call_id
        if call_id in served or call.skill not in by_skill:
            continue
        queue = _queue_of(queues, call)
        min_skill, min_language = queue.min_skill_level, queue.min_language_level
        chosen: str | None = None
        reason = AssignmentReason.LONGEST_IDLE
        last = call.last_agent_id
        if last is not None and last not in taken:
            candidate = free.get(last)
            if candidate is not None and candidate.can_serve(
                call.skill, call.language, min_skill, min_language
            ):
                chosen, reason = last, AssignmentReason.CONTINUITY
        if chosen is None:
            demand = (call.skill, call.language, min_skill, min_language)
            pool = pools.get(demand)
            if pool is None:
                pool = pools[demand] = _build_pool(by_skill, demand, kept, policy)
            chosen = pool.take(taken)
            if chosen is None:
                continue
        taken.add(chosen)
        served.add(call_id)
        assignments.append(
            Assignment(
                call_id=call_id,
                agent_id=chosen,
                queue=call.queue,
                callback=call.callback_requested,
                reason=reason,
                priority=call.priority,
                waited_s=(now - call.enqueued_at).total_seconds(),
            )
        )
        if len(taken) == n_free:
            break
    return assignments


def _first(item: tuple[CallKey, WaitingCall]) -> CallKey:
    return item[0]


def _build_pool(
    by_skill: Mapping[str, list[Agent]],
    demand: tuple[str, str, int, int],
    kept: set[str],
    policy: RoutingPolicy,
) -> _Pool:
    skill, language, min_skill, min_language = demand
    s_credit, l_credit = policy.skill_level_credit_s, policy.language_level_credit_s
    open_: list[tuple[float, float, str]] = []
    kept_: list[tuple[float, float, str]] = []
    for agent in by_skill.get(skill, ()):
        skill_level = agent.skills[skill]
        language_level = agent.languages.get(language, 0)
        if skill_level < min_skill or language_level < min_language:
            continue
        assert agent.state_since is not None
        last = agent.last_call_ended_at
        key = (
            agent.state_since.timestamp()
            - (skill_level - 1) * s_credit
            - (language_level - 1) * l_credit,
            last.timestamp() if last is not None else -math.inf,
            agent.id,
        )
        (kept_ if agent.id in kept else open_).append(key)
    open_.sort()
    kept_.sort()
    return _Pool([k[2] for k in open_], [k[2] for k in kept_])


# -- queue state, expected wait, overflow -----------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueState:
    """What a queue looks like now: its waiting calls (any order), the agents staffed for
    it (logged in, qualified, not paused or not-responding) and how many of them are free,
    and its recent average handle time (talk + wrap-up)."""

    queue: str
    waiting: tuple[WaitingCall, ...]
    staffed_agents: int
    available_agents: int
    average_handle_time_s: float


_STAFFED = frozenset(
    {AgentState.AVAILABLE, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP}
)


def queue_states(
    queues: Mapping[str, Queue],
    waiting_calls: Iterable[WaitingCall],
    agents: Iterable[Agent],
    average_handle_time_s: Mapping[str, float],
    *,
    default_handle_time_s: float = 180.0,
) -> dict[str, QueueState]:
    """The :class:`QueueState` of every queue, in one pass over agents and calls."""
    waiting: dict[str, list[WaitingCall]] = {name: [] for name in queues}
    for call in waiting_calls:
        if call.queue not in waiting:
            raise UnknownQueue(call.queue, f"waiting call {call.call_id}")
        waiting[call.queue].append(call)
    by_skill: dict[str, list[Agent]] = {}
    for agent in agents:
        if agent.state in _STAFFED:
            for skill in agent.skills:
                by_skill.setdefault(skill, []).append(agent)
    states: dict[str, QueueState] = {}
    for name, queue in queues.items():
        staffed = available = 0
        for agent in by_skill.get(queue.skill, ()):
            if agent.can_serve(
                queue.skill, queue.language, queue.min_skill_level, queue.min_language_level
            ):
                staffed += 1
                available += agent.state is AgentState.AVAILABLE
        states[name] = QueueState(
            queue=name,
            waiting=tuple(waiting[name]),
            staffed_agents=staffed,
            available_agents=available,
            average_handle_time_s=average_handle_time_s.get(name, default_handle_time_s),
        )
    return states


def callers_ahead(
    state: QueueState,
    now: datetime,
    *,
    call_id: str | None = None,
    priority: PriorityClass = PriorityClass.NORMAL,
    policy: RoutingPolicy = DEFAULT_POLICY,
) -> int:
    """How many callers of this queue will be served before ``call_id`` (or before a caller
    of ``priority`` arriving ``now``). Callbacks count: they keep their place."""
    if call_id is not None:
        mine = next((c for c in state.waiting if c.call_id == call_id), None)
        if mine is None:
            raise CallNotWaiting(call_id, state.queue)
        key = call_order_key(mine, policy)
        return sum(1 for c in state.waiting if call_order_key(c, policy) < key)
    new_key = (1, now.timestamp() - policy.class_weight_s[priority])
    return sum(1 for c in state.waiting if call_order_key(c, policy)[:2] <= new_key)


def expected_wait(
    queue: Queue,
    state: QueueState,
    now: datetime,
    *,
    call_id: str | None = None,
    priority: PriorityClass = PriorityClass.NORMAL,
    policy: RoutingPolicy = DEFAULT_POLICY,
) -> float:
    """Expected seconds until an agent is offered the call ``call_id`` (or a caller of
    ``priority`` arriving ``now``); ``math.inf`` when nobody is staffed for the queue.

    With ``k`` callers ahead and ``f`` free agents, the caller is served at once when
    ``k < f``; otherwise they need ``k - f + 1`` agents to finish a call, and with ``n``
    staffed agents each busy for an average handle time ``AHT`` one finishes every
    ``AHT / n`` seconds on average::

        EWT = (k - f + 1) * AHT / n

    It ignores callers of other queues competing for the same agents and agents moving
    between queues; the adapter records each estimate beside the wait the caller then had,
    which is how its error is reported.
    """
    if state.queue != queue.name:
        raise InvalidModel(
            f"the state of queue {state.queue!r} was passed for queue {queue.name!r}; "
            "pass the state of the same queue"
        )
    if state.staffed_agents <= 0:
        return math.inf
    ahead = callers_ahead(state, now, call_id=call_id, priority=priority, policy=policy)
    if ahead < state.available_agents:
        return 0.0
    return (ahead - state.available_agents + 1) * state.average_handle_time_s / state.staffed_agents


@dataclass(frozen=True, slots=True)
class HandleTimeAverage:
    """Recent average handle time: an exponentially weighted mean (each new call weighs
    ``alpha``), starting from a configured prior so a fresh queue has a sensible figure."""

    mean_s: float = 180.0
    samples: int = 0
    alpha: float = 0.1

    def add(self, handle_time_s: float) -> HandleTimeAverage:
        if handle_time_s < 0:
            return self
        if self.samples == 0:
            mean = handle_time_s
        else:
            mean = self.mean_s + self.alpha * (handle_time_s - self.mean_s)
        return HandleTimeAverage(mean, self.samples + 1, self.alpha)


class OverflowReason(str, enum.Enum):
    MAX_WAIT = "max_wait"  # the caller waited longer than the queue's max_wait_s
    QUEUE_FULL = "queue_full"  # max_waiting callers already hold
    NO_AGENTS = "no_agents"  # nobody is staffed for the queue


@dataclass(frozen=True, slots=True)
class OverflowMove:
    call_id: str
    reason: OverflowReason
    rule: OverflowRule


@dataclass(frozen=True, slots=True)
class OverflowDecision:
    """What to do with a queue past its limits.

    ``moves``: waiting callers to send to ``rule``'s target now (in their queue order).
    ``accepts_new_callers``: whether a new caller may join; when not, the adapter sends
    them to the target directly, for ``refusal``.
    """

    queue: str
    moves: tuple[OverflowMove, ...] = ()
    accepts_new_callers: bool = True
    refusal: OverflowReason | None = None

    @property
    def overflows(self) -> bool:
        return bool(self.moves) or not self.accepts_new_callers


def overflow(
    queue: Queue, state: QueueState, now: datetime, *, policy: RoutingPolicy = DEFAULT_POLICY
) -> OverflowDecision:
    """Apply ``queue``'s limits and overflow rule to its current state.

    Callers who hold are moved when they have waited ``max_wait_s`` in this queue, or all
    at once when nobody is staffed and the rule says ``when_no_agents``. Callers waiting
    for a callback are never moved (they hold no line, and moving would lose their place)
    and do not count against ``max_waiting``. A queue without an overflow rule never
    overflows (:func:`check_queues` refuses limits without a rule).
    """
    rule = queue.overflow
    if rule is None:
        return OverflowDecision(queue.name)
    holding = sorted(
        (c for c in state.waiting if not c.callback_requested),
        key=lambda c: call_order_key(c, policy),
    )
    no_agents = rule.when_no_agents and state.staffed_agents <= 0
    moves: list[OverflowMove] = []
    for call in holding:
        if no_agents:
            moves.append(OverflowMove(call.call_id, OverflowReason.NO_AGENTS, rule))
        elif queue.max_wait_s is not None and call.waited_in_queue_s(now) >= queue.max_wait_s:
            moves.append(OverflowMove(call.call_id, OverflowReason.MAX_WAIT, rule))
    refusal: OverflowReason | None = None
    if no_agents:
        refusal = OverflowReason.NO_AGENTS
    elif queue.max_waiting is not None and len(holding) - len(moves) >= queue.max_waiting:
        refusal = OverflowReason.QUEUE_FULL
    return OverflowDecision(queue.name, tuple(moves), refusal is None, refusal)


def check_queues(queues: Iterable[Queue]) -> dict[str, Queue]:
    """Check a queue configuration and return it by name.

    Refuses duplicate names, overflow rules naming unknown queues or themselves, chains of
    rules that loop, and limits (``max_wait_s`` / ``max_waiting``) without a rule saying
    where callers go.
    """
    by_name: dict[str, Queue] = {}
    for queue in queues:
        if queue.name in by_name:
            raise ConfigurationError(
                f"queue {queue.name!r} is configured twice; give each queue its own name"
            )
        by_name[queue.name] = queue
    for queue in by_name.values():
        rule = queue.overflow
        if rule is None:
            if queue.max_wait_s is not None or queue.max_waiting is not None:
                raise ConfigurationError(
                    f"queue {queue.name!r} has limits but no overflow rule; "
                    "add an overflow to a queue or a message, or remove the limits"
                )
            continue
        if rule.kind is OverflowKind.QUEUE and rule.target not in by_name:
            raise UnknownQueue(rule.target, f"the overflow rule of queue {queue.name!r}")
    for start in by_name:
        path: list[str] = []
        name: str | None = start
        while name is not None:
            if name in path:
                raise OverflowLoop(path[path.index(name) :])
            path.append(name)
            rule = by_name[name].overflow
            name = rule.target if rule is not None and rule.kind is OverflowKind.QUEUE else None
    return by_name
