"""IVR sessions and their turns: what was asked, what was heard, what was done."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_store.models import Call, IvrSession, IvrTurn, utcnow
from crm_store.repositories.calls import storable_text


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
        call_id = self.session.scalar(select(Call.id).where(Call.linkedid == linkedid))
        ivr = IvrSession(
            call_id=call_id,
            linkedid=linkedid,
            flow=flow,
            # a str enum (PreferredLanguage) is stored by its value, like the code it is
            language=language.value if isinstance(language, enum.Enum) else language,
            patient_id=patient_id,
            started_at=now or utcnow(),
        )
        self.session.add(ivr)
        self.session.flush()
        return ivr.id

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
        seq = (
            self.session.scalar(
                select(func.max(IvrTurn.seq)).where(IvrTurn.session_id == session_id)
            )
            or 0
        ) + 1
        self.session.add(
            IvrTurn(
                session_id=session_id,
                seq=seq,
                step=step,
                prompt=prompt,
                heard=storable_text(heard),
                dtmf=dtmf,
                confidence=confidence,
                chosen_action=chosen_action,
                duration_ms=duration_ms,
                started_at=now or utcnow(),
            )
        )
        self.session.flush()
        return seq

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
        values: dict[str, object] = {"ended_at": now or utcnow(), "outcome": outcome}
        if findings is not None:
            values["findings"] = dict(findings)
        if identity_verified is not None:
            values["identity_verified"] = identity_verified
        if patient_id is not None:
            values["patient_id"] = patient_id
        self.session.execute(
            update(IvrSession)
            .where(IvrSession.id == session_id)
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
