"""The recordings index: one row per recording file, kept (as a trace) after deletion."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_store.enums import RecordingStatus
from crm_store.errors import InvalidRecord
from crm_store.models import AcdCall, Agent, Call, Patient, Recording, User


@dataclass(frozen=True)
class RecordingView:
    id: int
    call_id: int | None
    agent_id: int | None
    patient_id: int | None
    queue: str | None
    channel_uniqueid: str | None
    path: str
    duration_s: float
    size_bytes: int
    checksum_sha256: str
    started_at: dt.datetime
    retain_until: dt.datetime
    deleted_at: dt.datetime | None
    status: RecordingStatus
    checked_at: dt.datetime | None


@dataclass(frozen=True)
class NewRecording:
    path: str
    duration_s: float
    size_bytes: int
    checksum_sha256: str
    started_at: dt.datetime
    retain_until: dt.datetime
    status: RecordingStatus
    checked_at: dt.datetime
    call_id: int | None = None
    agent_id: int | None = None
    patient_id: int | None = None
    queue: str | None = None
    channel_uniqueid: str | None = None


def _view(row: Recording) -> RecordingView:
    return RecordingView(
        id=row.id,
        call_id=row.call_id,
        agent_id=row.agent_id,
        patient_id=row.patient_id,
        queue=row.queue,
        channel_uniqueid=row.channel_uniqueid,
        path=row.path,
        duration_s=row.duration_s,
        size_bytes=row.size_bytes,
        checksum_sha256=row.checksum_sha256,
        started_at=row.started_at,
        retain_until=row.retain_until,
        deleted_at=row.deleted_at,
        status=row.status,
        checked_at=row.checked_at,
    )


@dataclass(frozen=True)
class RecordingSearch:
    """What a supervisor may search recordings by (all optional, combined with AND)."""

    started_from: dt.datetime | None = None
    started_before: dt.datetime | None = None
    agent_id: int | None = None
    queue: str | None = None
    patient_mrn: str | None = None
    #: The agent's disposition on the call (acd_calls, by the caller's uniqueid).
    disposition: str | None = None
    limit: int = 200


@dataclass(frozen=True)
class RecordingListing:
    recording: RecordingView
    patient_name: str | None
    patient_mrn: str | None
    agent_name: str | None
    disposition: str | None = None


@dataclass(frozen=True)
class RecordingLinks:
    """The index's keys of a call the ACD bridged: its call record and its agent."""

    call_id: int | None
    agent_id: int | None


class RecordingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, new: NewRecording) -> int:
        if len(new.checksum_sha256) != 64:
            raise InvalidRecord("checksum_sha256", "a SHA-256 is 64 hex digits")
        row = Recording(
            call_id=new.call_id,
            agent_id=new.agent_id,
            patient_id=new.patient_id,
            queue=new.queue,
            channel_uniqueid=new.channel_uniqueid,
            path=new.path,
            format="wav",
            duration_s=new.duration_s,
            size_bytes=new.size_bytes,
            checksum_sha256=new.checksum_sha256,
            started_at=new.started_at,
            retain_until=new.retain_until,
            status=new.status,
            checked_at=new.checked_at,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def get(self, recording_id: int) -> RecordingView | None:
        row = self.session.get(Recording, recording_id)
        return None if row is None else _view(row)

    def live(self, *, limit: int = 1000) -> list[RecordingView]:
        """Recordings not deleted, oldest first (what a verification sweep walks)."""
        query = (
            select(Recording)
            .where(Recording.deleted_at.is_(None))
            .order_by(Recording.id)
            .limit(limit)
        )
        return [_view(row) for row in self.session.scalars(query)]

    def search(self, criteria: RecordingSearch) -> list[RecordingListing]:
        """Live (not deleted) recordings matching ``criteria``, newest first."""
        query = (
            select(
                Recording, Patient.full_name, Patient.mrn, User.display_name, AcdCall.disposition
            )
            .outerjoin(Patient, Patient.id == Recording.patient_id)
            .outerjoin(Agent, Agent.id == Recording.agent_id)
            .outerjoin(User, User.id == Agent.user_id)
            .outerjoin(AcdCall, AcdCall.call_key == Recording.channel_uniqueid)
            .where(Recording.deleted_at.is_(None))
        )
        if criteria.started_from is not None:
            query = query.where(Recording.started_at >= criteria.started_from)
        if criteria.started_before is not None:
            query = query.where(Recording.started_at < criteria.started_before)
        if criteria.agent_id is not None:
            query = query.where(Recording.agent_id == criteria.agent_id)
        if criteria.queue:
            query = query.where(Recording.queue == criteria.queue)
        if criteria.patient_mrn:
            query = query.where(Patient.mrn == criteria.patient_mrn)
        if criteria.disposition:
            query = query.where(AcdCall.disposition == criteria.disposition)
        query = query.order_by(Recording.started_at.desc(), Recording.id.desc()).limit(
            max(1, min(criteria.limit, 1000))
        )
        return [
            RecordingListing(_view(row), name, mrn, agent, disposition)
            for row, name, mrn, agent, disposition in self.session.execute(query)
        ]

    def links(self, *, linkedid: str, agent_username: str) -> RecordingLinks:
        """The call record (by Asterisk linkedid) and the agent (by the ACD's agent id,
        which is the agent's username) a recording is indexed on; None where unknown."""
        call_id = self.session.scalar(select(Call.id).where(Call.linkedid == linkedid))
        agent_id = self.session.scalar(
            select(Agent.id)
            .join(User, User.id == Agent.user_id)
            .where(User.username == agent_username)
        )
        return RecordingLinks(call_id=call_id, agent_id=agent_id)

    def due_for_deletion(self, now: dt.datetime, *, limit: int = 1000) -> list[RecordingView]:
        query = (
            select(Recording)
            .where(Recording.deleted_at.is_(None), Recording.retain_until <= now)
            .order_by(Recording.retain_until, Recording.id)
            .limit(limit)
        )
        return [_view(row) for row in self.session.scalars(query)]

    def set_status(
        self,
        recording_id: int,
        status: RecordingStatus,
        *,
        checked_at: dt.datetime,
        deleted_at: dt.datetime | None = None,
    ) -> None:
        values: dict[str, object] = {"status": status, "checked_at": checked_at}
        if deleted_at is not None:
            values["deleted_at"] = deleted_at
        self.session.execute(update(Recording).where(Recording.id == recording_id).values(**values))
