"""The agent state machine: each transition returns the new agent and the effects the
adapter must carry out. No I/O happens here.

::

                 login                 offer                answer
    LOGGED_OUT ────────▶ AVAILABLE ─────────▶ RINGING ──────────▶ ON_CALL
        ▲                 ▲  │  ▲               │  │                 │ hang_up
        │ logout          │  │  │ withdraw_offer│  │ ring_timeout    ▼
        │ (not on a call) │  │  └───────────────┘  └──▶ NOT_RESPONDING
        │           resume│  │pause                      │ resume/pause
        │                 │  ▼                           ▼
        └──────────────  PAUSED ◀──── end_wrap_up ──── WRAP_UP (timed)
                                   (if a pause is pending; otherwise → AVAILABLE)

Rules worth knowing:

* A pause asked while RINGING or ON_CALL is *pending*: it starts when the call and its
  wrap-up end. ``resume`` in those states cancels the pending pause. A pause asked during
  wrap-up ends the wrap-up at once.
* An unanswered ring (``ring_timeout``) puts the call back at the head of its queue
  (:class:`RequeueCallAtHead`) and the agent in NOT_RESPONDING until they resume.
  Logging out while ringing does the same for the call.
* An agent on a call cannot log out: the call must end first.
* Events that carry a call id (answer, ring timeout, hang-up, end of wrap-up) are checked
  against the call the agent holds; a mismatch raises :class:`acd.errors.StaleEvent`
  (a late timer or a duplicated AMI event: the adapter logs it and carries on).
* Every state change comes with a :class:`StateChanged` effect, which the adapter
  persists (so pause reasons survive a restart) and publishes to supervisors.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from acd.errors import InvalidAgentTransition, InvalidModel, StaleEvent
from acd.model import Agent, AgentState

S = AgentState

# -- effects ---------------------------------------------------------------------------


class TimerKind(str, enum.Enum):
    RING = "ring"
    WRAP_UP = "wrap_up"


@dataclass(frozen=True, slots=True)
class StateChanged:
    """Persist and publish: the agent went from ``old`` to ``new`` at ``at``."""

    agent_id: str
    old: AgentState
    new: AgentState
    at: datetime
    pause_reason: str | None = None


@dataclass(frozen=True, slots=True)
class RingAgent:
    """Ring the agent's phone for ``call_id`` and pop the call on their console. For a
    callback, the caller is dialled once the agent answers (see :class:`ConnectCall`)."""

    agent_id: str
    call_id: str
    callback: bool


@dataclass(frozen=True, slots=True)
class StopRinging:
    agent_id: str
    call_id: str


@dataclass(frozen=True, slots=True)
class ConnectCall:
    """The agent answered: bridge them with the waiting caller, or for a callback dial
    the caller's number and bridge when they answer."""

    agent_id: str
    call_id: str
    callback: bool


@dataclass(frozen=True, slots=True)
class RequeueCallAtHead:
    """Put the call back in its queue before everybody else
    (:meth:`acd.model.WaitingCall.back_at_head`)."""

    call_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Call the matching transition (``ring_timeout`` / ``end_wrap_up``) with ``call_id``
    after ``seconds``."""

    agent_id: str
    kind: TimerKind
    call_id: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Cancel the timer if it is still pending (a no-op otherwise)."""

    agent_id: str
    kind: TimerKind
    call_id: str


Effect = (
    StateChanged
    | RingAgent
    | StopRinging
    | ConnectCall
    | RequeueCallAtHead
    | StartTimer
    | CancelTimer
)


@dataclass(frozen=True, slots=True)
class Transition:
    agent: Agent
    effects: tuple[Effect, ...] = ()


# -- helpers ---------------------------------------------------------------------------

_HINTS: dict[tuple[str, AgentState], str] = {
    ("logout", S.LOGGED_OUT): "already logged out; nothing to do",
    ("logout", S.ON_CALL): "end or transfer the call first, then log out",
    ("resume", S.AVAILABLE): "already available; nothing to do",
    ("resume", S.WRAP_UP): "finish the wrap-up (end_wrap_up) to take calls again",
    ("resume", S.RINGING): "no pause is pending; answer the call or let it ring out",
    ("resume", S.ON_CALL): "no pause is pending; the agent becomes available after wrap-up",
    ("offer", S.RINGING): "the agent is already ringing for another call; route to someone else",
    ("offer", S.ON_CALL): "the agent is on a call; route to an AVAILABLE agent",
    ("offer", S.WRAP_UP): "the agent is wrapping up; route to an AVAILABLE agent",
    ("offer", S.PAUSED): "the agent is paused; route to an AVAILABLE agent",
    ("offer", S.NOT_RESPONDING): "the agent did not answer the last offer; they must resume",
}


