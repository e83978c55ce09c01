"""The agent console's API on SQLite and PostgreSQL: an agent acts on the patient of a call
offered to them (book, cancel, reschedule, complaint, register an unknown caller) and sets
their own ACD state; anything else is refused with a clear status and message, and every
change lands in the store with the agent's id and an audit row."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from acd.model import Agent, AgentState
from acd.service import AcdService, CallEnded
from crm_store.database import Database
from crm_store.enums import AuditAction, AuditEntity, BookingChannel, Role
from crm_store.gateway import StoreGateway
from crm_store.models import AcdCall, Appointment, AuditLogEntry, Complaint, Patient, PhoneNumber
from crm_store.repositories.acd import AcdRepository
from crm_store.repositories.schedule import ScheduleRepository
from crm_store.repositories.users import UserRepository
from cti.ami import AmiClient
from cti.bus import EventBus
from cti.settings import Settings
from screenpop.app import create_app
from screenpop.auth import AuthPolicy
from screenpop.dependencies import Services
from screenpop.server import WebServer
from tests.screenpop.conftest import PASSWORDS, WEB_TEST_PORT, seed
from tests.screenpop.test_pops import offer

WANG_CALL = "1700000900.1"
UNKNOWN_CALL = "1700000900.2"


@dataclass
class Desk:
    url: str
    bus: EventBus
    services: Services
    database: Database
    patients: dict[str, int]
    users: dict[str, int]
    department_id: int
    slots: list[int]  # three future slots of one place each

    @asynccontextmanager
    async def client(self, username: str) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(
            base_url=self.url,
            timeout=10,
            headers={"Accept": "application/json", "Origin": self.url},
        ) as client:
            response = await client.post(
                "/login", data={"username": username, "password": PASSWORDS[username]}
            )
            assert response.status_code == 303, response.text
            yield client

    async def offer(self, call_id: str, agent_id: str, patient_id: int | None) -> None:
        """The ACD offers a call: the pop becomes the agent's pending call."""
        self.bus.publish("acd.offered", offer(call_id, agent_id, patient_id))
        for _ in range(200):
            if self.services.pops.held_by(agent_id, call_id) is not None:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the offer never reached the pop desk")


def _schedule(database: Database) -> tuple[int, list[int]]:
    starts = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    with database.session() as session:
        schedule = ScheduleRepository(session)
        department = schedule.add_department(code="CARD", name_zh="心内科", name_en="Cardiology")
        doctor = schedule.add_doctor(department_id=department, name_zh="李医生", name_en="Dr. Li")
        slots = schedule.add_session(
            doctor_id=doctor, starts_at=starts, ends_at=starts + dt.timedelta(minutes=45)
        )
    return department, slots


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Desk]:
    users, patients = seed(database)
    with database.session() as session:
        users["agent2"] = UserRepository(session).create(
            username="agent2", display_name="Agent 2", role=Role.AGENT, password=PASSWORDS["agent"]
        )
    PASSWORDS.setdefault("agent2", PASSWORDS["agent"])
    department, slots = _schedule(database)
    store = StoreGateway(database)
    bus = EventBus()
    settings = Settings(
        state_dir=tmp_path / "state", cache_dir=tmp_path / "cache", web_port=WEB_TEST_PORT
    )
    app = create_app(store=store, bus=bus, settings=settings, policy=AuthPolicy())
    server = WebServer(app, settings, graceful_shutdown_s=2)
    await server.start()
    try:
        yield Desk(
            server.url, bus, app.state.services, database, patients, users, department, slots
        )
    finally:
        await server.stop()
        await bus.close()
        store.close()


def audit_rows(database: Database, user_id: int) -> list[tuple[AuditAction, int, dict[str, Any]]]:
    with database.session() as session:
        rows = session.scalars(
            select(AuditLogEntry)
            .where(
                AuditLogEntry.user_id == user_id, AuditLogEntry.entity_type == AuditEntity.PATIENT
            )
            .order_by(AuditLogEntry.id)
        )
        return [(r.action, r.entity_id, dict(r.detail or {})) for r in rows]


