"""Calls and call legs as the CTI tracker snapshots them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from crm_store.enums import CallDirection
from crm_store.errors import InvalidRecord
from crm_store.models import Call, CallLeg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallLegSnapshot:
    """One channel of a call (contract with the CTI tracker)."""

    uniqueid: str
    channel: str
    created_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    hangup_cause: int | None


@dataclass(frozen=True)
class CallSnapshot:
    """A call as the tracker last saw it (contract with the CTI tracker)."""

    linkedid: str
    direction: CallDirection
    caller_number_raw: str | None
    caller_number_e164: str | None
    caller_name: str | None
    patient_id: int | None
    arrived_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    hangup_cause: int | None
    hangup_cause_text: str | None
    legs: tuple[CallLegSnapshot, ...]


class CallRepository:
    """Persists tracker snapshots; idempotent, later snapshots overwrite earlier ones."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def save(self, snapshot: CallSnapshot) -> None:
        """Upsert the call by linkedid and its legs by uniqueid (one statement each,
        ``INSERT .. ON CONFLICT DO UPDATE`` on both engines, so concurrent savers of the
        same call cannot collide). Legs absent from the snapshot are kept."""
        insert = _insert_for(self.session)
        values = _call_row(snapshot)
        call_stmt = insert(Call).values(**values)
        call_stmt = call_stmt.on_conflict_do_update(
            index_elements=[Call.linkedid],
            set_=_upsert_set(call_stmt.excluded, values),
        ).returning(Call.id)
        try:
            with self.session.begin_nested():
                call_id = self.session.execute(call_stmt).scalar_one()
                if snapshot.legs:
                    leg_stmt = insert(CallLeg)
                    leg_stmt = leg_stmt.on_conflict_do_update(
                        index_elements=[CallLeg.uniqueid],
                        set_={
                            key: leg_stmt.excluded[key]
                            for key in (
                                "call_id",
                                "channel",
                                "created_at",
                                "answered_at",
                                "ended_at",
                                "hangup_cause",
                            )
                        },
                    )
                    self.session.execute(
                        leg_stmt,
                        [_leg_row(call_id, leg) for leg in snapshot.legs],
                    )
        except IntegrityError as exc:
            raise InvalidRecord(
                "call", "refers to a patient that does not exist (patient_id)"
            ) from exc
        # The ORM identity map may hold a stale copy of this call; drop it.
        self.session.expire_all()

    def save_many(self, snapshots: Sequence[CallSnapshot]) -> None:
        """Upsert a batch of snapshots in three statements (calls, their ids, legs) —
        the call journal's path. If the batch breaks a constraint, each snapshot is
        saved alone so one bad call cannot hold back the others; a call whose linked
        patient no longer exists is saved unlinked rather than lost."""
        if not snapshots:
            return
        insert = _insert_for(self.session)
        rows = [_call_row(snapshot) for snapshot in snapshots]
        call_stmt = insert(Call)
        call_stmt = call_stmt.on_conflict_do_update(
            index_elements=[Call.linkedid],
            set_=_upsert_set(call_stmt.excluded, rows[0]),
        )
        try:
            with self.session.begin_nested():
                self.session.execute(call_stmt, rows)
                linkedids = [row["linkedid"] for row in rows]
                found = self.session.execute(
                    select(Call.linkedid, Call.id).where(Call.linkedid.in_(linkedids))
                ).all()
                ids = {linkedid: call_id for linkedid, call_id in found}
                legs = [
                    _leg_row(ids[snapshot.linkedid], leg)
                    for snapshot in snapshots
                    for leg in snapshot.legs
                ]
                if legs:
                    leg_stmt = insert(CallLeg)
                    leg_stmt = leg_stmt.on_conflict_do_update(
                        index_elements=[CallLeg.uniqueid],
                        set_={key: leg_stmt.excluded[key] for key in legs[0] if key != "uniqueid"},
                    )
                    self.session.execute(leg_stmt, legs)
        except IntegrityError:
            for snapshot in snapshots:
                try:
                    self.save(snapshot)
                except InvalidRecord:
                    # The linked patient is gone (deleted meanwhile): keep the call.
                    log.warning(
                        "call %s: linked patient missing; saved unlinked", snapshot.linkedid
                    )
                    self.save(dataclasses.replace(snapshot, patient_id=None))
            return
        self.session.expire_all()

    def get(self, linkedid: str) -> CallSnapshot | None:
        """The stored snapshot of a call, or None."""
        call = self.session.scalar(
            select(Call).options(selectinload(Call.legs)).where(Call.linkedid == linkedid)
        )
        return None if call is None else _snapshot(call)

    def open_calls(self) -> list[CallSnapshot]:
        """Calls not ended yet (e.g. to reconcile with Asterisk after a restart),
        oldest first."""
        calls = self.session.scalars(
            select(Call)
            .options(selectinload(Call.legs))
            .where(Call.ended_at.is_(None))
            .order_by(Call.arrived_at, Call.id)
        )
        return [_snapshot(call) for call in calls]

    def recent_ended(self, *, limit: int = 50) -> list[CallSnapshot]:
        """The ``limit`` most recently ended calls, newest first, without their legs
        (the consoles list calls, not channels)."""
        calls = self.session.scalars(
            select(Call)
            .where(Call.ended_at.is_not(None))
            .order_by(Call.ended_at.desc(), Call.id.desc())
            .limit(limit)
        )
        return [_snapshot(call, with_legs=False) for call in calls]

    def in_progress(self, *, limit: int = 500) -> list[CallSnapshot]:
        """Calls still in progress, oldest first, without their legs."""
        calls = self.session.scalars(
            select(Call)
            .where(Call.ended_at.is_(None))
            .order_by(Call.arrived_at, Call.id)
            .limit(limit)
        )
        return [_snapshot(call, with_legs=False) for call in calls]

    def attach_patient(self, linkedid: str, patient_id: int) -> bool:
        """Name the patient of a call whose caller ID named nobody (an agent verified
        them). False when the call is not stored (e.g. the CTI core is not tracking)."""
        result = self.session.execute(
            update(Call).where(Call.linkedid == linkedid).values(patient_id=patient_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def recent_for_patient(self, patient_id: int, *, limit: int = 20) -> list[CallSnapshot]:
        """A patient's latest calls, newest first."""
        calls = self.session.scalars(
            select(Call)
            .options(selectinload(Call.legs))
            .where(Call.patient_id == patient_id)
            .order_by(Call.arrived_at.desc())
            .limit(limit)
        )
        return [_snapshot(call) for call in calls]


def _upsert_set(excluded: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The columns a re-saved call updates. A patient an agent attached the call to stays
    when the tracker, which did not know the caller, saves the call again (at its end)."""
    columns = {key: excluded[key] for key in values if key != "linkedid"}
    columns["patient_id"] = func.coalesce(excluded.patient_id, Call.patient_id)
    return columns


def storable_text(value: str | None) -> str | None:
    """Caller-controlled text as the database can hold it: PostgreSQL refuses NUL
    characters in text, so NUL is written as the four characters ``\\x00`` (on both
    engines, so the two agree); everything else is kept exactly."""
    if value is None or "\x00" not in value:
        return value
    return value.replace("\x00", "\\x00")


def _call_row(snapshot: CallSnapshot) -> dict[str, Any]:
    return {
        "linkedid": snapshot.linkedid,
        "direction": snapshot.direction,
        "caller_number_raw": storable_text(snapshot.caller_number_raw),
        "caller_number_e164": snapshot.caller_number_e164,
        "caller_name": storable_text(snapshot.caller_name),
        "patient_id": snapshot.patient_id,
        "arrived_at": snapshot.arrived_at,
        "answered_at": snapshot.answered_at,
        "ended_at": snapshot.ended_at,
        "hangup_cause": snapshot.hangup_cause,
        "hangup_cause_text": snapshot.hangup_cause_text,
    }


def _leg_row(call_id: int, leg: CallLegSnapshot) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "uniqueid": leg.uniqueid,
        "channel": storable_text(leg.channel),
        "created_at": leg.created_at,
        "answered_at": leg.answered_at,
        "ended_at": leg.ended_at,
        "hangup_cause": leg.hangup_cause,
    }


def _insert_for(session: Session):  # type: ignore[no-untyped-def]
    """The dialect's INSERT with ON CONFLICT support."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def _snapshot(call: Call, *, with_legs: bool = True) -> CallSnapshot:
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
        legs=()
        if not with_legs
        else tuple(
            CallLegSnapshot(
                uniqueid=leg.uniqueid,
                channel=leg.channel,
                created_at=leg.created_at,
                answered_at=leg.answered_at,
                ended_at=leg.ended_at,
                hangup_cause=leg.hangup_cause,
            )
            for leg in sorted(call.legs, key=lambda leg: (leg.created_at, leg.id))
        ),
    )