def _refuse(agent: Agent, action: str) -> InvalidAgentTransition:
    if agent.state is S.LOGGED_OUT:
        hint = "log the agent in first"
    else:
        hint = _HINTS.get((action, agent.state), f"{action} is not possible in this state")
    return InvalidAgentTransition(agent.id, action, agent.state.value, hint)


def _check_call(agent: Agent, event: str, call_id: str) -> None:
    if agent.current_call_id != call_id:
        raise StaleEvent(agent.id, event, call_id, agent.current_call_id)


def _check_reason(reason: str) -> str:
    cleaned = reason.strip()
    if not cleaned or len(cleaned) > 64 or not cleaned.isprintable():
        raise InvalidModel(
            f"pause reason {reason!r} is not usable; give 1-64 printable characters "
            "(one of the configured reasons, e.g. 'break', 'training')"
        )
    return cleaned


def _move(
    agent: Agent,
    new: AgentState,
    now: datetime,
    *effects: Effect,
    **changes: object,
) -> Transition:
    moved = replace(agent, state=new, state_since=now, **changes)  # type: ignore[arg-type]
    changed = StateChanged(agent.id, agent.state, new, now, moved.pause_reason)
    return Transition(moved, (changed, *effects))


def _after_call(agent: Agent, now: datetime, *effects: Effect) -> Transition:
    """Where an agent goes when they hold no call any more: a pending pause or AVAILABLE."""
    if agent.pending_pause_reason is not None:
        return _move(
            agent,
            S.PAUSED,
            now,
            *effects,
            pause_reason=agent.pending_pause_reason,
            pending_pause_reason=None,
            current_call_id=None,
            current_call_is_callback=False,
        )
    return _move(
        agent,
        S.AVAILABLE,
        now,
        *effects,
        pause_reason=None,
        current_call_id=None,
        current_call_is_callback=False,
    )


# -- transitions -----------------------------------------------------------------------


def login(agent: Agent, now: datetime, *, paused_reason: str | None = None) -> Transition:
    """LOGGED_OUT → AVAILABLE (or PAUSED with ``paused_reason``)."""
    if agent.state is not S.LOGGED_OUT:
        raise InvalidAgentTransition(
            agent.id, "login", agent.state.value, "already logged in; nothing to do"
        )
    if paused_reason is not None:
        return _move(agent, S.PAUSED, now, pause_reason=_check_reason(paused_reason))
    return _move(agent, S.AVAILABLE, now, pause_reason=None, not_responding_count=0)


def logout(agent: Agent, now: datetime) -> Transition:
    """Any logged-in state but ON_CALL → LOGGED_OUT. A ringing call goes back to the head of
    its queue; a wrap-up in progress is ended."""
    state = agent.state
    if state in (S.LOGGED_OUT, S.ON_CALL):
        raise _refuse(agent, "logout")
    effects: tuple[Effect, ...] = ()
    call = agent.current_call_id
    if state is S.RINGING and call is not None:
        effects = (
            CancelTimer(agent.id, TimerKind.RING, call),
            StopRinging(agent.id, call),
            RequeueCallAtHead(call, agent.id),
        )
    elif state is S.WRAP_UP and call is not None:
        effects = (CancelTimer(agent.id, TimerKind.WRAP_UP, call),)
    return _move(
        agent,
        S.LOGGED_OUT,
        now,
        *effects,
        pause_reason=None,
        pending_pause_reason=None,
        current_call_id=None,
        current_call_is_callback=False,
    )


def pause(agent: Agent, reason: str, now: datetime) -> Transition:
    """Pause with a reason. AVAILABLE / NOT_RESPONDING / PAUSED (new reason) → PAUSED at
    once; WRAP_UP → PAUSED, ending the wrap-up; RINGING / ON_CALL → pending until the call
    and its wrap-up end."""
    reason = _check_reason(reason)
    state = agent.state
    if state is S.LOGGED_OUT:
        raise _refuse(agent, "pause")
    if state in (S.RINGING, S.ON_CALL):
        return Transition(replace(agent, pending_pause_reason=reason))
    effects: tuple[Effect, ...] = ()
    if state is S.WRAP_UP and agent.current_call_id is not None:
        effects = (CancelTimer(agent.id, TimerKind.WRAP_UP, agent.current_call_id),)
    return _move(
        agent,
        S.PAUSED,
        now,
        *effects,
        pause_reason=reason,
        pending_pause_reason=None,
        current_call_id=None,
        current_call_is_callback=False,
    )


def resume(agent: Agent, now: datetime) -> Transition:
    """PAUSED / NOT_RESPONDING → AVAILABLE. While holding a call, cancels a pending pause."""
    state = agent.state
    if state in (S.PAUSED, S.NOT_RESPONDING):
        return _move(agent, S.AVAILABLE, now, pause_reason=None)
    if state in (S.RINGING, S.ON_CALL, S.WRAP_UP) and agent.pending_pause_reason is not None:
        return Transition(replace(agent, pending_pause_reason=None))
    raise _refuse(agent, "resume")


