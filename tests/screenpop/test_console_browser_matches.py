"""The agent console in Chromium with an unknown caller: likely matches with masked
numbers, attached from the keyboard after the agent verified the caller, then the
patient's recent calls with earlier agents' dispositions and notes — in English and
Chinese, with no untranslated text on the page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from crm_store.database import Database
from crm_store.enums import AuditAction, AuditEntity, CallDirection, CallDisposition
from crm_store.models import AuditLogEntry
from crm_store.repositories.acd import AcdRepository
from crm_store.repositories.calls import CallRepository, CallSnapshot
from crm_store.repositories.patients import PatientRepository
from tests.screenpop.conftest import tracked_call
from tests.screenpop.test_browser import sign_in
from tests.screenpop.test_pops import offer

CALL = "1700000888.1"
EARLIER = "1700000111.1"
LIVE = "1700000999.5"
FAMILY: dict[str, int] = {}


def family(database: Database, _patients: dict[str, int]) -> None:
    """Mother and son share a mobile; the son called last month and an agent wrapped up."""
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    with database.session() as session:
        patients = PatientRepository(session)
        FAMILY["mother"] = patients.create(
            mrn="F-1", full_name="张桂兰", date_of_birth=dt.date(1948, 3, 2),
            numbers=[("13812340077", None)],
        )  # fmt: skip
        FAMILY["son"] = patients.create(
            mrn="F-2", full_name="张伟", date_of_birth=dt.date(1975, 9, 9),
            numbers=[("13812340077", None)],
        )  # fmt: skip
        CallRepository(session).save(
            CallSnapshot(
                linkedid=EARLIER, direction=CallDirection.INBOUND,
                caller_number_raw="13812340077", caller_number_e164="+8613812340077",
                caller_name=None, patient_id=FAMILY["son"], arrived_at=then,
                answered_at=then + dt.timedelta(seconds=30),
                ended_at=then + dt.timedelta(minutes=4), hangup_cause=16,
                hangup_cause_text="Normal Clearing", legs=(),
            )
        )  # fmt: skip
        acd = AcdRepository(session)
        acd.call_queued(EARLIER, queue="general", priority="normal", patient_id=FAMILY["son"],
                        at=then)  # fmt: skip
        acd.call_answered(EARLIER, "1003", then + dt.timedelta(seconds=30))
        acd.wrap_up(EARLIER, agent_key="1003", disposition=CallDisposition.CALL_BACK,
                    notes="Wants a call back about his mother's tests.", at=then)  # fmt: skip


def unknown_offer(number: str) -> Any:
    offered = offer(CALL, "agent", None)
    return dataclasses.replace(
        offered, handover=dataclasses.replace(offered.handover, caller_number=number)
    )


async def open_console(browser: Browser, console: Any, locale: str) -> tuple[Any, Page, list[str]]:
    context = await browser.new_context(locale=locale)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, console, "agent")
    await page.goto(f"{console.url}/console?lang={locale[:2]}")  # sign_in chose English
    await expect(page.locator("#pop-status")).to_have_attribute("data-state", "connected")
    return context, page, errors


async def test_agent_attaches_a_verified_likely_match_and_sees_earlier_dispositions(
    browser: Browser, make_console: Any
) -> None:
    console = await make_console(before_start=family)
    context, page, errors = await open_console(browser, console, "en-US")
    try:
        await expect(page.locator(".shortcuts")).to_contain_text("Alt+M likely matches")
        console.bus.publish("acd.offered", unknown_offer("8613812340077"))
        await expect(page.locator("#caller-name")).to_have_text("Unknown number")
        await expect(page.locator("#caller-facts")).to_contain_text("138 1234 0077")
        likely = page.locator("#likely tbody tr")
        await expect(likely).to_have_count(2)
        son = page.locator(f'#likely tbody tr[data-patient-id="{FAMILY["son"]}"]')
        await expect(son).to_contain_text("张伟")
        await expect(son).to_contain_text("+86*******0077")
        await expect(son).to_contain_text("1975")
        await expect(son).to_contain_text("Same number")
        await expect(page.locator("#likely-part")).not_to_contain_text("F-2")  # no MRN

        await page.keyboard.press("Alt+m")
        await expect(page.locator("#verified-by")).to_be_focused()
        await page.keyboard.press("ArrowDown")  # date of birth → record number
        await expect(page.locator("#verified-by")).to_have_value("mrn")
        await son.get_by_role("button", name="Verified — this is the caller").click()

        await expect(page.locator("#caller-name")).to_have_text("张伟")
        await expect(page.locator("#flag-verified")).to_have_text("Identity verified")
        await expect(page.locator("#likely-part")).to_be_hidden()
        await expect(page.locator("#book-part")).to_be_visible()
        earlier = page.locator(f'#recent-calls li[data-linkedid="{EARLIER}"]')
        await expect(earlier).to_contain_text("agent 1003")
        await expect(earlier).to_contain_text("Call back needed")
        await expect(earlier).to_contain_text("Wants a call back about his mother's tests.")
        await page.keyboard.press("Alt+n")
        await expect(page.locator("#wrap-notes")).to_be_focused()

        with console.database.session() as session:
            details = session.scalars(
                select(AuditLogEntry.detail).where(
                    AuditLogEntry.user_id == console.user_ids["agent"],
                    AuditLogEntry.entity_type == AuditEntity.PATIENT,
                    AuditLogEntry.entity_id == FAMILY["son"],
                    AuditLogEntry.action == AuditAction.UPDATE,
                )
            ).all()
        assert [(d["change"], d["verified_by"]) for d in details] == [("call_attached", "mrn")]
        body = await page.locator("main").inner_text()
        assert not re.search(r"\b(con|disp|state|error)_[a-z_]+", body), body
        assert errors == []
    finally:
        await context.close()


async def test_the_likely_matches_in_chinese(browser: Browser, make_console: Any) -> None:
    console = await make_console(before_start=family)
    context, page, errors = await open_console(browser, console, "zh-CN")
    try:
        await expect(page.locator(".shortcuts")).to_contain_text("Alt+M 可能匹配")
        console.bus.publish("acd.offered", unknown_offer("+86 138 1234 0077"))
        await expect(page.locator("#caller-name")).to_have_text("未知号码")
        await expect(page.locator("#likely-heading")).to_contain_text("可能匹配的患者")
        await expect(page.locator("#likely tbody tr").first).to_contain_text("同一号码")
        await expect(page.get_by_label("核实方式")).to_have_value("date_of_birth")
        await expect(page.locator("#verified-by option").first).to_have_text("出生日期")
        body = await page.locator("main").inner_text()
        assert not re.search(r"\b(con|disp|state|error)_[a-z_]+", body), body
        # A withheld number: said so, and no suggestions (nothing to go on).
        console.bus.publish("acd.offered", offer("1700000888.2", "agent", None))
        await expect(page.locator("#pop")).to_have_attribute("data-call-id", "1700000888.2")
        await expect(page.locator("#caller-facts")).to_contain_text("号码未显示")
        await expect(page.locator("#likely-none")).to_contain_text("没有可能匹配的患者")
        assert errors == []
    finally:
        await context.close()


async def test_a_supervisor_opens_a_live_calls_pop_read_only(
    browser: Browser, make_console: Any
) -> None:
    console = await make_console(before_start=family)
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        await sign_in(page, console, "supervisor")
        await expect(page).to_have_url(f"{console.url}/calls")
        await expect(page.locator("#live-status")).to_have_attribute("data-state", "connected")
        await expect(page.get_by_role("link", name="Agent console")).to_have_count(0)
        console.bus.publish("acd.offered", offer(LIVE, "agent", FAMILY["son"]))
        console.bus.publish("call.started", tracked_call(LIVE, patient_id=FAMILY["son"]))
        row = page.locator(f'#active-calls tbody tr[data-linkedid="{LIVE}"]')
        await row.get_by_role("link", name="张伟").click()
        await expect(page.locator("#caller-name")).to_have_text("张伟")
        await expect(page.locator("#sp-read-only")).to_have_text(
            "Read-only: the call is offered to agent agent; only they act on it."
        )
        await expect(page.locator("#recent-calls")).to_contain_text("Call back needed")
        await expect(page.locator("#supervisor-pop form")).to_have_count(0)
        await expect(page.locator("#supervisor-pop button")).to_have_count(0)
        with console.database.session() as session:
            views = session.scalars(
                select(AuditLogEntry.detail).where(
                    AuditLogEntry.user_id == console.user_ids["supervisor"],
                    AuditLogEntry.entity_id == FAMILY["son"],
                    AuditLogEntry.action == AuditAction.VIEW,
                )
            ).all()
        assert {"view": "supervisor_pop", "via": "page"} in views
        assert errors == []
    finally:
        await context.close()