async def test_agent_books_cancels_and_reschedules_for_the_popped_patient(desk: Desk) -> None:
    wang = desk.patients["wang"]
    await desk.offer(WANG_CALL, "agent", wang)
    async with desk.client("agent") as agent:
        listed = await agent.get(
            f"/api/console/calls/{WANG_CALL}/slots", params={"department_id": desk.department_id}
        )
        assert listed.status_code == 200
        assert [s["slot_id"] for s in listed.json()["slots"]] == desk.slots
        assert listed.json()["slots"][0]["doctor"] == {"zh": "李医生", "en": "Dr. Li"}

        booked = await agent.post(
            f"/api/console/calls/{WANG_CALL}/appointments", json={"slot_id": desk.slots[0]}
        )
        assert booked.status_code == 201, booked.text
        reference = booked.json()["appointment"]["reference"]

        # The slot had one place: booking it again is a clear 409, nothing changes.
        again = await agent.post(
            f"/api/console/calls/{WANG_CALL}/appointments", json={"slot_id": desk.slots[0]}
        )
        assert again.status_code == 409
        assert again.json()["error"] == "booking_refused"
        assert "already" in again.json()["message"] or "no place" in again.json()["message"]

        moved = await agent.post(
            f"/api/console/calls/{WANG_CALL}/appointments/{reference}/reschedule",
            json={"slot_id": desk.slots[1]},
        )
        assert moved.status_code == 200, moved.text
        new_reference = moved.json()["appointment"]["reference"]
        assert new_reference != reference

        cancelled = await agent.post(
            f"/api/console/calls/{WANG_CALL}/appointments/{new_reference}/cancel",
            json={"reason": "patient is travelling"},
        )
        assert cancelled.status_code == 200
        twice = await agent.post(
            f"/api/console/calls/{WANG_CALL}/appointments/{new_reference}/cancel", json={}
        )
        assert twice.status_code == 409
        assert "cancel" in twice.json()["message"]

        refreshed = await agent.get(f"/api/console/calls/{WANG_CALL}/pop")
        assert refreshed.status_code == 200
        assert refreshed.json()["pop"]["caller"]["name"] == "王秀英"

    with desk.database.session() as session:
        rows = session.execute(
            select(Appointment.reference, Appointment.status, Appointment.booked_by).where(
                Appointment.patient_id == wang
            )
        ).all()
    assert {(r.reference, r.status.value, r.booked_by) for r in rows} == {
        (reference, "cancelled", BookingChannel.AGENT),
        (new_reference, "cancelled", BookingChannel.AGENT),
    }
    changes = [d["change"] for a, p, d in audit_rows(desk.database, desk.users["agent"]) if
               a is AuditAction.UPDATE and p == wang]  # fmt: skip
    assert changes == ["appointment_booked", "appointment_rescheduled", "appointment_cancelled"]
    views = [
        d for a, p, d in audit_rows(desk.database, desk.users["agent"]) if a is AuditAction.VIEW
    ]
    assert views and views[-1]["view"] == "console"


async def test_an_agent_cannot_act_on_a_call_or_patient_not_offered_to_them(desk: Desk) -> None:
    await desk.offer(WANG_CALL, "agent", desk.patients["wang"])
    async with desk.client("agent2") as other:
        for method, path, body in (
            ("GET", f"/api/console/calls/{WANG_CALL}/pop", None),
            ("GET", f"/api/console/calls/{WANG_CALL}/slots?department_id=1", None),
            ("POST", f"/api/console/calls/{WANG_CALL}/appointments", {"slot_id": desk.slots[0]}),
            (
                "POST",
                f"/api/console/calls/{WANG_CALL}/complaints",
                {"category": "service", "description": "rude on the phone"},
            ),
            ("POST", f"/api/console/calls/{WANG_CALL}/patient", {"full_name": "Someone"}),
        ):
            response = await other.request(method, path, json=body)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["error"] == "not_your_call"
    async with desk.client("agent") as agent:
        # A call id never offered to anyone is refused the same way.
        response = await agent.post(
            "/api/console/calls/1700000999.9/appointments", json={"slot_id": desk.slots[0]}
        )
        assert response.status_code == 403
    with desk.database.session() as session:
        assert session.scalars(select(Appointment)).all() == []
        assert session.scalars(select(Complaint)).all() == []
    assert audit_rows(desk.database, desk.users["agent2"]) == []


