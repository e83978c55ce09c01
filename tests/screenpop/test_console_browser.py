"""The agent console in a real headless Chromium against the real Asterisk: an agent signs
in, goes available from the keyboard, a caller handed over by the IVR rings the agent's
(simulated) phone and pops in the page with the right patient, and the agent books a free
slot from the pop — the store shows the booking made by that agent — then writes notes and
a disposition in wrap-up and ends it from the keyboard."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from acd.journal import AcdJournal
from acd.model import Agent, AgentState
from acd.service import AcdService
from crm_store.database import Database
from crm_store.enums import AuditAction, AuditEntity, BookingChannel
from crm_store.models import AcdCall, Appointment, AuditLogEntry, Patient, PhoneNumber
from crm_store.repositories.schedule import ScheduleRepository
from cti.ami import AmiClient
from cti.handover import HANDOVER_TOPIC
from cti.settings import Settings
from tests.acd.live import QUEUES, handover_of, park_caller
from tests.fixtures.hotline import CallerSide
from tests.screenpop.test_browser import sign_in
from tests.screenpop.test_pops import offer

pytestmark = pytest.mark.asterisk

SLOTS: list[int] = []


def schedule(database: Database, _patients: dict[str, int]) -> None:
    starts = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(days=3)
    with database.session() as session:
        repo = ScheduleRepository(session)
        department = repo.add_department(code="CARD", name_zh="心内科", name_en="Cardiology")
        doctor = repo.add_doctor(department_id=department, name_zh="李医生", name_en="Dr. Li")
        SLOTS[:] = repo.add_session(
            doctor_id=doctor, starts_at=starts, ends_at=starts + dt.timedelta(minutes=30)
        )


async def agent_console(browser: Browser, console: Any) -> tuple[BrowserContext, Page, list[str]]:
    """A fresh browser context with the agent signed in on the console page, and the
    page's script errors (a test ends by checking there were none)."""
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, console, "agent")
    await page.goto(f"{console.url}/console")
    return context, page, errors


