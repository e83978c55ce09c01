"""Patients and their phone numbers: caller-ID lookup and the screen-pop history."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ScalarSelect,
    Select,
    bindparam,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import JSON as PG_JSON
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_store.enums import (
    OPEN_COMPLAINT_STATUSES,
    AppointmentStatus,
    PreferredLanguage,
    Sex,
)
from crm_store.errors import InvalidRecord, PatientNotFound
from crm_store.identifiers import NationalIdHasher, mask_national_id
from crm_store.models import (
    AcdCall,
    Appointment,
    Call,
    Complaint,
    Department,
    Doctor,
    Patient,
    PhoneNumber,
    Slot,
    UTCDateTime,
    utcnow,
)
from crm_store.phone_numbers import normalise

#: How many rows of each kind a screen pop shows.
HISTORY_LIMIT = 5


@dataclass(frozen=True)
class PatientMatch:
    """A patient a calling number belongs to (contract with the CTI core)."""

    patient_id: int
    display_name: str
    preferred_language: str  # "zh" / "en"
    vip: bool
    chronic: bool
    relation: str | None  # None: the patient's own number, else e.g. "daughter"


@dataclass(frozen=True)
class PatientRecord:
    id: int
    mrn: str
    full_name: str
    sex: Sex
    date_of_birth: dt.date | None
    national_id_masked: str | None  # "**************123X", never the full value
    preferred_language: str
    vip: bool
    chronic: bool
    allergies: str | None
    care_notes: str | None


@dataclass(frozen=True)
class PhoneNumberView:
    e164: str
    raw: str
    relation: str | None
    is_primary: bool


@dataclass(frozen=True)
class AppointmentSummary:
    reference: str
    status: AppointmentStatus
    starts_at: dt.datetime
    department_zh: str
    department_en: str
    doctor_zh: str
    doctor_en: str


@dataclass(frozen=True)
class CallSummary:
    linkedid: str
    direction: str
    arrived_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    # The agent's wrap-up of the call (acd_calls), when an agent took it.
    agent: str | None = None
    disposition: str | None = None
    agent_notes: str | None = None


@dataclass(frozen=True)
class ComplaintSummary:
    ticket_number: str
    category: str
    status: str
    created_at: dt.datetime


@dataclass(frozen=True)
class PatientHistory:
    """Everything an agent's screen pop shows about a patient."""

    patient: PatientRecord
    numbers: tuple[PhoneNumberView, ...]
    upcoming_appointments: tuple[AppointmentSummary, ...]  # soonest first
    recent_appointments: tuple[AppointmentSummary, ...]  # latest first
    recent_calls: tuple[CallSummary, ...]  # latest first
    open_complaints: tuple[ComplaintSummary, ...]  # latest first