async def test_invalid_bodies_get_422_with_the_fields_at_fault(desk: Desk) -> None:
    await desk.offer(WANG_CALL, "agent", desk.patients["wang"])
    async with desk.client("agent") as agent:
        cases = (
            (f"/api/console/calls/{WANG_CALL}/appointments", {"slot_id": "soon"}, "slot_id"),
            (f"/api/console/calls/{WANG_CALL}/appointments", {"slot": 1}, "slot"),
            (
                f"/api/console/calls/{WANG_CALL}/complaints",
                {"category": "weather", "description": "it rained in the lobby"},
                "category",
            ),
            (
                f"/api/console/calls/{WANG_CALL}/complaints",
                {"category": "service", "description": "bad\x00"},
                "description",
            ),
            ("/api/console/calls/not-a-call/appointments", {"slot_id": 1}, "call_id"),
            ("/api/console/state", {"action": "pause", "reason": "nap"}, "reason"),
        )
        for path, body, field in cases:
            response = await agent.post(path, json=body)
            assert response.status_code == 422, (path, response.text)
            problems = response.json()["problems"]
            assert any(field in p["field"] for p in problems), problems


async def test_agent_opens_a_complaint_and_registers_an_unknown_caller(desk: Desk) -> None:
    wang = desk.patients["wang"]
    await desk.offer(WANG_CALL, "agent", wang)
    async with desk.client("agent") as agent:
        opened = await agent.post(
            f"/api/console/calls/{WANG_CALL}/complaints",
            json={"category": "waiting_time", "description": "waited two hours at the clinic"},
        )
        assert opened.status_code == 201, opened.text
        ticket = opened.json()["ticket"]

        await desk.offer(UNKNOWN_CALL, "agent", None)
        no_patient = await agent.post(
            f"/api/console/calls/{UNKNOWN_CALL}/appointments", json={"slot_id": desk.slots[2]}
        )
        assert no_patient.status_code == 409 and no_patient.json()["error"] == "no_patient"
        registered = await agent.post(
            f"/api/console/calls/{UNKNOWN_CALL}/patient",
            json={"full_name": "赵六", "number": "139 0000 2222"},
        )
        assert registered.status_code == 201, registered.text
        pop = registered.json()["pop"]
        assert pop["caller"]["known"] and pop["caller"]["name"] == "赵六"
        again = await agent.post(
            f"/api/console/calls/{UNKNOWN_CALL}/patient", json={"full_name": "赵六"}
        )
        assert again.status_code == 409 and again.json()["error"] == "patient_known"
        booked = await agent.post(
            f"/api/console/calls/{UNKNOWN_CALL}/appointments", json={"slot_id": desk.slots[2]}
        )
        assert booked.status_code == 201, booked.text

    with desk.database.session() as session:
        complaint = session.scalars(
            select(Complaint).where(Complaint.ticket_number == ticket)
        ).one()
        assert complaint.patient_id == wang and complaint.opened_via is BookingChannel.AGENT
        new = session.scalars(select(Patient).where(Patient.full_name == "赵六")).one()
        numbers = session.scalars(
            select(PhoneNumber.e164).where(PhoneNumber.patient_id == new.id)
        ).all()
        assert numbers == ["+8613900002222"]
        assert session.scalars(
            select(Appointment.slot_id).where(Appointment.patient_id == new.id)
        ).all() == [desk.slots[2]]
    created = [
        (a, p)
        for a, p, d in audit_rows(desk.database, desk.users["agent"])
        if a is AuditAction.CREATE
    ]
    assert created == [(AuditAction.CREATE, new.id)]


