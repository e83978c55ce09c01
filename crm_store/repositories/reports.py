"""What a supervisor's report reads for a period, aggregated in the database.

A month of a hospital's calls is tens of thousands of rows; the figures need only counts
and sums, so the queries group in SQL (by queue, by agent, by hour of the period) and
return small tallies instead of one object per call. The definitions the tallies serve
are in :mod:`screenpop.reports`.

Periods are ``[start, end)`` in UTC. Hours are counted from ``start`` (which the report
puts at a local midnight), so hour buckets line up with the hospital's clock in any zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from crm_store.enums import CallDirection, ComplaintStatus
from crm_store.models import (
    AcdCall,
    Call,
    Complaint,
    ComplaintStatusChange,
    IvrSession,
    IvrTurn,
    User,
)
from crm_store.repositories.dialer import DialerRepository, RefillView

#: IVR session outcomes (ivr/flows/engine.py) that are not "left the IVR".
IVR_COMPLETED = "completed"
IVR_TO_AGENT = "to_agent"
#: Refills read for one report at most (a year of a large hospital's cancellations).
MAX_REFILLS = 100_000


@dataclass(frozen=True)
class Tally:
    """Counts and sums of queued calls, from which every queue figure follows."""

    offered: int = 0
    answered: int = 0
    within_target: int = 0
    wait_sum_s: float = 0.0  # over answered calls
    handled: int = 0  # answered and ended
    handle_sum_s: float = 0.0  # over handled calls

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.offered + other.offered,
            self.answered + other.answered,
            self.within_target + other.within_target,
            self.wait_sum_s + other.wait_sum_s,
            self.handled + other.handled,
            self.handle_sum_s + other.handle_sum_s,
        )


@dataclass(frozen=True)
class IvrTally:
    sessions: int = 0  # calls that reached the IVR
    completed: int = 0  # finished there
    to_agent: int = 0  # passed on to a person
    left_at: dict[str, int] = field(default_factory=dict)  # hung up at this step ("?": none)


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows for ``[start, end)``, tallied."""

    start: dt.datetime
    end: dt.datetime
    target_s: float
    queue_targets: dict[str, float]  # queues whose target is not ``target_s``
    queues: dict[str, Tally]
    agents: dict[str, Tally]  # answered calls by the agent who answered
    hours: dict[int, Tally]  # by whole hours since ``start``
    calls_received: int  # inbound calls the CTI saw arrive
    ivr: IvrTally
    complaints_opened: int
    complaints_closed: int
    refills: list[RefillView]  # places freed in the period, with their offer calls