class PatientRepository:
    """Patients, their numbers, and the queries the CTI core and screen pop run."""

    def __init__(
        self,
        session: Session,
        *,
        region: str = "CN",
        id_hasher: NationalIdHasher | None = None,
    ) -> None:
        self.session = session
        self.region = region
        self.id_hasher = id_hasher or NationalIdHasher()

    # ------------------------------------------------------------------ lookups

    def find_by_phone(self, e164: str) -> list[PatientMatch]:
        """Patients this E.164 number belongs to: those whose own number it is first,
        then those who listed it as a family member's. One indexed query."""
        if self.session.autoflush:
            self.session.flush()  # what Session.execute would do; a no-op when clean
        # On the session's connection, not Session.execute: the rows are plain columns,
        # and the ORM's execution path cost more CPU than the query itself (~0.25 ms a
        # lookup; bench/store_lookup.py).
        rows = self.session.connection().execute(_FIND_BY_PHONE, {"e164": e164}).all()
        return [
            PatientMatch(
                patient_id=row[0],
                display_name=row[1],
                preferred_language=row[2].value,
                vip=row[3],
                chronic=row[4],
                relation=row[5],
            )
            for row in rows
        ]

    def find_by_national_id(self, national_id: str) -> int | None:
        """The id of the patient with this national identifier (exact, via its keyed
        hash), or None."""
        try:
            digest = self.id_hasher.digest(national_id)
        except ValueError:
            return None
        return self.session.scalar(
            select(Patient.id).where(Patient.national_id_hash == digest.digest)
        )

    def find_by_mrn(self, mrn: str) -> int | None:
        """The id of the patient with this medical record number, or None."""
        return self.session.scalar(select(Patient.id).where(Patient.mrn == mrn))

    def get(self, patient_id: int) -> PatientRecord:
        """The patient's record (national id masked); PatientNotFound if absent."""
        patient = self.session.get(Patient, patient_id)
        if patient is None:
            raise PatientNotFound(patient_id)
        return _record(patient)

    def display_names(self, patient_ids: Iterable[int]) -> dict[int, str]:
        """Display names of these patients (ids that do not exist are left out)."""
        ids = sorted(set(patient_ids))
        if not ids:
            return {}
        rows = self.session.execute(
            select(Patient.id, Patient.full_name).where(Patient.id.in_(ids))
        )
        return {patient_id: name for patient_id, name in rows}

    def verify_identity(self, patient_id: int, *, date_of_birth: dt.date) -> bool:
        """The IVR's identity check before anything personal is said: does the date of
        birth the caller gave match?"""
        stored = self.session.scalar(select(Patient.date_of_birth).where(Patient.id == patient_id))
        return stored is not None and stored == date_of_birth

    # ------------------------------------------------------------------ changes

    def create(
        self,
        *,
        mrn: str,
        full_name: str,
        family_name: str | None = None,
        given_name: str | None = None,
        sex: Sex = Sex.UNKNOWN,
        date_of_birth: dt.date | None = None,
        national_id: str | None = None,
        preferred_language: PreferredLanguage = PreferredLanguage.MANDARIN,
        vip: bool = False,
        chronic: bool = False,
        allergies: str | None = None,
        care_notes: str | None = None,
        numbers: Iterable[tuple[str, str | None]] = (),
    ) -> int:
        """Register a patient with their numbers (``(raw, relation)``; relation None for
        the patient's own); returns the new id. InvalidRecord for bad input."""
        if not full_name.strip():
            raise InvalidRecord("full_name", "must not be empty")
        if not mrn.strip():
            raise InvalidRecord("mrn", "must not be empty")
        digest = None
        if national_id:
            try:
                digest = self.id_hasher.digest(national_id)
            except ValueError as exc:
                raise InvalidRecord("national_id", str(exc)) from exc
        patient = Patient(
            mrn=mrn.strip(),
            full_name=full_name.strip(),
            family_name=family_name,
            given_name=given_name,
            sex=sex,
            date_of_birth=date_of_birth,
            national_id_hash=digest.digest if digest else None,
            national_id_last4=digest.last4 if digest else None,
            preferred_language=preferred_language,
            vip=vip,
            chronic=chronic,
            allergies=allergies,
            care_notes=care_notes,
        )
        try:
            with self.session.begin_nested():
                self.session.add(patient)
                self.session.flush()
        except IntegrityError as exc:
            raise InvalidRecord(
                "mrn/national_id", "a patient with this record number or national id exists"
            ) from exc
        for index, (raw, relation) in enumerate(numbers):
            self.add_phone_number(patient.id, raw, relation=relation, primary=index == 0)
        return patient.id

    def add_phone_number(
        self, patient_id: int, raw: str, *, relation: str | None = None, primary: bool = False
    ) -> str:
        """Attach a number (normalised for the repository's region); returns its E.164.
        Adding a number the patient already has only updates its relation."""
        number = normalise(raw, self.region)
        if number.e164 is None:
            raise InvalidRecord("phone", f"not a valid phone number in region {self.region}")
        relation = relation.strip() or None if relation else None
        existing = self.session.scalar(
            select(PhoneNumber).where(
                PhoneNumber.patient_id == patient_id, PhoneNumber.e164 == number.e164
            )
        )
        if existing is not None:
            existing.relation = relation
            existing.is_primary = existing.is_primary or primary
            return number.e164
        if self.session.get(Patient, patient_id) is None:
            raise PatientNotFound(patient_id)
        self.session.add(
            PhoneNumber(
                patient_id=patient_id,
                e164=number.e164,
                raw=raw.strip()[:64],
                relation=relation,
                is_primary=primary,
            )
        )
        self.session.flush()
        return number.e164

    # ------------------------------------------------------------------ screen pop

    def history(self, patient_id: int, *, now: dt.datetime | None = None) -> PatientHistory:
        """The screen pop: patient, numbers, upcoming and recent appointments, recent
        calls and open complaints — in ONE statement (one round trip), each list built
        by the database as JSON. PatientNotFound if absent."""
        statement = _history_statement(self.session.get_bind().dialect.name)
        row = self.session.execute(statement, {"pid": patient_id, "now": now or utcnow()}).first()
        if row is None:
            raise PatientNotFound(patient_id)
        patient = row[0]
        return PatientHistory(
            patient=_record(patient),
            numbers=tuple(
                PhoneNumberView(
                    e164=item["e164"],
                    raw=item["raw"],
                    relation=item["relation"],
                    is_primary=bool(item["is_primary"]),
                )
                for item in _json_list(row.numbers)
            ),
            upcoming_appointments=tuple(_appointment(i) for i in _json_list(row.upcoming)),
            recent_appointments=tuple(_appointment(i) for i in _json_list(row.recent)),
            recent_calls=tuple(
                CallSummary(
                    linkedid=item["linkedid"],
                    direction=item["direction"],
                    arrived_at=_timestamp(item["arrived_at"]),
                    answered_at=_optional_timestamp(item["answered_at"]),
                    ended_at=_optional_timestamp(item["ended_at"]),
                    agent=item.get("agent"),
                    disposition=item.get("disposition"),
                    agent_notes=item.get("agent_notes"),
                )
                for item in _json_list(row.calls)
            ),
            open_complaints=tuple(
                ComplaintSummary(
                    ticket_number=item["ticket_number"],
                    category=item["category"],
                    status=item["status"],
                    created_at=_timestamp(item["created_at"]),
                )
                for item in _json_list(row.complaints)
            ),
        )


