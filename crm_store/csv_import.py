"""Loading patients and appointments from CSV files (UTF-8, header row).

Every row is checked and loaded on its own (a savepoint per row): bad rows are reported
with their line number and the reason, and all the good rows are loaded. Reasons name the
field and the problem, never the value (it may be a patient identifier).

patients.csv columns (only ``mrn`` and ``full_name`` are required):
    mrn, full_name, family_name, given_name, sex (female/male/other/unknown),
    date_of_birth (YYYY-MM-DD), national_id, preferred_language (zh/en), vip, chronic
    (true/false/1/0/yes/no), phone, family_phone, family_relation, allergies, care_notes

appointments.csv columns:
    mrn, department_code, doctor (English or Chinese name), starts_at (ISO 8601; without
    an offset it is clinic-local time)
"""

from __future__ import annotations

import csv
import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm_store.database import Database
from crm_store.enums import BookingChannel, PreferredLanguage, Sex
from crm_store.errors import StoreError
from crm_store.identifiers import NationalIdHasher
from crm_store.models import Department, Doctor, Slot, utcnow
from crm_store.repositories.appointments import AppointmentRepository
from crm_store.repositories.patients import PatientRepository

PATIENT_COLUMNS = frozenset({"mrn", "full_name"})
APPOINTMENT_COLUMNS = frozenset({"mrn", "department_code", "doctor", "starts_at"})
_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"", "0", "false", "no", "n", "否"}


@dataclass(frozen=True)
class Rejection:
    line: int  # line number in the file (the header is line 1)
    reason: str


@dataclass
class ImportReport:
    kind: str
    loaded: int = 0
    rejected: list[Rejection] = field(default_factory=list)


class RowError(Exception):
    """A row that cannot be loaded; the message is the reason reported."""


def import_patients(
    database: Database,
    path: Path,
    *,
    region: str = "CN",
    id_hasher: NationalIdHasher | None = None,
) -> ImportReport:
    """Load patients (and their numbers) from ``path``; national ids are stored hashed
    with ``id_hasher`` (the deployment's key)."""

    def load(session: Session, row: dict[str, str]) -> None:
        patients = PatientRepository(session, region=region, id_hasher=id_hasher)
        numbers: list[tuple[str, str | None]] = []
        if row.get("phone"):
            numbers.append((row["phone"], None))
        if row.get("family_phone"):
            numbers.append((row["family_phone"], row.get("family_relation") or "family"))
        patients.create(
            mrn=row["mrn"],
            full_name=row["full_name"],
            family_name=row.get("family_name") or None,
            given_name=row.get("given_name") or None,
            sex=_enum(Sex, row.get("sex") or "unknown", "sex"),
            date_of_birth=_date(row.get("date_of_birth"), "date_of_birth"),
            national_id=row.get("national_id") or None,
            preferred_language=_enum(
                PreferredLanguage, row.get("preferred_language") or "zh", "preferred_language"
            ),
            vip=_bool(row.get("vip"), "vip"),
            chronic=_bool(row.get("chronic"), "chronic"),
            allergies=row.get("allergies") or None,
            care_notes=row.get("care_notes") or None,
            numbers=numbers,
        )

    return _import(database, path, "patients", PATIENT_COLUMNS, load)


def import_appointments(
    database: Database, path: Path, *, clinic_tz: str = "Asia/Shanghai"
) -> ImportReport:
    """Book appointments (channel IMPORT) from ``path`` into existing slots."""
    tz = zoneinfo.ZoneInfo(clinic_tz)
    now = utcnow()

    def load(session: Session, row: dict[str, str]) -> None:
        patient_id = PatientRepository(session).find_by_mrn(row["mrn"].strip())
        if patient_id is None:
            raise RowError("mrn: no patient with this medical record number")
        try:
            starts_at = dt.datetime.fromisoformat(row["starts_at"].strip())
        except ValueError as exc:
            raise RowError("starts_at: not an ISO 8601 date and time") from exc
        if starts_at.tzinfo is None:
            starts_at = starts_at.replace(tzinfo=tz)
        doctor = row["doctor"].strip()
        slot_id = session.scalar(
            select(Slot.id)
            .join(Doctor, Doctor.id == Slot.doctor_id)
            .join(Department, Department.id == Slot.department_id)
            .where(
                Department.code == row["department_code"].strip(),
                or_(Doctor.name_en == doctor, Doctor.name_zh == doctor),
                Slot.starts_at == starts_at,
            )
            .limit(1)
        )
        if slot_id is None:
            raise RowError("starts_at: no slot of this doctor and department at that time")
        AppointmentRepository(session).book(
            patient_id=patient_id, slot_id=slot_id, booked_by=BookingChannel.IMPORT, now=now
        )

    return _import(database, path, "appointments", APPOINTMENT_COLUMNS, load)


def _import(
    database: Database,
    path: Path,
    kind: str,
    required: frozenset[str],
    load: Callable[[Session, dict[str, str]], None],
) -> ImportReport:
    report = ImportReport(kind=kind)
    with database.session() as session:
        for line, row in _rows(path, required):
            if isinstance(row, RowError):
                report.rejected.append(Rejection(line, str(row)))
                continue
            try:
                with session.begin_nested():
                    load(session, row)
                report.loaded += 1
            except (RowError, StoreError) as exc:
                report.rejected.append(Rejection(line, str(exc)))
    return report


def _rows(path: Path, required: frozenset[str]) -> Iterator[tuple[int, dict[str, str] | RowError]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = {name.strip() for name in (reader.fieldnames or [])}
        missing = required - header
        if missing:
            raise ValueError(f"{path.name}: missing columns {', '.join(sorted(missing))}")
        for row in reader:
            line = reader.line_num
            if None in row:  # more cells than headers
                yield line, RowError("row has more cells than the header")
                continue
            clean = {key.strip(): (value or "").strip() for key, value in row.items()}
            empty = [name for name in sorted(required) if not clean.get(name)]
            if empty:
                yield line, RowError(f"{', '.join(empty)}: required but empty")
                continue
            yield line, clean


def _enum(cls: Any, value: str, name: str) -> Any:
    try:
        return cls(value.strip().lower())
    except ValueError as exc:
        allowed = "/".join(member.value for member in cls)
        raise RowError(f"{name}: must be one of {allowed}") from exc


def _bool(value: str | None, name: str) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError(f"{name}: must be true or false")


def _date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        parsed = dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise RowError(f"{name}: not a date (YYYY-MM-DD)") from exc
    if not dt.date(1880, 1, 1) <= parsed <= dt.date.today():
        raise RowError(f"{name}: outside 1880 to today")
    return parsed
