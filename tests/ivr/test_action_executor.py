"""The IVR's actions against the real store, on SQLite and PostgreSQL (``database``)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from crm_store.database import Database
from crm_store.enums import AppointmentStatus, ComplaintStatus, Sex
from crm_store.gateway import StoreGateway
from crm_store.models import Complaint
from crm_store.repositories import (
    AppointmentRepository,
    ComplaintRepository,
    PatientRepository,
    ScheduleRepository,
)
from cti.settings import Settings
from ivr.action_executor import ActionExecutor
from ivr.flows import ActionResult, FlowEngine, Identity, RunAction, Transfer, load_flows
from tests.ivr.flows.conftest import FLOWS_DIR, Caller

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
DOB = "19491231"


@dataclass
class Clinic:
    cardiology: int
    doctor_id: int
    slot_ids: list[int]  # tomorrow 09:00-10:00 clinic time, 15 min, one place each
    patient_id: int
    other_patient_id: int


def build_clinic(database: Database) -> Clinic:
    tomorrow = dt.datetime.now(TZ).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time(9), TZ).astimezone(dt.UTC)
    with database.session() as session:
        schedule = ScheduleRepository(session)
        cardiology = schedule.add_department(code="CARD", name_zh="心内科", name_en="Cardiology")
        schedule.add_department(code="DERM", name_zh="皮肤科", name_en="Dermatology")
        doctor = schedule.add_doctor(department_id=cardiology, name_zh="李明", name_en="Li Ming")
        slots = schedule.add_session(
            doctor_id=doctor, starts_at=start, ends_at=start + dt.timedelta(hours=1)
        )
        patients = PatientRepository(session)
        patient = patients.create(
            mrn="MRN0001",
            full_name="张秀英",
            sex=Sex.FEMALE,
            date_of_birth=dt.date(1949, 12, 31),
            numbers=[("138 0013 8000", None)],
        )
        other = patients.create(mrn="MRN0002", full_name="Emily Zhang")
    return Clinic(cardiology, doctor, slots, patient, other)


@pytest.fixture
def store(database: Database) -> Iterator[StoreGateway]:
    gateway = StoreGateway(database, readers=2)
    yield gateway
    gateway.close()


@pytest.fixture
def executor(store: StoreGateway) -> ActionExecutor:
    return ActionExecutor(store, Settings(clinic_timezone="Asia/Shanghai"))


def action(
    name: str, patient_id: int | None = None, language: str = "en", **params: str
) -> RunAction:
    identity = Identity.VERIFIED if patient_id is not None else Identity.UNKNOWN
    pid = None if patient_id is None else str(patient_id)
    return RunAction(name, params, language, pid, identity)


async def test_offers_then_books_a_free_slot(database: Database, executor: ActionExecutor) -> None:
    c = build_clinic(database)
    offers = await executor.run(
        action("list_free_slots", department="CARD", doctor="", day="tomorrow")
    )
    assert offers.outcome == "found"
    assert offers.data["offer_count"] == "3"
    assert offers.data["offer_1_id"] == str(c.slot_ids[0])
    assert offers.data["department_name"] == "Cardiology"
    assert "Li Ming" in offers.data["offer_1_text"]
    booked = await executor.run(action("book", c.patient_id, slot_id=offers.data["offer_2_id"]))
    assert booked.outcome == "booked"
    with database.session() as session:
        mine = AppointmentRepository(session).for_patient(c.patient_id)
        assert [(a.slot_id, a.reference) for a in mine] == [
            (c.slot_ids[1], booked.data["reference"])
        ]
    # The booked slot is no longer offered.
    again = await executor.run(
        action("list_free_slots", department="CARD", doctor="", day="tomorrow")
    )
    assert str(c.slot_ids[1]) not in {again.data[f"offer_{i}_id"] for i in (1, 2, 3)}


async def test_mandarin_offers_are_speakable(database: Database, executor: ActionExecutor) -> None:
    build_clinic(database)
    offers = await executor.run(
        action("list_free_slots", language="zh", department="CARD", doctor="", day="soonest")
    )
    assert offers.outcome == "found"
    assert offers.data["department_name"] == "心内科"
    assert "医生" in offers.data["offer_1_text"]
    assert "\uff1b" in offers.data["offers_text"]  # full-width semicolon between offers


async def test_a_taken_slot_is_reported_taken(database: Database, executor: ActionExecutor) -> None:
    c = build_clinic(database)
    slot = str(c.slot_ids[0])
    first = await executor.run(action("book", c.other_patient_id, slot_id=slot))
    second = await executor.run(action("book", c.patient_id, slot_id=slot))
    assert (first.outcome, second.outcome) == ("booked", "taken")
    with database.session() as session:
        assert AppointmentRepository(session).for_patient(c.patient_id) == []


async def test_cancel_frees_the_slot(database: Database, executor: ActionExecutor) -> None:
    c = build_clinic(database)
    slot = str(c.slot_ids[0])
    booked = await executor.run(action("book", c.patient_id, slot_id=slot))
    reference = booked.data["reference"]
    heard = await executor.run(action("lookup", c.patient_id, what="appointments"))
    assert heard.outcome == "found"
    assert heard.data["appointment_1_reference"] == reference
    assert heard.data["appointment_1_department"] == "CARD"
    assert heard.data["appointments_text"].startswith("Cardiology, ")
    # Someone else's caller cannot cancel it.
    foreign = await executor.run(action("cancel", c.other_patient_id, reference=reference))
    assert foreign.outcome == "not_found"
    cancelled = await executor.run(action("cancel", c.patient_id, reference=reference))
    assert cancelled.outcome == "cancelled"
    with database.session() as session:
        assert AppointmentRepository(session).get(reference).status is AppointmentStatus.CANCELLED
        assert ScheduleRepository(session).slot(c.slot_ids[0]).places_left == 1
    retaken = await executor.run(action("book", c.other_patient_id, slot_id=slot))
    assert retaken.outcome == "booked"
    none_left = await executor.run(action("lookup", c.patient_id, what="appointments"))
    assert none_left.outcome == "not_found"


async def test_reschedule_moves_the_booking(database: Database, executor: ActionExecutor) -> None:
    c = build_clinic(database)
    booked = await executor.run(action("book", c.patient_id, slot_id=str(c.slot_ids[0])))

    def reschedule(reference: str, slot_id: int) -> RunAction:
        return action("reschedule", c.patient_id, reference=reference, slot_id=str(slot_id))

    moved = await executor.run(reschedule(booked.data["reference"], c.slot_ids[2]))
    assert moved.outcome == "rescheduled"
    with database.session() as session:
        schedule = ScheduleRepository(session)
        assert schedule.slot(c.slot_ids[0]).places_left == 1
        assert schedule.slot(c.slot_ids[2]).places_left == 0
        upcoming = AppointmentRepository(session).for_patient(c.patient_id, upcoming_only=True)
        assert [a.slot_id for a in upcoming] == [c.slot_ids[2]]
    taken = await executor.run(action("book", c.other_patient_id, slot_id=str(c.slot_ids[1])))
    blocked = await executor.run(reschedule(moved.data["reference"], c.slot_ids[1]))
    assert (taken.outcome, blocked.outcome) == ("booked", "taken")


async def test_complaint_is_opened_and_its_status_heard(
    database: Database, executor: ActionExecutor
) -> None:
    c = build_clinic(database)
    opened = await executor.run(
        action(
            "open_complaint",
            c.patient_id,
            category="waiting_time",
            description="waited two hours",
            department="CARD",
        )
    )
    assert opened.outcome == "opened"
    ticket = opened.data["ticket_number"]
    with database.session() as session:
        view = ComplaintRepository(session).get(ticket)
        assert view.patient_id == c.patient_id
        department = session.scalar(
            select(Complaint.department_id).where(Complaint.ticket_number == ticket)
        )
        assert department == c.cardiology
        assert view.status is ComplaintStatus.OPEN
    status = await executor.run(action("complaint_status", ticket=" ".join(ticket)))
    assert status.outcome == "found"
    assert "received" in status.data["complaint_status_text"]
    missing = await executor.run(action("complaint_status", ticket="123"))
    assert missing.outcome == "not_found"


async def test_identity_checks(database: Database, executor: ActionExecutor) -> None:
    c = build_clinic(database)
    by_dob = await executor.run(
        RunAction(
            "verify_identity",
            {"method": "dob", "value": DOB},
            "en",
            str(c.patient_id),
            Identity.IDENTIFIED,
        )
    )
    assert (by_dob.outcome, by_dob.data["patient_id"]) == ("verified", str(c.patient_id))
    wrong = await executor.run(
        RunAction(
            "verify_identity",
            {"method": "dob", "value": "19500101"},
            "en",
            str(c.patient_id),
            Identity.IDENTIFIED,
        )
    )
    assert (wrong.outcome, wrong.data) == ("failed", {})
    by_mrn = await executor.run(
        action("verify_identity", method="mrn_dob", mrn="MRN0001", value=DOB)
    )
    assert (by_mrn.outcome, by_mrn.data["patient_id"]) == ("verified", str(c.patient_id))
    garbage = await executor.run(action("verify_identity", method="dob", value="99999999"))
    assert garbage.outcome == "failed"


async def test_personal_actions_need_a_patient(executor: ActionExecutor) -> None:
    result = await executor.run(action("book", slot_id="1"))
    assert result == ActionResult("book", "failed")
    unknown = await executor.run(RunAction("no_such_action", {}, "en", None, Identity.UNKNOWN))
    assert unknown.outcome == "failed"


async def test_hospital_information(database: Database, executor: ActionExecutor) -> None:
    c = build_clinic(database)
    departments = await executor.run(action("hospital_info", topic="departments"))
    assert departments.data["info_text"] == "Our departments are Cardiology, Dermatology."
    hours = await executor.run(action("hospital_info", language="zh", topic="opening_hours"))
    assert hours.outcome == "found" and "门诊" in hours.data["info_text"]
    days = await executor.run(action("hospital_info", topic="doctor_days", doctor=str(c.doctor_id)))
    assert days.outcome == "found" and days.data["info_text"].startswith("Doctor Li Ming")
    nobody = await executor.run(action("hospital_info", topic="doctor_days", doctor="999"))
    assert nobody.outcome == "not_found"


async def test_failed_verifications_are_limited_then_a_person(
    database: Database, executor: ActionExecutor
) -> None:
    """The shipped flow and the real store together: wrong dates of birth, each checked
    against the store, until the flow hands the caller to a person."""
    c = build_clinic(database)
    caller = Caller(FlowEngine(load_flows(FLOWS_DIR), default_language="zh"))
    caller.call(language="en", patient_id=str(c.patient_id), patient_name="Zhang")
    caller.silence()
    caller.press("1")  # book: verification first
    tries = 0
    while not any(isinstance(e, Transfer) for e in caller.last):
        assert caller.step == "main.ask_dob" and tries < 5
        caller.press("19500101#")
        result = await executor.run(caller.action())
        assert result.outcome == "failed"
        caller.send(result)
        tries += 1
    assert tries == 3
    assert caller.transfer().reason == "verification_failed"
    assert caller.state.identity is not Identity.VERIFIED
    with database.session() as session:
        assert AppointmentRepository(session).for_patient(c.patient_id) == []
