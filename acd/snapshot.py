"""What the ACD holds right now, as plain immutable values (for the wallboard and any
other reader): queues, agents, callers waiting and the calls agents hold.

A snapshot is taken by :meth:`acd.service.AcdService.snapshot` in one step on the event
loop, so its parts agree with each other; it never changes afterwards."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from acd.model import Agent, Queue, WaitingCall


class HeldPhase(str, enum.Enum):
    RINGING = "ringing"  # offered, the agent's phone rings
    TALKING = "talking"  # answered: caller and agent talk


@dataclass(frozen=True, slots=True)
class HeldCall:
    """A call an agent holds. ``since`` is when the phase began (the agent's state
    change): for a talking call, the moment the agent answered."""

    call_id: str
    queue: str
    agent_id: str
    phase: HeldPhase
    enqueued_at: dt.datetime
    since: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AcdSnapshot:
    taken_at: dt.datetime
    queues: tuple[Queue, ...]
    agents: tuple[Agent, ...]  # by id
    waiting: tuple[WaitingCall, ...]  # longest waiting first
    held: tuple[HeldCall, ...]  # by agent id