def _epoch_s(column: Any, dialect: str) -> ColumnElement[float]:
    """Seconds since 1970 of a stored UTC datetime (SQLite stores naive UTC text)."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", column), Float)
    return (func.julianday(column) - 2440587.5) * 86400.0


def _hour_index(column: Any, start: dt.datetime, dialect: str) -> ColumnElement[int]:
    """Whole hours from ``start`` (integer arithmetic, so a call at 10:00:00 is in 10-11)."""
    origin = int(start.timestamp())
    if dialect == "postgresql":
        whole_s = cast(func.floor(func.extract("epoch", column)), BigInteger)
    else:
        whole_s = cast(func.strftime("%s", column), BigInteger)
    # The period's rows are at or after ``start``, so integer division is floor division.
    return (whole_s - origin) // 3600


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def load(
        self,
        *,
        start: dt.datetime,
        end: dt.datetime,
        target_s: float,
        queue_targets: Mapping[str, float] | None = None,
    ) -> ReportData:
        """The tallies of ``[start, end)``; a call counts as answered in time within its
        queue's ``queue_targets`` seconds, else ``target_s``."""
        if end <= start:
            raise ValueError("the period must end after it starts")
        dialect = self.session.get_bind().dialect.name
        targets = dict(queue_targets or {})
        target: Any = case(targets, value=AcdCall.queue, else_=target_s) if targets else target_s
        # Two scans of the period's calls: by (queue, agent), folded both ways, and by hour.
        queues: dict[str, Tally] = {}
        agents: dict[str, Tally] = {}
        for (queue, agent), tally in self._tallies(
            (AcdCall.queue, AcdCall.answered_by), start, end, target, dialect
        ).items():
            queues[str(queue)] = queues.get(str(queue), Tally()) + tally
            if agent is not None and tally.answered:
                agents[str(agent)] = agents.get(str(agent), Tally()) + tally
        hour = _hour_index(AcdCall.queued_at, start, dialect)
        hours = self._tallies((hour,), start, end, target, dialect)
        refills = DialerRepository(self.session).refills(
            freed_since=start, freed_before=end, limit=MAX_REFILLS
        )
        return ReportData(
            start=start,
            end=end,
            target_s=target_s,
            queue_targets=targets,
            queues=queues,
            agents=agents,
            hours={int(k[0]): v for k, v in hours.items()},
            calls_received=self._calls_received(start, end),
            ivr=self._ivr(start, end),
            complaints_opened=self._complaints_opened(start, end),
            complaints_closed=self._complaints_closed(start, end),
            refills=refills,
        )

    def user_ids(self, usernames: Iterable[str]) -> dict[str, int]:
        """Console users by login (an ACD agent's id is their login)."""
        names = sorted(set(usernames))
        if not names:
            return {}
        rows = self.session.execute(select(User.username, User.id).where(User.username.in_(names)))
        return {name: user_id for name, user_id in rows}

    def _tallies(
        self,
        keys: tuple[Any, ...],
        start: dt.datetime,
        end: dt.datetime,
        target_s: Any,
        dialect: str,
    ) -> dict[tuple[Any, ...], Tally]:
        answered = AcdCall.answered_at.is_not(None)
        handled = and_(answered, AcdCall.ended_at.is_not(None))
        # wait_s is written with answered_at (computed in Python, exact — unlike a
        # difference of stored times on SQLite).
        handle = _epoch_s(AcdCall.ended_at, dialect) - _epoch_s(AcdCall.answered_at, dialect)
        query = (
            select(
                *keys,
                func.count(),
                func.count(AcdCall.answered_at),
                func.sum(case((and_(answered, AcdCall.wait_s <= target_s), 1), else_=0)),
                func.sum(case((answered, AcdCall.wait_s), else_=None)),
                func.sum(case((handled, 1), else_=0)),
                func.sum(case((handled, handle), else_=None)),
            )
            .where(AcdCall.queued_at >= start, AcdCall.queued_at < end)
            .group_by(*keys)
        )
        n = len(keys)
        return {
            tuple(row[:n]): Tally(
                offered=int(row[n]),
                answered=int(row[n + 1]),
                within_target=int(row[n + 2] or 0),
                wait_sum_s=float(row[n + 3] or 0.0),
                handled=int(row[n + 4] or 0),
                handle_sum_s=max(0.0, float(row[n + 5] or 0.0)),
            )
            for row in self.session.execute(query)
        }

    def _calls_received(self, start: dt.datetime, end: dt.datetime) -> int:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(Call)
                .where(
                    Call.direction == CallDirection.INBOUND,
                    Call.arrived_at >= start,
                    Call.arrived_at < end,
                )
            )
            or 0
        )

    def _ivr(self, start: dt.datetime, end: dt.datetime) -> IvrTally:
        in_period = and_(IvrSession.started_at >= start, IvrSession.started_at < end)
        sessions, completed, to_agent = self.session.execute(
            select(
                func.count(),
                func.sum(case((IvrSession.outcome == IVR_COMPLETED, 1), else_=0)),
                func.sum(case((IvrSession.outcome == IVR_TO_AGENT, 1), else_=0)),
            ).where(in_period)
        ).one()
        # Where the callers who hung up were: the step of each such session's last turn.
        last = aliased(IvrTurn)
        latest = aliased(IvrTurn)
        last_seq = (
            select(func.max(latest.seq))
            .where(latest.session_id == IvrSession.id)
            .correlate(IvrSession)
            .scalar_subquery()
        )
        step = func.coalesce(last.step, "?")
        left = self.session.execute(
            select(step, func.count())
            .select_from(IvrSession)
            .outerjoin(last, and_(last.session_id == IvrSession.id, last.seq == last_seq))
            .where(
                in_period,
                IvrSession.ended_at.is_not(None),
                or_(
                    IvrSession.outcome.is_(None),
                    IvrSession.outcome.not_in((IVR_COMPLETED, IVR_TO_AGENT)),
                ),
            )
            .group_by(step)
        )
        return IvrTally(
            sessions=int(sessions),
            completed=int(completed or 0),
            to_agent=int(to_agent or 0),
            left_at={str(s): int(n) for s, n in sorted(left, key=lambda r: (-r[1], r[0]))},
        )

    def _complaints_opened(self, start: dt.datetime, end: dt.datetime) -> int:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(Complaint)
                .where(Complaint.created_at >= start, Complaint.created_at < end)
            )
            or 0
        )

    def _complaints_closed(self, start: dt.datetime, end: dt.datetime) -> int:
        """Complaints closed in the period (one closed, reopened and closed again in it
        counts once)."""
        return (
            self.session.scalar(
                select(func.count(func.distinct(ComplaintStatusChange.complaint_id))).where(
                    ComplaintStatusChange.to_status == ComplaintStatus.CLOSED,
                    ComplaintStatusChange.changed_at >= start,
                    ComplaintStatusChange.changed_at < end,
                )
            )
            or 0
        )
