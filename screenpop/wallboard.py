"""The wallboard's figures, computed from the ACD's live state and today's call rows (pure).

Definitions (so a supervisor can check them against Asterisk and the ``acd_calls`` rows):

* *today* — since midnight in the hospital's time zone;
* calls waiting, longest wait — callers parked for an agent now (from the ACD's state);
  the longest wait counts from when the caller first joined a queue;
* answered / abandoned today — rows of calls that entered the queue today and were
  answered / hung up before an agent answered;
* service level today — of today's calls that were answered or abandoned, the share
  answered within the queue's ``service_level_target_s``; callers still waiting do not
  count yet (None when no call finished waiting). The report for today
  (:mod:`screenpop.reports`) divides by every call queued, so there a caller still
  waiting already counts against it (and as abandoned); with nobody waiting, and every
  unanswered caller marked abandoned, the two agree;
* agents available — logged-in agents in the AVAILABLE state who may take the queue's
  calls (skill and language at the queue's minimum levels); *staffed* counts every
  logged-in agent who may;
* calls handled today (per agent) — rows answered today by that agent.

The view holds moments, never durations: clocks ("waiting for", "in state for",
"talking for") tick in the browser, so the server pushes only when something changed —
two views are equal exactly when the board would look the same.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from acd.model import Agent, AgentState, Queue
from acd.snapshot import AcdSnapshot, HeldPhase
from crm_store.repositories.acd import AcdCallRecord
from screenpop.i18n import Translator

#: The share of calls to answer within the target (the classic 80/20 when the target is 20 s).
DEFAULT_SERVICE_LEVEL_GOAL = 0.80


@dataclass(frozen=True)
class QueueTile:
    name: str
    waiting: int
    longest_waiting_since: dt.datetime | None
    target_s: float
    answered_today: int
    answered_within_target: int
    abandoned_today: int
    service_level: float | None  # 0..1
    service_level_goal: float
    agents_available: int
    agents_staffed: int

    def longest_wait_s(self, now: dt.datetime) -> float:
        if self.longest_waiting_since is None:
            return 0.0
        return max(0.0, (now - self.longest_waiting_since).total_seconds())

    def wait_over_target(self, now: dt.datetime) -> bool:
        """Someone has waited longer than the queue's target (shown as an alarm)."""
        return self.longest_wait_s(now) > self.target_s

    @property
    def service_level_low(self) -> bool:
        return self.service_level is not None and self.service_level < self.service_level_goal


@dataclass(frozen=True)
class AgentTile:
    agent_id: str
    state: AgentState
    since: dt.datetime | None
    pause_reason: str | None
    handled_today: int


@dataclass(frozen=True)
class CallInProgress:
    call_id: str
    queue: str
    agent_id: str
    phase: HeldPhase
    since: dt.datetime | None  # answered (talking) or offered (ringing)


