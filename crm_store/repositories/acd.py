"""The ACD's rows: agents' last state (pause reasons survive a restart) and each caller's
path through the queue (queued, offered, answered, wait, abandoned)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from acd.model import AgentState
from crm_store.enums import CallDisposition
from crm_store.errors import AcdCallNotFound
from crm_store.models import AcdAgentState, AcdCall


@dataclass(frozen=True)
class SavedAgentState:
    agent_key: str
    state: AgentState
    pause_reason: str | None
    since: dt.datetime


@dataclass(frozen=True)
class AcdCallRecord:
    call_key: str
    queue: str
    priority: str
    patient_id: int | None
    queued_at: dt.datetime
    offers: int
    offered_to: str | None
    answered_by: str | None
    answered_at: dt.datetime | None
    wait_s: float | None
    abandoned: bool
    ended_at: dt.datetime | None
    callback_number: str | None = None
    callback_requested_at: dt.datetime | None = None
    callback_placed_at: dt.datetime | None = None
    callback_attempts: int = 0
    callback_outcome: str | None = None
    overflow_reason: str | None = None
    overflow_target: str | None = None
    expected_wait_told_s: float | None = None
    wait_after_told_s: float | None = None


@dataclass(frozen=True)
class PendingCallback:
    """A callback asked for and not yet connected or given up (to restore after a restart)."""

    call_key: str
    queue: str
    priority: str
    patient_id: int | None
    queued_at: dt.datetime
    number: str
    attempts: int


class AcdRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- agents --------------------------------------------------------------------

    def save_agent_state(
        self, agent_key: str, state: AgentState, pause_reason: str | None, since: dt.datetime
    ) -> None:
        row = self.session.get(AcdAgentState, agent_key)
        if row is None:
            row = AcdAgentState(agent_key=agent_key)
            self.session.add(row)
        row.state = state
        row.pause_reason = pause_reason
        row.since = since

    def agent_states(self) -> dict[str, SavedAgentState]:
        rows = self.session.scalars(select(AcdAgentState))
        return {
            r.agent_key: SavedAgentState(r.agent_key, r.state, r.pause_reason, r.since)
            for r in rows
        }

    # -- calls ---------------------------------------------------------------------

    def call_queued(
        self,
        call_key: str,
        *,
        queue: str,
        priority: str,
        patient_id: int | None,
        at: dt.datetime,
    ) -> None:
        if self.session.get(AcdCall, call_key) is not None:
            return  # queued once; a re-queue after an unanswered ring keeps the first time
        self.session.add(
            AcdCall(
                call_key=call_key,
                queue=queue,
                priority=priority,
                patient_id=patient_id,
                queued_at=at,
                offers=0,
                abandoned=False,
            )
        )

    def call_offered(self, call_key: str, agent_key: str, at: dt.datetime | None = None) -> None:
        row = self._call(call_key)
        if row is not None:
            row.offers += 1
            row.offered_to = agent_key
            told_at = row.expected_wait_told_at
            if at is not None and told_at is not None and row.wait_after_told_s is None:
                row.wait_after_told_s = (at - told_at).total_seconds()

    def wait_told(self, call_key: str, expected_wait_s: float, at: dt.datetime) -> None:
        """The caller was told to expect ``expected_wait_s``; the first estimate is kept
        (it is what the caller planned by) and compared with the wait until the offer."""
        row = self._call(call_key)
        if row is not None and row.expected_wait_told_s is None:
            row.expected_wait_told_s = expected_wait_s
            row.expected_wait_told_at = at

    def callback_requested(self, call_key: str, number: str, at: dt.datetime) -> None:
        row = self._call(call_key)
        if row is not None:
            row.callback_number = number
            row.callback_requested_at = at

    def callback_placed(self, call_key: str, at: dt.datetime) -> None:
        row = self._call(call_key)
        if row is not None:
            row.callback_placed_at = at

    def callback_result(self, call_key: str, outcome: str, attempts: int) -> None:
        row = self._call(call_key)
        if row is not None:
            row.callback_outcome = outcome
            row.callback_attempts = attempts

    def call_overflowed(self, call_key: str, reason: str, target: str, *, to_queue: bool) -> None:
        """The caller left their queue by its overflow rule: to queue ``target`` (the row
        follows them there) or to message ``target``."""
        row = self._call(call_key)
        if row is not None:
            row.overflow_reason = reason
            row.overflow_target = target
            if to_queue:
                row.queue = target

    def pending_callbacks(self, since: dt.datetime) -> list[PendingCallback]:
        """Callbacks requested by callers queued since ``since`` that were neither connected
        nor given up, oldest first (their order in the queue)."""
        rows = self.session.scalars(
            select(AcdCall)
            .where(
                AcdCall.queued_at >= since,
                AcdCall.callback_number.is_not(None),
                or_(AcdCall.callback_outcome.is_(None), AcdCall.callback_outcome == "not_reached"),
            )
            .order_by(AcdCall.queued_at, AcdCall.call_key)
        )
        return [
            PendingCallback(
                r.call_key,
                r.queue,
                r.priority,
                r.patient_id,
                r.queued_at,
                r.callback_number or "",
                r.callback_attempts,
            )
            for r in rows
        ]

    def told_waits(self, start: dt.datetime, end: dt.datetime) -> list[tuple[float, float]]:
        """``(told_s, actual_s)`` of the calls queued in ``[start, end)`` that were told an
        expected wait and then offered to an agent."""
        rows = self.session.execute(
            select(AcdCall.expected_wait_told_s, AcdCall.wait_after_told_s).where(
                AcdCall.queued_at >= start,
                AcdCall.queued_at < end,
                AcdCall.expected_wait_told_s.is_not(None),
                AcdCall.wait_after_told_s.is_not(None),
            )
        )
        return [
            (float(told), float(actual))
            for told, actual in rows
            if told is not None and actual is not None
        ]

    def call_answered(self, call_key: str, agent_key: str, at: dt.datetime) -> None:
        row = self._call(call_key)
        if row is not None:
            row.answered_by = agent_key
            row.answered_at = at
            row.wait_s = (at - row.queued_at).total_seconds()

    def call_abandoned(self, call_key: str, at: dt.datetime) -> None:
        row = self._call(call_key)
        if row is not None:
            row.abandoned = True
            row.ended_at = at
            row.wait_s = (at - row.queued_at).total_seconds()

    def call_ended(self, call_key: str, at: dt.datetime) -> None:
        row = self._call(call_key)
        if row is not None:
            row.ended_at = at

    def get_call(self, call_key: str) -> AcdCallRecord | None:
        r = self._call(call_key)
        return None if r is None else _record(r)

    def calls_touching(self, since: dt.datetime) -> list[AcdCallRecord]:
        """Calls queued, answered or ended at or after ``since`` (a day's figures need
        the calls of the day, and those that began before and ended within it)."""
        rows = self.session.scalars(
            select(AcdCall)
            .where(
                (AcdCall.queued_at >= since)
                | (AcdCall.answered_at >= since)
                | (AcdCall.ended_at >= since)
            )
            .order_by(AcdCall.queued_at, AcdCall.call_key)
        )
        return [_record(r) for r in rows]

    def calls(self, call_keys: Iterable[str]) -> list[AcdCallRecord]:
        """These calls' rows (those that exist)."""
        keys = list(call_keys)
        if not keys:
            return []
        rows = self.session.scalars(select(AcdCall).where(AcdCall.call_key.in_(keys)))
        return [_record(r) for r in rows]

    def wrap_up(
        self,
        call_key: str,
        *,
        agent_key: str,
        disposition: CallDisposition,
        notes: str | None,
        at: dt.datetime,
    ) -> None:
        """The agent's disposition and notes for a call they took (written again if the
        agent corrects them). AcdCallNotFound when the ACD never queued this call."""
        row = self._call(call_key)
        if row is None:
            raise AcdCallNotFound(call_key)
        row.disposition = disposition.value
        row.agent_notes = notes
        row.wrapped_up_by = agent_key
        row.wrapped_up_at = at

    def attach_patient(self, call_key: str, patient_id: int) -> bool:
        """The agent verified the unknown caller of this call as ``patient_id``. False
        when the ACD never queued the call."""
        row = self._call(call_key)
        if row is None:
            return False
        row.patient_id = patient_id
        return True

    def _call(self, call_key: str) -> AcdCall | None:
        return self.session.get(AcdCall, call_key)


def _record(r: AcdCall) -> AcdCallRecord:
    return AcdCallRecord(
        r.call_key,
        r.queue,
        r.priority,
        r.patient_id,
        r.queued_at,
        r.offers,
        r.offered_to,
        r.answered_by,
        r.answered_at,
        r.wait_s,
        r.abandoned,
        r.ended_at,
        r.callback_number,
        r.callback_requested_at,
        r.callback_placed_at,
        r.callback_attempts,
        r.callback_outcome,
        r.overflow_reason,
        r.overflow_target,
        r.expected_wait_told_s,
        r.wait_after_told_s,
    )