async def test_agent_sets_their_own_state_through_the_acd(
    desk: Desk, test_settings: Settings
) -> None:
    async with desk.client("agent") as agent:
        off = await agent.post("/api/console/state", json={"action": "available"})
        assert off.status_code == 409 and "not running" in off.json()["message"]

        ami = AmiClient.from_settings(test_settings, desk.bus)  # never started: no call rings
        service = AcdService.build(
            bus=desk.bus,
            ami=ami,
            queues=[],
            agents=[Agent("agent", skills={"general": 2}, languages={"zh": 5})],
            phones={"agent": "Local/1005@agent-sim"},
        )
        desk.services.acd = service
        me = await agent.get("/api/console/me")
        assert me.json()["agent"]["state"] == "logged_out"
        assert me.json()["departments"] == [
            {"id": desk.department_id, "code": "CARD", "zh": "心内科", "en": "Cardiology"}
        ]
        steps = (
            ({"action": "available"}, 200, "available"),
            ({"action": "pause", "reason": "meal"}, 200, "paused"),
            ({"action": "end_wrap_up"}, 409, "paused"),
            ({"action": "available"}, 200, "available"),
            ({"action": "logout"}, 200, "logged_out"),
        )
        for body, status, state in steps:
            response = await agent.post("/api/console/state", json=body)
            assert response.status_code == status, (body, response.text)
            assert service.agent("agent").state is AgentState(state)
        assert service.agent("agent").pause_reason is None

    async with desk.client("agent2") as stranger:
        response = await stranger.post("/api/console/state", json={"action": "available"})
        assert response.status_code == 409
        assert "not set up as an agent" in response.json()["message"]


async def test_agent_writes_notes_and_a_disposition_on_the_call_they_just_had(desk: Desk) -> None:
    wang = desk.patients["wang"]
    with desk.database.session() as session:
        AcdRepository(session).call_queued(
            WANG_CALL, queue="general", priority="normal", patient_id=wang,
            at=dt.datetime.now(dt.UTC),
        )  # fmt: skip
    await desk.offer(WANG_CALL, "agent", wang)
    desk.bus.publish("acd.ended", CallEnded(WANG_CALL, "agent", dt.datetime.now(dt.UTC)))
    for _ in range(200):  # the call moves from pending to the agent's last call
        if "agent" not in desk.services.pops.pending:
            break
        await asyncio.sleep(0.01)
    path = f"/api/console/calls/{WANG_CALL}/wrap-up"
    async with desk.client("agent") as agent:
        first = await agent.post(path, json={"disposition": "information", "notes": "hours"})
        assert first.status_code == 200, first.text
        corrected = await agent.post(
            path, json={"disposition": "booked", "notes": "booked cardiology\nfor Thursday"}
        )
        assert corrected.status_code == 200
        bad = await agent.post(path, json={"disposition": "fine"})
        assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "disposition"
        await desk.offer(UNKNOWN_CALL, "agent", None)  # never queued by the ACD
        missing = await agent.post(
            f"/api/console/calls/{UNKNOWN_CALL}/wrap-up", json={"disposition": "wrong_number"}
        )
        assert missing.status_code == 404 and "never reached" in missing.json()["message"]
        # A new offer replaces the agent's last call: the old one is closed to them.
        late = await agent.post(path, json={"disposition": "other"})
        assert late.status_code == 403
    async with desk.client("agent2") as other:
        response = await other.post(path, json={"disposition": "other"})
        assert response.status_code == 403
    with desk.database.session() as session:
        row = session.get(AcdCall, WANG_CALL)
        assert row is not None
        assert (row.disposition, row.agent_notes, row.wrapped_up_by) == (
            "booked",
            "booked cardiology\nfor Thursday",
            "agent",
        )
        assert row.wrapped_up_at is not None
    changes = [d for a, p, d in audit_rows(desk.database, desk.users["agent"]) if p == wang]
    assert [d["disposition"] for d in changes if d.get("change") == "call_wrapped_up"] == [
        "information",
        "booked",
    ]