_FIND_BY_PHONE = (
    select(
        Patient.id,
        Patient.full_name,
        Patient.preferred_language,
        Patient.vip,
        Patient.chronic,
        PhoneNumber.relation,
    )
    .join(Patient, Patient.id == PhoneNumber.patient_id)
    .where(PhoneNumber.e164 == bindparam("e164"))
    .order_by(case((PhoneNumber.relation.is_(None), 0), else_=1), Patient.id)
)


def _record(patient: Patient) -> PatientRecord:
    return PatientRecord(
        id=patient.id,
        mrn=patient.mrn,
        full_name=patient.full_name,
        sex=patient.sex,
        date_of_birth=patient.date_of_birth,
        national_id_masked=(
            mask_national_id(patient.national_id_last4) if patient.national_id_last4 else None
        ),
        preferred_language=patient.preferred_language.value,
        vip=patient.vip,
        chronic=patient.chronic,
        allergies=patient.allergies,
        care_notes=patient.care_notes,
    )


def _json_list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return list(value)


def _timestamp(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # SQLite stores naive UTC
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _optional_timestamp(value: str | None) -> dt.datetime | None:
    return None if value is None else _timestamp(value)


def _appointment(item: dict[str, Any]) -> AppointmentSummary:
    return AppointmentSummary(
        reference=item["reference"],
        status=AppointmentStatus(item["status"]),
        starts_at=_timestamp(item["starts_at"]),
        department_zh=item["department_zh"],
        department_en=item["department_en"],
        doctor_zh=item["doctor_zh"],
        doctor_en=item["doctor_en"],
    )


# ---------------------------------------------------------------------- history SQL

#: The screen-pop statement: the patient, then five JSON arrays (numbers, upcoming,
#: recent, calls, complaints).
_HistoryStatement: TypeAlias = "Select[Patient, Any, Any, Any, Any, Any]"

_HISTORY_CACHE: dict[str, _HistoryStatement] = {}


def _json_array(
    dialect: str, rows: Select[*tuple[Any, ...]], order_by: Sequence[Any] = ()
) -> ScalarSelect[Any]:
    """A scalar subquery aggregating ``rows`` into a JSON array of objects. ``order_by``
    (columns of ``rows`` by label, ``-label`` for descending) orders the array."""
    sub = rows.subquery()
    pairs: list[Any] = []
    for column in sub.c:
        pairs.extend([literal(column.key), column])
    if dialect == "sqlite":
        # SQLite aggregates in the subquery's (ordered, limited) row order.
        return (
            select(func.json_group_array(func.json_object(*pairs)))
            .select_from(sub)
            .scalar_subquery()
        )
    keys = [sub.c[key[1:]].desc() if key.startswith("-") else sub.c[key].asc() for key in order_by]
    obj = func.json_build_object(*pairs)
    aggregated = func.json_agg(aggregate_order_by(obj, *keys)) if keys else func.json_agg(obj)
    return (
        select(func.coalesce(aggregated, literal("[]").cast(PG_JSON)))
        .select_from(sub)
        .scalar_subquery()
    )


def _history_statement(dialect: str) -> _HistoryStatement:
    cached = _HISTORY_CACHE.get(dialect)
    if cached is not None:
        return cached
    pid: BindParameter[int] = bindparam("pid")
    now = bindparam("now", type_=UTCDateTime())

    def appointments(upcoming: bool) -> Select[*tuple[Any, ...]]:
        when: ColumnElement[bool] = Slot.starts_at >= now if upcoming else Slot.starts_at < now
        query = (
            select(
                Appointment.reference.label("reference"),
                Appointment.status.label("status"),
                Slot.starts_at.label("starts_at"),
                Department.name_zh.label("department_zh"),
                Department.name_en.label("department_en"),
                Doctor.name_zh.label("doctor_zh"),
                Doctor.name_en.label("doctor_en"),
            )
            .join(Slot, Slot.id == Appointment.slot_id)
            .join(Department, Department.id == Slot.department_id)
            .join(Doctor, Doctor.id == Slot.doctor_id)
            .where(Appointment.patient_id == pid, when)
        )
        if upcoming:
            query = query.where(Appointment.status == AppointmentStatus.BOOKED)
            return query.order_by(Slot.starts_at.asc()).limit(HISTORY_LIMIT)
        return query.order_by(Slot.starts_at.desc()).limit(HISTORY_LIMIT)

    upcoming = _json_array(dialect, appointments(True), ["starts_at"])
    recent = _json_array(dialect, appointments(False), ["-starts_at"])
    calls_q = (
        select(
            Call.linkedid.label("linkedid"),
            Call.direction.label("direction"),
            Call.arrived_at.label("arrived_at"),
            Call.answered_at.label("answered_at"),
            Call.ended_at.label("ended_at"),
            AcdCall.answered_by.label("agent"),
            AcdCall.disposition.label("disposition"),
            AcdCall.agent_notes.label("agent_notes"),
        )
        # The ACD keys a call by the caller's channel, which is the call's linkedid:
        # a primary-key look-up per call, so still one indexed statement.
        .outerjoin(AcdCall, AcdCall.call_key == Call.linkedid)
        .where(Call.patient_id == pid)
        .order_by(Call.arrived_at.desc())
        .limit(HISTORY_LIMIT)
    )
    calls = _json_array(dialect, calls_q, ["-arrived_at"])
    complaints_q = (
        select(
            Complaint.ticket_number.label("ticket_number"),
            Complaint.category.label("category"),
            Complaint.status.label("status"),
            Complaint.created_at.label("created_at"),
        )
        .where(
            Complaint.patient_id == pid,
            Complaint.status.in_(sorted(OPEN_COMPLAINT_STATUSES, key=lambda s: s.value)),
        )
        .order_by(Complaint.created_at.desc())
        .limit(HISTORY_LIMIT)
    )
    complaints = _json_array(dialect, complaints_q, ["-created_at"])
    numbers_q = (
        select(
            PhoneNumber.e164.label("e164"),
            PhoneNumber.raw.label("raw"),
            PhoneNumber.relation.label("relation"),
            PhoneNumber.is_primary.label("is_primary"),
        )
        .where(PhoneNumber.patient_id == pid)
        .order_by(PhoneNumber.is_primary.desc(), PhoneNumber.id)
    )
    numbers = _json_array(dialect, numbers_q, ["-is_primary"])
    statement = select(
        Patient,
        numbers.label("numbers"),
        upcoming.label("upcoming"),
        recent.label("recent"),
        calls.label("calls"),
        complaints.label("complaints"),
    ).where(Patient.id == pid)
    _HISTORY_CACHE[dialect] = statement
    return statement
