"""IVR sessions and their turns to the store, every call's rows batched together.

A keypad call stores a session, a row per turn and the session's end: at hundreds of
concurrent calls, a transaction each was half of Hotline's CPU. The journal queues them
and a :class:`~crm_store.write_batcher.WriteBatcher` stores whatever every call queued
within 50 ms in one transaction (sessions opened, then turns, then ends, in the order
they came). A session's turns are numbered here, so no row has to read its session's
last number first. The prompt never waits for its row; a session's end does (its
findings feed the screen pop), and a row a failed transaction held is retried, not lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from crm_store.gateway import StoreGateway
from crm_store.models import utcnow
from crm_store.repositories.ivr import (
    IvrRepository,
    NumberedTurn,
    SessionEnd,
    SessionStart,
    TurnRow,
)
from crm_store.write_batcher import WriteBatcher


@dataclass(eq=False)
class JournalledSession:
    """One call's IVR session as the journal knows it (its id once stored)."""

    start: SessionStart
    id: int | None = None
    turns: int = 0  # numbered so far


@dataclass(frozen=True, slots=True)
class _Opened:
    session: JournalledSession


@dataclass(frozen=True, slots=True)
class _Turns:
    session: JournalledSession
    first_seq: int
    rows: tuple[TurnRow, ...]


@dataclass(frozen=True, slots=True)
class _Ended:
    session: JournalledSession
    end: SessionEnd  # session_id is filled in when written


_Entry = _Opened | _Turns | _Ended


class IvrJournal:
    """Opens, extends and ends IVR sessions in the store, batched across calls."""

    def __init__(self, store: StoreGateway, *, max_delay_s: float = 0.05) -> None:
        self._batcher: WriteBatcher[_Entry] = WriteBatcher(
            store, self._write, name="ivr-journal", max_delay_s=max_delay_s
        )

    def start(self) -> None:
        self._batcher.start()

    async def close(self) -> None:
        await self._batcher.close()

    async def flush(self) -> None:
        await self._batcher.flush()

    def open(
        self, *, linkedid: str, flow: str, language: str, patient_id: int | None
    ) -> JournalledSession:
        """Queue a new session (stored with the next batch) and return its handle."""
        session = JournalledSession(SessionStart(linkedid, flow, language, patient_id, utcnow()))
        self._batcher.enqueue(_Opened(session))
        return session

    def add_turns(
        self, session: JournalledSession, rows: Sequence[TurnRow]
    ) -> asyncio.Future[None]:
        """Queue turns, numbered on from the session's last; done once stored."""
        now = utcnow()
        stamped = tuple(
            row if row.started_at else dataclasses.replace(row, started_at=now) for row in rows
        )
        entry = _Turns(session, session.turns + 1, stamped)
        session.turns += len(rows)
        return self._batcher.enqueue(entry)

    async def end(
        self,
        session: JournalledSession,
        *,
        outcome: str,
        identity_verified: bool | None,
        patient_id: int | None,
        findings: Mapping[str, Any] | None,
    ) -> None:
        """Queue the session's end and wait until it (and all before it) is stored."""
        end = SessionEnd(0, outcome, identity_verified, patient_id, findings, utcnow())
        await self._batcher.enqueue(_Ended(session, end))

    @staticmethod
    def _write(db: Session, entries: Sequence[_Entry]) -> None:
        repository = IvrRepository(db)
        opened = [e.session for e in entries if isinstance(e, _Opened)]
        for session, row_id in zip(
            opened, repository.start_sessions([s.start for s in opened]), strict=True
        ):
            # Set in the store's thread; read only after this batch's write is awaited.
            session.id = row_id
        repository.add_numbered_turns(
            [
                NumberedTurn(_id_of(e.session), e.first_seq + n, row)
                for e in entries
                if isinstance(e, _Turns)
                for n, row in enumerate(e.rows)
            ]
        )
        repository.end_sessions(
            [
                SessionEnd(
                    _id_of(e.session),
                    e.end.outcome,
                    e.end.identity_verified,
                    e.end.patient_id,
                    e.end.findings,
                    e.end.ended_at,
                )
                for e in entries
                if isinstance(e, _Ended)
            ]
        )


def _id_of(session: JournalledSession) -> int:
    if session.id is None:  # its _Opened entry is always written first
        raise RuntimeError(f"IVR session of {session.start.linkedid} was never stored")
    return session.id