def offer(
    agent: Agent, call_id: str, now: datetime, *, ring_timeout_s: float, callback: bool = False
) -> Transition:
    """AVAILABLE → RINGING for ``call_id``: ring the phone, pop the console, start the ring
    timer."""
    if agent.state is not S.AVAILABLE:
        raise _refuse(agent, "offer")
    if ring_timeout_s <= 0:
        raise InvalidModel(f"ring timeout {ring_timeout_s} s for agent {agent.id}; use > 0")
    return _move(
        agent,
        S.RINGING,
        now,
        RingAgent(agent.id, call_id, callback),
        StartTimer(agent.id, TimerKind.RING, call_id, ring_timeout_s),
        current_call_id=call_id,
        current_call_is_callback=callback,
    )


def answer(agent: Agent, call_id: str, now: datetime) -> Transition:
    """RINGING → ON_CALL: stop the ring timer and connect the caller."""
    if agent.state is not S.RINGING:
        if agent.current_call_id == call_id and agent.state is S.ON_CALL:
            raise StaleEvent(agent.id, "answer", call_id, agent.current_call_id)
        raise _refuse(agent, "answer")
    _check_call(agent, "answer", call_id)
    return _move(
        agent,
        S.ON_CALL,
        now,
        CancelTimer(agent.id, TimerKind.RING, call_id),
        ConnectCall(agent.id, call_id, agent.current_call_is_callback),
        not_responding_count=0,
    )


def ring_timeout(agent: Agent, call_id: str, now: datetime) -> Transition:
    """RINGING and nobody answered → NOT_RESPONDING; the call goes back to the head of its
    queue."""
    if agent.state is not S.RINGING or agent.current_call_id != call_id:
        raise StaleEvent(agent.id, "ring timeout", call_id, agent.current_call_id)
    return _move(
        agent,
        S.NOT_RESPONDING,
        now,
        StopRinging(agent.id, call_id),
        RequeueCallAtHead(call_id, agent.id),
        current_call_id=None,
        current_call_is_callback=False,
        pending_pause_reason=None,
        not_responding_count=agent.not_responding_count + 1,
    )


def withdraw_offer(agent: Agent, call_id: str, now: datetime) -> Transition:
    """RINGING, and the caller hung up (or the call was taken elsewhere) → AVAILABLE (or the
    pending pause). The call is not requeued."""
    if agent.state is not S.RINGING or agent.current_call_id != call_id:
        raise StaleEvent(agent.id, "withdrawn offer", call_id, agent.current_call_id)
    return _after_call(
        agent,
        now,
        CancelTimer(agent.id, TimerKind.RING, call_id),
        StopRinging(agent.id, call_id),
    )


def hang_up(agent: Agent, call_id: str, now: datetime, *, wrap_up_s: float) -> Transition:
    """ON_CALL → WRAP_UP for ``wrap_up_s`` (0: straight to AVAILABLE or the pending pause).
    The call id stays on the agent during wrap-up (the notes are about it)."""
    if agent.state is not S.ON_CALL or agent.current_call_id != call_id:
        if agent.state is S.LOGGED_OUT:
            raise _refuse(agent, "hang up")
        raise StaleEvent(agent.id, "hang-up", call_id, agent.current_call_id)
    if wrap_up_s < 0:
        raise InvalidModel(f"wrap-up of {wrap_up_s} s for agent {agent.id}; use 0 for none")
    ended = replace(agent, last_call_ended_at=now)
    if wrap_up_s == 0:
        return _after_call(ended, now)
    return _move(
        ended,
        S.WRAP_UP,
        now,
        StartTimer(agent.id, TimerKind.WRAP_UP, call_id, wrap_up_s),
    )


def end_wrap_up(agent: Agent, now: datetime, *, call_id: str | None = None) -> Transition:
    """WRAP_UP → AVAILABLE (or the pending pause). The timer passes ``call_id`` so a late
    timer of an earlier call is recognised; the agent ending it early passes none."""
    if agent.state is not S.WRAP_UP:
        if call_id is not None:
            raise StaleEvent(agent.id, "end of wrap-up", call_id, agent.current_call_id)
        raise _refuse(agent, "end wrap-up")
    if call_id is not None:
        _check_call(agent, "end of wrap-up", call_id)
    held = agent.current_call_id
    effects: tuple[Effect, ...] = ()
    if held is not None:
        effects = (CancelTimer(agent.id, TimerKind.WRAP_UP, held),)
    return _after_call(agent, now, *effects)
