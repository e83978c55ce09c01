"""Complaint tickets: opened by the IVR or an agent, queried by ticket number."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from crm_store.enums import BookingChannel, ComplaintCategory, ComplaintStatus
from crm_store.errors import (
    ComplaintNotFound,
    InvalidRecord,
    InvalidTransition,
    VoiceMessageNotFound,
)
from crm_store.identifiers import make_reference
from crm_store.models import Complaint, ComplaintStatusChange, Patient, utcnow

#: Which status may follow which (a closed ticket may be reopened).
ALLOWED_TRANSITIONS: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    ComplaintStatus.OPEN: frozenset(
        {ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESPONDED, ComplaintStatus.CLOSED}
    ),
    ComplaintStatus.IN_PROGRESS: frozenset({ComplaintStatus.RESPONDED, ComplaintStatus.CLOSED}),
    ComplaintStatus.RESPONDED: frozenset({ComplaintStatus.IN_PROGRESS, ComplaintStatus.CLOSED}),
    ComplaintStatus.CLOSED: frozenset({ComplaintStatus.OPEN}),
}


@dataclass(frozen=True)
class StatusChangeView:
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus
    changed_at: dt.datetime
    note: str | None


@dataclass(frozen=True)
class ComplaintView:
    """What a caller (after the identity check) or an agent is told about a ticket."""

    ticket_number: str
    patient_id: int | None
    category: ComplaintCategory
    status: ComplaintStatus
    opened_at: dt.datetime
    updated_at: dt.datetime
    response: str | None
    history: tuple[StatusChangeView, ...]
    voice_message_path: str | None = None  # the caller's recorded message, if they left one
    voice_message_s: float | None = None


@dataclass(frozen=True)
class VoiceMessageListing:
    """A complaint that carries a caller's voice message, as a supervisor's list shows it."""

    complaint_id: int
    ticket_number: str
    opened_at: dt.datetime
    category: ComplaintCategory
    status: ComplaintStatus
    patient_id: int | None
    patient_name: str | None
    patient_mrn: str | None
    path: str
    seconds: float | None


class ComplaintRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open(
        self,
        *,
        category: ComplaintCategory,
        description: str,
        opened_via: BookingChannel,
        patient_id: int | None = None,
        department_id: int | None = None,
        call_id: int | None = None,
        user_id: int | None = None,
        voice_message_path: str | None = None,
        voice_message_s: float | None = None,
        now: dt.datetime | None = None,
    ) -> str:
        """File a complaint; returns its ticket number (9 digits, Luhn-checked).
        ``voice_message_path``: the caller's recorded message (a file in the configured
        storage), ``voice_message_s`` its length."""
        if not description.strip():
            raise InvalidRecord("description", "must not be empty")
        if voice_message_s is not None and voice_message_s < 0:
            raise InvalidRecord("voice_message_s", "must not be negative")
        now = now or utcnow()
        for _attempt in range(10):
            complaint = Complaint(
                ticket_number=make_reference(),
                patient_id=patient_id,
                department_id=department_id,
                call_id=call_id,
                category=category,
                opened_via=opened_via,
                description=description.strip(),
                voice_message_path=voice_message_path,
                voice_message_s=voice_message_s,
                status=ComplaintStatus.OPEN,
                created_at=now,
                updated_at=now,
            )
            complaint.history.append(
                ComplaintStatusChange(
                    from_status=None,
                    to_status=ComplaintStatus.OPEN,
                    changed_at=now,
                    changed_by_user_id=user_id,
                )
            )
            try:
                with self.session.begin_nested():
                    self.session.add(complaint)
                    self.session.flush()
                return complaint.ticket_number
            except IntegrityError as exc:
                if "ticket_number" not in str(exc.orig):
                    raise InvalidRecord("complaint", "refers to a missing record") from exc
        raise RuntimeError("could not draw an unused ticket number")

    def get(self, ticket_number: str, *, patient_id: int | None = None) -> ComplaintView:
        """A ticket and its status history; with ``patient_id`` only that patient's."""
        query = (
            select(Complaint)
            .options(selectinload(Complaint.history))
            .where(Complaint.ticket_number == ticket_number)
        )
        if patient_id is not None:
            query = query.where(Complaint.patient_id == patient_id)
        complaint = self.session.scalar(query)
        if complaint is None:
            raise ComplaintNotFound(ticket_number)
        return _view(complaint)

    def status_of(self, ticket_number: str) -> ComplaintStatus:
        """Only the ticket's status (what the IVR reads out to a caller asking): one
        indexed lookup, none of the history :meth:`get` loads. ComplaintNotFound if no
        such ticket."""
        status = self.session.scalar(
            select(Complaint.status).where(Complaint.ticket_number == ticket_number)
        )
        if status is None:
            raise ComplaintNotFound(ticket_number)
        return status

    def with_voice_messages(self, *, limit: int = 500) -> list[VoiceMessageListing]:
        """Complaints that carry a voice message, newest first (at most ``limit``)."""
        return self._voice_messages(Complaint.voice_message_path.is_not(None), limit=limit)

    def voice_message(self, complaint_id: int) -> VoiceMessageListing:
        """One complaint's voice message; VoiceMessageNotFound when it has none."""
        found = self._voice_messages(
            Complaint.id == complaint_id, Complaint.voice_message_path.is_not(None), limit=1
        )
        if not found:
            raise VoiceMessageNotFound(complaint_id)
        return found[0]

    def voice_messages_opened_before(self, cutoff: dt.datetime) -> list[VoiceMessageListing]:
        """Voice messages of complaints opened before ``cutoff`` (their retention ended)."""
        return self._voice_messages(
            Complaint.voice_message_path.is_not(None), Complaint.created_at < cutoff, limit=10_000
        )

    def forget_voice_message(self, complaint_id: int) -> None:
        """The complaint no longer carries a voice message (its file was deleted); its
        recorded length stays as a trace of what there was."""
        complaint = self.session.get(Complaint, complaint_id)
        if complaint is None:
            raise VoiceMessageNotFound(complaint_id)
        complaint.voice_message_path = None
        self.session.flush()

    def _voice_messages(
        self, *conditions: ColumnElement[bool], limit: int
    ) -> list[VoiceMessageListing]:
        rows = self.session.execute(
            select(Complaint, Patient.full_name, Patient.mrn)
            .outerjoin(Patient, Patient.id == Complaint.patient_id)
            .where(*conditions)
            .order_by(Complaint.created_at.desc(), Complaint.id.desc())
            .limit(limit)
        ).all()
        return [
            VoiceMessageListing(
                complaint_id=c.id,
                ticket_number=c.ticket_number,
                opened_at=c.created_at,
                category=c.category,
                status=c.status,
                patient_id=c.patient_id,
                patient_name=name,
                patient_mrn=mrn,
                path=c.voice_message_path or "",
                seconds=c.voice_message_s,
            )
            for c, name, mrn in rows
        ]

    def change_status(
        self,
        ticket_number: str,
        status: ComplaintStatus,
        *,
        note: str | None = None,
        response: str | None = None,
        user_id: int | None = None,
        now: dt.datetime | None = None,
    ) -> ComplaintView:
        """Move a ticket along (see ALLOWED_TRANSITIONS), recording who and why; a
        ``response`` is what the caller will be told."""
        now = now or utcnow()
        complaint = self.session.scalar(
            select(Complaint)
            .options(selectinload(Complaint.history))
            .where(Complaint.ticket_number == ticket_number)
            .with_for_update()
        )
        if complaint is None:
            raise ComplaintNotFound(ticket_number)
        if status not in ALLOWED_TRANSITIONS[complaint.status]:
            raise InvalidTransition("complaint", complaint.status.value, status.value)
        complaint.history.append(
            ComplaintStatusChange(
                from_status=complaint.status,
                to_status=status,
                changed_at=now,
                changed_by_user_id=user_id,
                note=note,
            )
        )
        complaint.status = status
        complaint.updated_at = now
        if response is not None:
            complaint.response = response
        self.session.flush()
        return _view(complaint)


def _view(complaint: Complaint) -> ComplaintView:
    return ComplaintView(
        ticket_number=complaint.ticket_number,
        patient_id=complaint.patient_id,
        category=complaint.category,
        status=complaint.status,
        opened_at=complaint.created_at,
        updated_at=complaint.updated_at,
        response=complaint.response,
        history=tuple(
            StatusChangeView(
                from_status=change.from_status,
                to_status=change.to_status,
                changed_at=change.changed_at,
                note=change.note,
            )
            for change in complaint.history
        ),
        voice_message_path=complaint.voice_message_path,
        voice_message_s=complaint.voice_message_s,
    )