async def test_agent_gets_the_pop_in_the_browser_and_books_from_it(
    browser: Browser,
    make_console: Any,
    caller_ami: CallerSide,
    test_settings: Settings,
    asterisk: Any,
) -> None:
    console = await make_console(before_start=schedule)
    ami = AmiClient.from_settings(test_settings, console.bus)
    service = AcdService.build(
        bus=console.bus,
        ami=ami,
        queues=QUEUES,
        agents=[Agent("agent", skills={"general": 2}, languages={"zh": 5})],
        phones={"agent": "Local/1005@agent-sim"},
    )
    console.server.app.state.services.acd = service
    journal = AcdJournal(console.bus, console.store)  # writes the ACD's call rows
    journal.start()
    await service.start()
    await ami.start(wait_s=30)
    context, page, errors = await agent_console(browser, console)
    try:
        await expect(page.get_by_role("heading", name="Agent console")).to_be_attached()
        await expect(page.locator("#pop-status")).to_have_attribute("data-state", "connected")
        await expect(page.locator("#no-call")).to_be_visible()
        await expect(page.locator("#agent-state")).to_have_text("Logged out")

        await page.keyboard.press("Alt+a")  # the shortcut for "Available"
        await expect(page.locator("#agent-state")).to_have_attribute("data-state", "available")
        assert service.agent("agent").state is AgentState.AVAILABLE

        parked = await park_caller(caller_ami)
        wang = console.patients["wang"]
        console.bus.publish(HANDOVER_TOPIC, handover_of(parked, "general", str(wang)))

        pop = page.locator("#pop")
        await expect(pop).to_be_visible()
        await expect(pop).to_have_attribute("data-call-id", parked.uniqueid)
        await expect(page.locator("#caller-name")).to_have_text("王秀英")
        await expect(page.locator("#flag-verified")).to_have_text("Identity verified")
        await expect(page.locator("#ivr-facts")).to_contain_text("预约")
        await expect(page.locator("#call-phase")).to_have_text(re.compile("Ringing|On call"))
        await expect(page.locator("#register-part")).to_be_hidden()

        await page.get_by_label("Department").select_option(label="Cardiology")
        await page.get_by_role("button", name="Show free slots").click()
        row = page.locator(f'#slots tbody tr[data-slot-id="{SLOTS[0]}"]')
        await expect(row).to_contain_text("Dr. Li")
        await row.get_by_role("button", name="Book").click()
        message = page.locator("#con-message")
        await expect(message).to_have_text(re.compile(r"^Booked: reference \S+\.$"))
        reference = (await message.text_content() or "").split("reference ")[1].rstrip(".")
        upcoming = page.locator(f'#upcoming tbody tr[data-reference="{reference}"]')
        await expect(upcoming).to_contain_text("Cardiology")
        # The booked slot had one place: it is gone from the list.
        await expect(row).to_have_count(0)

        with console.database.session() as session:
            booking = session.scalars(
                select(Appointment).where(Appointment.reference == reference)
            ).one()
            assert booking.patient_id == wang and booking.slot_id == SLOTS[0]
            assert booking.booked_by is BookingChannel.AGENT
            audited = session.scalars(
                select(AuditLogEntry.detail).where(
                    AuditLogEntry.user_id == console.user_ids["agent"],
                    AuditLogEntry.entity_type == AuditEntity.PATIENT,
                    AuditLogEntry.entity_id == wang,
                    AuditLogEntry.action == AuditAction.UPDATE,
                )
            ).all()
            assert [d["change"] for d in audited] == ["appointment_booked"]

        # The simulated phone answers: caller and agent talk; then the caller hangs up.
        await expect(page.locator("#call-phase")).to_have_attribute("data-phase", "answered")
        await expect(page.locator("#agent-state")).to_have_attribute("data-state", "on_call")
        await caller_ami.ami.send({"Action": "Hangup", "Channel": parked.channel})
        await expect(page.locator("#call-phase")).to_have_attribute("data-phase", "ended")
        # In wrap-up the agent still acts on the call they just had.
        await expect(page.locator("#agent-state")).to_have_attribute("data-state", "wrap_up")
        # The wrap-up timer runs beside the state (minutes:seconds since it began).
        timer = page.locator("#state-timer")
        await expect(timer).to_have_text(re.compile(r"^for \d+:\d\d$"))
        await page.get_by_label("Disposition", exact=True).select_option(label="Appointment booked")
        await page.get_by_label("Notes", exact=True).fill("Booked cardiology with Dr. Li.")
        await page.get_by_role("button", name="Save notes").click()
        await expect(message).to_have_text("Notes and disposition saved.")
        with console.database.session() as session:
            row = session.get(AcdCall, parked.uniqueid)
            assert row is not None and row.answered_by == "agent"
            assert (row.disposition, row.agent_notes, row.wrapped_up_by) == (
                "booked",
                "Booked cardiology with Dr. Li.",
                "agent",
            )
        await page.keyboard.press("Alt+w")  # end wrap-up
        await expect(page.locator("#agent-state")).to_have_attribute("data-state", "available")
        assert errors == []
    finally:
        await context.close()
        await service.close()
        await ami.close()
        await journal.close()


async def test_agent_registers_an_unknown_caller_and_the_pop_survives_a_reconnect(
    browser: Browser, console: Any
) -> None:
    context, page, errors = await agent_console(browser, console)
    try:
        status = page.locator("#pop-status")
        await expect(status).to_have_attribute("data-state", "connected")
        # The ACD's offer as it publishes it (the path through Asterisk is tested above).
        console.bus.publish("acd.offered", offer("1700000777.1", "agent", None))
        await expect(page.locator("#caller-name")).to_have_text("Unknown number")
        await expect(page.locator("#book-part")).to_be_hidden()
        await page.get_by_label("Full name").fill("赵六")
        await page.get_by_label("Phone number").fill("139 0000 3333")
        await page.get_by_role("button", name="Register").click()
        await expect(page.locator("#caller-name")).to_have_text("赵六")
        await expect(page.locator("#book-part")).to_be_visible()
        with console.database.session() as session:
            number = session.scalars(
                select(PhoneNumber.e164).join(Patient).where(Patient.full_name == "赵六")
            ).one()
        assert number == "+8613900003333"

        # The socket drops; the page reconnects and the pending call pops again.
        await console.server.stop()
        await expect(status).to_have_attribute("data-state", "disconnected")
        await console.server.start()
        await expect(status).to_have_attribute("data-state", "connected", timeout=20_000)
        await expect(page.locator("#caller-name")).to_have_text("赵六")
        await page.reload()  # a fresh page: the pop comes from the server, not the old page
        await expect(status).to_have_attribute("data-state", "connected")
        await expect(page.locator("#caller-name")).to_have_text("赵六")
        await expect(page.locator("#pop")).to_have_attribute("data-call-id", "1700000777.1")
        assert errors == []
    finally:
        await context.close()
