"""Read-only queries the consoles need that crm_store does not offer (yet).

Kept here, behind plain functions over a Session, so that when the store grows these
queries (e.g. ``CallRepository.recent_ended``) the consoles switch with a one-line change.
Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Call, Patient
from crm_store.repositories.calls import CallSnapshot


def recent_ended_calls(session: Session, *, limit: int = 50) -> list[CallSnapshot]:
    """The ``limit`` most recently ended calls, newest first (legs left out: the
    consoles list calls, not channels)."""
    calls = session.scalars(
        select(Call)
        .where(Call.ended_at.is_not(None))
        .order_by(Call.ended_at.desc(), Call.id.desc())
        .limit(limit)
    )
    return [_snapshot(call) for call in calls]


def open_calls(session: Session, *, limit: int = 500) -> list[CallSnapshot]:
    """Calls the store still has as in progress, oldest first (legs left out)."""
    calls = session.scalars(
        select(Call).where(Call.ended_at.is_(None)).order_by(Call.arrived_at, Call.id).limit(limit)
    )
    return [_snapshot(call) for call in calls]


def patient_names(session: Session, patient_ids: Iterable[int]) -> dict[int, str]:
    """Display names of these patients (absent ids are left out)."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    rows = session.execute(select(Patient.id, Patient.full_name).where(Patient.id.in_(ids)))
    return {row.id: row.full_name for row in rows}


def _snapshot(call: Call) -> CallSnapshot:
    return CallSnapshot(
        linkedid=call.linkedid,
        direction=call.direction,
        caller_number_raw=call.caller_number_raw,
        caller_number_e164=call.caller_number_e164,
        caller_name=call.caller_name,
        patient_id=call.patient_id,
        arrived_at=call.arrived_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        hangup_cause=call.hangup_cause,
        hangup_cause_text=call.hangup_cause_text,
        legs=(),
    )