@dataclass(frozen=True)
class WallboardView:
    acd_running: bool
    day: dt.date
    queues: tuple[QueueTile, ...]
    agents: tuple[AgentTile, ...]
    calls: tuple[CallInProgress, ...]

    def queue(self, name: str) -> QueueTile:
        return next(q for q in self.queues if q.name == name)

    def agent(self, agent_id: str) -> AgentTile:
        return next(a for a in self.agents if a.agent_id == agent_id)

    def to_json(self, t: Translator) -> dict[str, Any]:
        """The wire form (also rendered into the page): ISO moments for the browser's clocks."""
        return {
            "type": "wallboard",
            "acd_running": self.acd_running,
            "day": self.day.isoformat(),
            "queues": [
                {
                    "name": q.name,
                    "waiting": q.waiting,
                    "longest_since": _iso(q.longest_waiting_since),
                    "target_s": q.target_s,
                    "answered": q.answered_today,
                    "within_target": q.answered_within_target,
                    "abandoned": q.abandoned_today,
                    "service_level": q.service_level,
                    "service_level_text": percent(q.service_level),
                    "service_level_goal": q.service_level_goal,
                    "service_level_low": q.service_level_low,
                    "available": q.agents_available,
                    "staffed": q.agents_staffed,
                }
                for q in self.queues
            ],
            "agents": [
                {
                    "id": a.agent_id,
                    "state": a.state.value,
                    "state_label": t(f"wb_state_{a.state.value}"),
                    "since": _iso(a.since),
                    "pause_reason": a.pause_reason,
                    "handled": a.handled_today,
                }
                for a in self.agents
            ],
            "calls": [
                {
                    "id": c.call_id,
                    "queue": c.queue,
                    "agent": c.agent_id,
                    "phase": c.phase.value,
                    "phase_label": t(f"wb_phase_{c.phase.value}"),
                    "since": _iso(c.since),
                }
                for c in self.calls
            ],
        }


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def day_start(now: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Midnight (in ``zone``) of the day ``now`` falls in, as an aware datetime."""
    local = now.astimezone(zone)
    return dt.datetime.combine(local.date(), dt.time(), tzinfo=zone)


def next_day_start(now: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    start = day_start(now, zone)
    tomorrow = start.date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(), tzinfo=zone)


def _serves(agent: Agent, queue: Queue) -> bool:
    return agent.can_serve(
        queue.skill, queue.language, queue.min_skill_level, queue.min_language_level
    )


def queue_tile(
    queue: Queue,
    snapshot: AcdSnapshot,
    records: Sequence[AcdCallRecord],
    *,
    since: dt.datetime,
    goal: float,
) -> QueueTile:
    """One queue's figures: live ones from ``snapshot``, today's from ``records``."""
    waiting = [c for c in snapshot.waiting if c.queue == queue.name]
    today = [r for r in records if r.queue == queue.name and r.queued_at >= since]
    waits = [
        (r.answered_at - r.queued_at).total_seconds() for r in today if r.answered_at is not None
    ]
    abandoned = [r for r in today if r.answered_at is None and r.abandoned]
    within = sum(1 for w in waits if w <= queue.service_level_target_s)
    finished = len(waits) + len(abandoned)
    staffed = [
        a for a in snapshot.agents if a.state is not AgentState.LOGGED_OUT and _serves(a, queue)
    ]
    return QueueTile(
        name=queue.name,
        waiting=len(waiting),
        longest_waiting_since=min((c.enqueued_at for c in waiting), default=None),
        target_s=queue.service_level_target_s,
        answered_today=len(waits),
        answered_within_target=within,
        abandoned_today=len(abandoned),
        service_level=within / finished if finished else None,
        service_level_goal=goal,
        agents_available=sum(1 for a in staffed if a.state is AgentState.AVAILABLE),
        agents_staffed=len(staffed),
    )


def build_view(
    snapshot: AcdSnapshot | None,
    records: Iterable[AcdCallRecord],
    *,
    zone: dt.tzinfo,
    now: dt.datetime,
    goal: float = DEFAULT_SERVICE_LEVEL_GOAL,
) -> WallboardView:
    """The wallboard at ``now``. Without an ACD (``snapshot`` None) the board is empty and
    says so; the call rows alone cannot tell who is waiting."""
    since = day_start(now, zone)
    day = since.date()
    if snapshot is None:
        return WallboardView(False, day, (), (), ())
    rows = list(records)
    handled = Counter(
        r.answered_by
        for r in rows
        if r.answered_by is not None and r.answered_at is not None and r.answered_at >= since
    )
    return WallboardView(
        acd_running=True,
        day=day,
        queues=tuple(
            queue_tile(q, snapshot, rows, since=since, goal=goal) for q in snapshot.queues
        ),
        agents=tuple(
            AgentTile(
                agent_id=a.id,
                state=a.state,
                since=a.state_since,
                pause_reason=a.pause_reason if a.state is AgentState.PAUSED else None,
                handled_today=handled[a.id],
            )
            for a in snapshot.agents
        ),
        calls=tuple(
            CallInProgress(c.call_id, c.queue, c.agent_id, c.phase, c.since) for c in snapshot.held
        ),
    )
