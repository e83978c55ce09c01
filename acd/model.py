"""The ACD's plain data: agents, queues and waiting calls.

Everything here is an immutable value. Changes are new values (``dataclasses.replace`` or
the helper methods below), made by the state machine (:mod:`acd.agent_states`) or by the
adapter that owns the live state. Times are timezone-aware ``datetime`` values (UTC in
practice); ids are opaque strings (an agent's login, a call's Asterisk ``Linkedid``).

Skills and languages are plain names chosen by configuration (``"appointments"``,
``"complaints"``; ``"zh"``, ``"en"``) held at a *level* from 1 (can take the call) to 5
(expert / native). Treat the mappings as read-only.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from acd.errors import InvalidModel

MIN_LEVEL = 1
MAX_LEVEL = 5


class AgentState(str, enum.Enum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    NOT_RESPONDING = "not_responding"


class PriorityClass(str, enum.Enum):
    """Why a caller may be served before others. The weights live in
    :class:`acd.routing.RoutingPolicy`."""

    URGENT = "urgent"
    VIP = "vip"
    CHRONIC = "chronic"
    NORMAL = "normal"

    @classmethod
    def of(cls, *, urgent: bool = False, vip: bool = False, chronic: bool = False) -> PriorityClass:
        """The class of a caller with these flags: the strongest one wins."""
        if urgent:
            return cls.URGENT
        if vip:
            return cls.VIP
        if chronic:
            return cls.CHRONIC
        return cls.NORMAL


def _check_aware(owner: str, field: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise InvalidModel(f"{owner}.{field} must be timezone-aware (UTC); got {value!r}")


def _check_levels(owner: str, field: str, levels: Mapping[str, int]) -> None:
    for name, level in levels.items():
        if not name:
            raise InvalidModel(f"{owner}.{field} has an empty name; give every entry a name")
        if not isinstance(level, int) or not MIN_LEVEL <= level <= MAX_LEVEL:
            raise InvalidModel(
                f"{owner}.{field}[{name!r}] is {level!r}; levels go from {MIN_LEVEL} "
                f"(can take the call) to {MAX_LEVEL} (expert)"
            )


@dataclass(frozen=True, slots=True)
class Agent:
    """A seated agent as the ACD sees them.

    ``state_since`` is when the agent entered ``state``; for an AVAILABLE agent it is the
    start of their idle time (what "longest idle" compares). ``current_call_id`` is the
    call offered, answered or being wrapped up. ``pending_pause_reason`` is a pause the
    agent asked for while holding a call: it starts when that call and its wrap-up end.
    ``not_responding_count`` counts consecutive offers left ringing (reset on answer).
    """

    id: str
    skills: Mapping[str, int]
    languages: Mapping[str, int]
    state: AgentState = AgentState.LOGGED_OUT
    state_since: datetime | None = None
    last_call_ended_at: datetime | None = None
    current_call_id: str | None = None
    current_call_is_callback: bool = False
    pause_reason: str | None = None
    pending_pause_reason: str | None = None
    not_responding_count: int = 0

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidModel("Agent.id is empty; every agent needs its login id")
        _check_levels(f"Agent {self.id}", "skills", self.skills)
        _check_levels(f"Agent {self.id}", "languages", self.languages)
        _check_aware(f"Agent {self.id}", "state_since", self.state_since)
        _check_aware(f"Agent {self.id}", "last_call_ended_at", self.last_call_ended_at)
        if self.state is not AgentState.LOGGED_OUT and self.state_since is None:
            raise InvalidModel(f"Agent {self.id} is {self.state.value} but has no state_since")

    def can_serve(
        self, skill: str, language: str, min_skill: int = 1, min_language: int = 1
    ) -> bool:
        """Whether the agent holds ``skill`` and ``language`` at these levels at least."""
        return (
            self.skills.get(skill, 0) >= min_skill
            and self.languages.get(language, 0) >= min_language
        )


class OverflowKind(str, enum.Enum):
    QUEUE = "queue"  # move the caller to another queue (they keep their waiting time)
    MESSAGE = "message"  # play a message (e.g. opening hours, call back later) and hang up


@dataclass(frozen=True, slots=True)
class OverflowRule:
    """Where callers go when their queue is past its limits.

    ``target`` is a queue name (kind QUEUE) or a message id the dialplan knows (kind
    MESSAGE). With ``when_no_agents`` a queue with nobody staffed for it overflows at
    once instead of letting callers hold for nobody.
    """

    kind: OverflowKind
    target: str
    when_no_agents: bool = True
    then_fallback: bool = False  # after a MESSAGE: Asterisk's fallback queue, not goodbye

    def __post_init__(self) -> None:
        if not self.target:
            raise InvalidModel("OverflowRule.target is empty; name a queue or a message")


@dataclass(frozen=True, slots=True)
class Queue:
    """A queue: what its callers need and its limits.

    ``max_wait_s`` / ``max_waiting`` of ``None`` mean no limit. Callers who asked to be
    called back count for their place but not against the limits: they hold no line.
    """

    name: str
    skill: str
    language: str
    service_level_target_s: float = 20.0
    max_wait_s: float | None = None
    max_waiting: int | None = None
    overflow: OverflowRule | None = None
    min_skill_level: int = 1
    min_language_level: int = 1
    ring_timeout_s: float = 20.0
    wrap_up_s: float = 30.0

    def __post_init__(self) -> None:
        where = f"Queue {self.name!r}"
        if not self.name or not self.skill or not self.language:
            raise InvalidModel(f"{where} needs a name, a skill and a language")
        for field, level in (
            ("min_skill_level", self.min_skill_level),
            ("min_language_level", self.min_language_level),
        ):
            if not MIN_LEVEL <= level <= MAX_LEVEL:
                raise InvalidModel(f"{where}.{field} is {level}; use {MIN_LEVEL}-{MAX_LEVEL}")
        for field, value in (
            ("service_level_target_s", self.service_level_target_s),
            ("ring_timeout_s", self.ring_timeout_s),
        ):
            if value <= 0:
                raise InvalidModel(f"{where}.{field} is {value}; it must be above 0 seconds")
        if self.wrap_up_s < 0:
            raise InvalidModel(f"{where}.wrap_up_s is {self.wrap_up_s}; use 0 for no wrap-up")
        if self.max_wait_s is not None and self.max_wait_s <= 0:
            raise InvalidModel(f"{where}.max_wait_s is {self.max_wait_s}; use None for no limit")
        if self.max_waiting is not None and self.max_waiting < 0:
            raise InvalidModel(f"{where}.max_waiting is {self.max_waiting}; use None for no limit")


@dataclass(frozen=True, slots=True)
class WaitingCall:
    """A caller waiting for an agent (holding on ``channel``, or to be called back).

    Position keeping: a caller's place is decided by ``enqueued_at`` and ``priority``
    (see :mod:`acd.routing`), with ``sequence`` (a counter the adapter issues on arrival
    and persists) as the final tie-break. None of these change when the caller chooses a
    callback or is put back at the head after an unanswered ring, so the place is kept.
    ``at_head`` marks a call that was offered and not answered: it goes before every
    other caller. ``skill`` and ``language`` default to the queue's when the adapter builds
    the call with :meth:`arrive`.
    """

    call_id: str
    queue: str
    enqueued_at: datetime
    skill: str
    language: str
    priority: PriorityClass = PriorityClass.NORMAL
    sequence: int = 0
    patient_id: int | None = None
    last_agent_id: str | None = None
    channel: str | None = None
    callback_requested: bool = False
    callback_number: str | None = None
    at_head: bool = False
    offers: int = 0
    queue_since: datetime | None = None
    callback_attempts: int = 0

    def __post_init__(self) -> None:
        where = f"WaitingCall {self.call_id}"
        if not self.call_id or not self.queue:
            raise InvalidModel(f"{where} needs a call id and a queue")
        _check_aware(where, "enqueued_at", self.enqueued_at)
        _check_aware(where, "queue_since", self.queue_since)
        if self.callback_requested:
            if not self.callback_number:
                raise InvalidModel(f"{where} asks for a callback but has no number to call")
            if self.channel is not None:
                raise InvalidModel(
                    f"{where} asks for a callback but still holds channel {self.channel}; "
                    "clear the channel when the caller hangs up to be called back"
                )
        elif not self.channel:
            raise InvalidModel(f"{where} holds no channel and asked for no callback")

    @classmethod
    def arrive(
        cls,
        queue: Queue,
        *,
        call_id: str,
        channel: str,
        now: datetime,
        sequence: int,
        priority: PriorityClass = PriorityClass.NORMAL,
        patient_id: int | None = None,
        last_agent_id: str | None = None,
        language: str | None = None,
        skill: str | None = None,
    ) -> WaitingCall:
        """A caller joining ``queue`` now; skill and language default to the queue's."""
        return cls(
            call_id=call_id,
            queue=queue.name,
            enqueued_at=now,
            skill=skill or queue.skill,
            language=language or queue.language,
            priority=priority,
            sequence=sequence,
            patient_id=patient_id,
            last_agent_id=last_agent_id,
            channel=channel,
        )

    @property
    def is_callback(self) -> bool:
        return self.callback_requested

    def with_callback(self, number: str) -> WaitingCall:
        """The caller hung up to be called back on ``number``: same place, no channel."""
        return replace(self, channel=None, callback_requested=True, callback_number=number)

    def callback_not_reached(self) -> WaitingCall:
        """A callback whose patient did not answer: one attempt more, same place."""
        return replace(self, callback_attempts=self.callback_attempts + 1, at_head=False)

    def back_at_head(self) -> WaitingCall:
        """The call after an offer nobody answered: first in line again."""
        return replace(self, at_head=True, offers=self.offers + 1)

    def moved_to(self, queue: Queue, now: datetime) -> WaitingCall:
        """The call overflowed to ``queue``: it keeps its place (waiting time and class) and
        takes the new queue's skill and language; the new queue's ``max_wait_s`` counts from
        ``now``."""
        return replace(
            self,
            queue=queue.name,
            skill=queue.skill,
            language=queue.language,
            queue_since=now,
            at_head=False,
        )

    def waited_s(self, now: datetime) -> float:
        """Seconds since the caller first joined a queue (what they experienced)."""
        return (now - self.enqueued_at).total_seconds()

    def waited_in_queue_s(self, now: datetime) -> float:
        """Seconds in the current queue (what that queue's ``max_wait_s`` limits)."""
        return (now - (self.queue_since or self.enqueued_at)).total_seconds()
