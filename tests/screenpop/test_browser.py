# ruff: noqa: RUF001  (Chinese UI text uses full-width punctuation on purpose)
"""The consoles in a real headless Chromium: sign in, watch calls arrive and end live
(fed by the bus), reconnect after the socket drops, and an agent's refusal."""

from __future__ import annotations

import datetime as dt
import re

from playwright.async_api import Browser, Page, expect

from crm_store.repositories.calls import CallRepository
from tests.screenpop.conftest import PASSWORDS, Console, tracked_call


async def sign_in(page: Page, console: Console, username: str) -> None:
    await page.goto(f"{console.url}/login?lang=en")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORDS[username])
    await page.get_by_role("button", name="Sign in").click()


async def test_supervisor_watches_a_call_arrive_and_end(browser: Browser, console: Console) -> None:
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        await sign_in(page, console, "supervisor")
        await expect(page).to_have_url(f"{console.url}/calls")
        await expect(page.get_by_role("heading", name="Live calls")).to_be_visible()
        status = page.locator("#live-status")
        await expect(status).to_have_attribute("data-state", "connected")
        await expect(page.locator("#active-empty")).to_be_visible()

        # The tracker would publish this; the page is fed by the bus alone.
        call = tracked_call(
            "1700000200.1",
            patient_id=console.patients["wang"],
            arrived_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=75),
        )
        console.bus.publish("call.started", call)
        row = page.locator('#active-calls tbody tr[data-linkedid="1700000200.1"]')
        await expect(row).to_be_visible()
        await expect(row.locator("td.patient")).to_have_text("王秀英")
        await expect(row.locator("td.number")).to_have_text("+86 138****8000")
        await expect(row.locator("td.direction")).to_have_text("Inbound")
        await expect(row.locator("td.duration")).to_have_text(re.compile(r"^1:\d\d$"))
        await expect(page.locator("#active-count")).to_have_text("(1)")
        await expect(page.locator("#active-empty")).to_be_hidden()

        call.ended_at = call.arrived_at + dt.timedelta(seconds=80)
        call.hangup_cause, call.hangup_cause_text = 16, "Normal Clearing"
        console.bus.publish("call.ended", call)
        ended_row = page.locator('#ended-calls tbody tr[data-linkedid="1700000200.1"]')
        await expect(ended_row).to_be_visible()
        await expect(row).to_have_count(0)
        await expect(ended_row.locator("td.duration")).to_have_text("1:20")
        await expect(ended_row.locator("td.cause")).to_have_text("Normal clearing")
        await expect(page.locator("#active-empty")).to_be_visible()

        # The socket drops (web server restarted; its board reloads from the store, where
        # the CTI's call journal has written the call); the page reconnects and catches
        # up on a call that started while it was away.
        with console.database.session() as session:
            CallRepository(session).save(call.snapshot())
        await console.server.stop()
        await expect(status).to_have_attribute("data-state", "disconnected")
        await console.server.start()
        console.bus.publish("call.started", tracked_call("1700000200.2", number="anonymous"))
        await expect(status).to_have_attribute("data-state", "connected", timeout=20_000)
        await expect(
            page.locator('#active-calls tbody tr[data-linkedid="1700000200.2"] td.number')
        ).to_have_text("Withheld")
        await expect(ended_row).to_be_visible()

        # Keyboard: the skip link leads to the content.
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

        # Sign out: the socket is told and the page says so.
        await page.get_by_role("button", name="Sign out").click()
        await expect(page).to_have_url(f"{console.url}/login?logged_out=1")
        await expect(page.get_by_role("status")).to_have_text("You have signed out.")
        assert errors == []
    finally:
        await context.close()


async def test_chinese_interface(browser: Browser, console: Console) -> None:
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    try:
        await page.goto(f"{console.url}/login")
        await page.get_by_label("用户名").fill("supervisor")
        await page.get_by_label("密码").fill(PASSWORDS["supervisor"])
        await page.get_by_role("button", name="登录").click()
        await expect(page.get_by_role("heading", name="实时通话")).to_be_visible()
        await expect(page.locator("#live-status")).to_have_text("实时：通话变化会自动显示。")
        console.bus.publish("call.started", tracked_call("1700000300.1"))
        await expect(
            page.locator('#active-calls tbody tr[data-linkedid="1700000300.1"] td.direction')
        ).to_have_text("呼入")
    finally:
        await context.close()


async def test_agent_sees_a_clear_refusal(browser: Browser, console: Console) -> None:
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    try:
        await sign_in(page, console, "agent")
        await expect(page).to_have_url(f"{console.url}/")
        await expect(page.get_by_role("link", name="Live calls")).to_have_count(0)
        response = await page.goto(f"{console.url}/calls")
        assert response is not None and response.status == 403
        await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        await expect(page.get_by_role("alert")).to_contain_text(
            "This page shows patient data and is for supervisors only. You are signed in as agent."
        )
        await expect(page.locator("#live-calls")).to_have_count(0)
    finally:
        await context.close()


async def test_wrong_password_in_the_browser(browser: Browser, console: Console) -> None:
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    try:
        await page.goto(f"{console.url}/login")
        await page.get_by_label("Username").fill("supervisor")
        await page.get_by_label("Password").fill("not-the-password")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
        await expect(page.get_by_label("Username")).to_have_value("supervisor")
        await expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    finally:
        await context.close()
