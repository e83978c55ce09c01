"""IVR sessions and their turns: what was asked, what was heard, what was done."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from crm_store.models import Call, IvrSession, IvrTurn, utcnow
from crm_store.repositories.calls import storable_text


@dataclass(frozen=True, slots=True)
class TurnRow:
    """One IVR turn to store: the prompt, what was heard or keyed, what was done."""

    step: str
    prompt: str | None = None
    heard: str | None = None
    dtmf: str | None = None
    confidence: float | None = None
    chosen_action: str | None = None
    duration_ms: int | None = None
    started_at: dt.datetime | None = None  # default: when stored


@dataclass(frozen=True, slots=True)
class NumberedTurn:
    """A turn with its session and its number in it (1, 2, ...)."""

    session_id: int
    seq: int
    turn: TurnRow


@dataclass(frozen=True, slots=True)
class SessionStart:
    """An IVR session to open (see :meth:`IvrRepository.start_session`)."""

    linkedid: str
    flow: str
    language: str
    patient_id: int | None = None
    started_at: dt.datetime | None = None  # default: when stored


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """How an IVR session ended (see :meth:`IvrRepository.end_session`)."""

    session_id: int
    outcome: str
    identity_verified: bool | None = None
    patient_id: int | None = None
    findings: Mapping[str, Any] | None = None
    ended_at: dt.datetime | None = None  # default: when stored


class IvrRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def start_session(
        self,
        *,
        linkedid: str,
        flow: str,
        language: str,
        patient_id: int | None = None,
        now: dt.datetime | None = None,
    ) -> int:
        """Open an IVR session for a call (linked to the stored call when there is one);
        returns its id. ``language``: the flow language the caller is served in (a
        ``dialplans/ivr/`` directory name: ``zh``, ``en``, the Korean test flow's ``ko``)."""
        language = language.value if isinstance(language, enum.Enum) else language
        return self.start_sessions([SessionStart(linkedid, flow, language, patient_id, now)])[0]

    def start_sessions(self, starts: Sequence[SessionStart]) -> list[int]:
        """Open several sessions in one statement; their ids, in the same order."""
        if not starts:
            return []
        connection = self.session.connection()
        linkedids = {start.linkedid for start in starts}
        call_ids: dict[str, int] = {
            linkedid: call_id
            for linkedid, call_id in connection.execute(
                select(Call.linkedid, Call.id).where(Call.linkedid.in_(linkedids))
            )
        }
        now = utcnow()
        rows = connection.execute(
            insert(IvrSession).returning(IvrSession.id, sort_by_parameter_order=True),
            [
                {
                    "call_id": call_ids.get(start.linkedid),
                    "linkedid": start.linkedid,
                    "flow": start.flow,
                    # a str enum (PreferredLanguage) is stored by its value, like the code
                    "language": start.language,
                    "patient_id": start.patient_id,
                    "identity_verified": False,
                    "started_at": start.started_at or now,
                }
                for start in starts
            ],
        )
        return [row[0] for row in rows]

    def add_turn(
        self,
        session_id: int,
        *,
        step: str,
        prompt: str | None = None,
        heard: str | None = None,
        dtmf: str | None = None,
        confidence: float | None = None,
        chosen_action: str | None = None,
        duration_ms: int | None = None,
        now: dt.datetime | None = None,
    ) -> int:
        """Append a turn (numbered 1, 2, ... within the session); returns its number."""
        turn = TurnRow(step, prompt, heard, dtmf, confidence, chosen_action, duration_ms, now)
        return self.add_turns(session_id, [turn])

    def add_turns(self, session_id: int, turns: Sequence[TurnRow]) -> int:
        """Append turns in order, numbered on from the session's last; returns the last
        number."""
        last = (
            self.session.connection().scalar(
                select(func.max(IvrTurn.seq)).where(IvrTurn.session_id == session_id)
            )
            or 0
        )
        self.add_numbered_turns(
            [NumberedTurn(session_id, last + n, turn) for n, turn in enumerate(turns, start=1)]
        )
        return last + len(turns)

    def add_numbered_turns(self, turns: Sequence[NumberedTurn]) -> None:
        """Store turns whose sessions and numbers the caller knows (the IVR's journal
        numbers each session's turns itself): one insert for every call's rows."""
        if not turns:
            return
        now = utcnow()
        # Core on the session's connection: the ORM's bulk path costs as much again.
        self.session.connection().execute(
            insert(IvrTurn),
            [
                {
                    "session_id": numbered.session_id,
                    "seq": numbered.seq,
                    "step": numbered.turn.step,
                    "prompt": numbered.turn.prompt,
                    "heard": storable_text(numbered.turn.heard),
                    "dtmf": numbered.turn.dtmf,
                    "confidence": numbered.turn.confidence,
                    "chosen_action": numbered.turn.chosen_action,
                    "duration_ms": numbered.turn.duration_ms,
                    "started_at": numbered.turn.started_at or now,
                }
                for numbered in turns
            ],
        )

    def end_session(
        self,
        session_id: int,
        *,
        outcome: str,
        identity_verified: bool | None = None,
        patient_id: int | None = None,
        findings: Mapping[str, Any] | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        """Close a session with its outcome (e.g. booked, to_agent, hangup) and what the
        IVR learnt (``findings``: plain JSON values, nothing sensitive)."""
        self.end_sessions(
            [SessionEnd(session_id, outcome, identity_verified, patient_id, findings, now)]
        )

    def end_sessions(self, ends: Sequence[SessionEnd]) -> None:
        """Close several sessions (a statement each: they set different columns)."""
        now = utcnow()
        for end in ends:
            values: dict[str, object] = {"ended_at": end.ended_at or now, "outcome": end.outcome}
            if end.findings is not None:
                values["findings"] = dict(end.findings)
            if end.identity_verified is not None:
                values["identity_verified"] = end.identity_verified
            if end.patient_id is not None:
                values["patient_id"] = end.patient_id
            self.session.execute(
                update(IvrSession)
                .where(IvrSession.id == end.session_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    def findings_of(self, linkedids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored findings of each call's latest IVR session that has them, by the
        call's linkedid (calls without any are left out)."""
        keys = list(linkedids)
        if not keys:
            return {}
        rows = self.session.execute(
            select(IvrSession.linkedid, IvrSession.findings)
            .where(IvrSession.linkedid.in_(keys), IvrSession.findings.is_not(None))
            .order_by(IvrSession.started_at, IvrSession.id)
        )
        return {linkedid: dict(findings) for linkedid, findings in rows if findings}

    def turns(self, session_id: int) -> list[IvrTurn]:
        """The session's turns in order (ORM rows, read-only use)."""
        return list(
            self.session.scalars(
                select(IvrTurn).where(IvrTurn.session_id == session_id).order_by(IvrTurn.seq)
            )
        )
