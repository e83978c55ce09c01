"""Sample data and CSV import, through the CLI, on both engines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from crm_store.cli import data_group, db_group
from crm_store.database import Database, head_revision
from crm_store.enums import AppointmentStatus
from crm_store.identifiers import clean_reference
from crm_store.models import Appointment, Patient, PhoneNumber, Slot, User
from crm_store.repositories import PatientRepository, UserRepository
from crm_store.seed import seed_database
from cti.settings import Settings


def _settings(database: Database, tmp_path: Path) -> Settings:
    url = database.url.render_as_string(hide_password=False)
    return Settings(database_url=url, state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")


def test_seed_builds_a_consistent_hospital(database: Database, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        data_group,
        ["seed", "--patients", "300", "--seed", "7"],
        obj=_settings(database, tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "seeded 300 patients" in result.output
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 300
        # Every slot's counter equals its live bookings.
        live = dict(
            session.execute(
                select(Appointment.slot_id, func.count())
                .where(Appointment.status == AppointmentStatus.BOOKED)
                .group_by(Appointment.slot_id)
            ).all()
        )
        counters = dict(session.execute(select(Slot.id, Slot.booked).where(Slot.booked > 0)).all())
        assert live == counters and live
        references = session.scalars(select(Appointment.reference).limit(50)).all()
        assert all(clean_reference(r) == r for r in references)
        names = session.scalars(select(Patient.full_name)).all()
        assert any(n.isascii() for n in names) and any(not n.isascii() for n in names)
        shared = session.scalar(select(PhoneNumber.e164).where(PhoneNumber.relation.is_not(None)))
        assert shared is not None
        matches = PatientRepository(session).find_by_phone(shared)
        assert len(matches) >= 2 and matches[0].relation is None
        history = PatientRepository(session).history(matches[0].patient_id)
        assert history.numbers
        assert UserRepository(session).authenticate("admin", "hotline-admin-dev") is not None
        assert session.scalar(select(func.count()).select_from(User)) == 3
    # Ids continue after the seeded ones (PostgreSQL sequences were moved on).
    with database.session() as session:
        new_id = PatientRepository(session).create(mrn="NEW1", full_name="New Patient")
        assert new_id == 301
    again = CliRunner().invoke(
        data_group, ["seed", "--patients", "100"], obj=_settings(database, tmp_path)
    )
    assert again.exit_code != 0 and "already has patients" in again.output


def test_seed_is_reproducible(tmp_path: Path) -> None:
    names = []
    for run in ("a", "b"):
        database = Database(f"sqlite:///{tmp_path / run}.db")
        database.migrate()
        seed_database(database, patients=120, seed=99, today=dt.date(2030, 1, 7))
        with database.session() as session:
            names.append(
                session.execute(
                    select(Patient.full_name, Patient.national_id_last4).order_by(Patient.id)
                ).all()
            )
        database.dispose()
    assert names[0] == names[1]


PATIENTS_CSV = """\
mrn,full_name,sex,date_of_birth,national_id,preferred_language,vip,chronic,\
phone,family_phone,family_relation
A001,王伟,male,1980-05-01,110105198005010012,zh,no,yes,138 0013 8001,,
A002,Mary Smith,female,1975-02-28,,en,true,false,+86 139 1000 2002,13800138001,daughter
A003,李娜,female,not-a-date,,zh,,,13800138003,,
,Missing Mrn,female,,,zh,,,13800138004,,
A005,赵强,robot,,,zh,,,13800138005,,
A006,钱芳,female,,,zh,,,call me,,
A001,Duplicate Record,female,,,zh,,,13800138007,,
A008,孙丽,female,,,xx,,,13800138008,,
A009,周杰,male,,,zh,maybe,,13800138009,,
A010,吴敏,female,1990-01-01,,zh,0,0,010-6552 8810,,
"""


def test_import_reports_rejected_rows_and_loads_the_rest(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "patients.csv"
    path.write_text(PATIENTS_CSV, encoding="utf-8")
    result = CliRunner().invoke(
        data_group, ["import", "--patients", str(path)], obj=_settings(database, tmp_path)
    )
    assert result.exit_code == 1  # rows were rejected
    assert "patients: 3 loaded, 7 rejected" in result.output
    for line, reason in [
        (4, "date_of_birth: not a date"),
        (5, "mrn: required but empty"),
        (6, "sex: must be one of"),
        (7, "phone: not a valid phone number in region CN"),
        (8, "mrn/national_id: a patient with this record number or national id exists"),
        (9, "preferred_language: must be one of"),
        (10, "vip: must be true or false"),
    ]:
        assert f"line {line}: {reason}" in result.output, result.output
    assert "call me" not in result.output  # reasons never echo values
    with database.session() as session:
        patients = PatientRepository(session)
        assert [m.relation for m in patients.find_by_phone("+8613800138001")] == [None, "daughter"]
        assert patients.find_by_national_id("110105198005010012") is not None
        assert patients.find_by_mrn("A010") is not None and patients.find_by_mrn("A003") is None


def test_import_appointments(database: Database, tmp_path: Path) -> None:
    from crm_store.repositories import ScheduleRepository

    with database.session() as session:
        schedule = ScheduleRepository(session)
        dept = schedule.add_department(code="CARD", name_zh="心内科", name_en="Cardiology")
        doctor = schedule.add_doctor(department_id=dept, name_zh="李明", name_en="Dr Li")
        start = dt.datetime(2099, 3, 4, 2, 0, tzinfo=dt.UTC)  # 10:00 Shanghai
        schedule.add_session(
            doctor_id=doctor, starts_at=start, ends_at=start + dt.timedelta(hours=1)
        )
        PatientRepository(session).create(mrn="A001", full_name="王伟")
        PatientRepository(session).create(mrn="A002", full_name="李娜")
    path = tmp_path / "appointments.csv"
    path.write_text(
        "mrn,department_code,doctor,starts_at\n"
        "A001,CARD,Dr Li,2099-03-04T10:00\n"
        "A002,CARD,李明,2099-03-04T02:15:00+00:00\n"
        "A002,CARD,Dr Li,2099-03-04T10:00\n"
        "NOPE,CARD,Dr Li,2099-03-04T10:30\n"
        "A002,CARD,Dr Li,tomorrow\n"
        "A002,CARD,Dr Who,2099-03-04T10:30\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        data_group, ["import", "--appointments", str(path)], obj=_settings(database, tmp_path)
    )
    assert "appointments: 2 loaded, 4 rejected" in result.output, result.output
    assert "line 4: slot" in result.output and "no place left" in result.output
    assert "line 5: mrn: no patient" in result.output
    assert "line 6: starts_at: not an ISO 8601" in result.output
    assert "line 7: starts_at: no slot" in result.output


def test_db_commands(database: Database, tmp_path: Path) -> None:
    settings = _settings(database, tmp_path)
    result = CliRunner().invoke(db_group, ["upgrade"], obj=settings)
    assert result.exit_code == 0 and f"revision {head_revision()}" in result.output
    result = CliRunner().invoke(db_group, ["current"], obj=settings)
    assert result.output.strip() == head_revision()
