# ruff: noqa: RUF001  (Chinese UI text uses full-width punctuation on purpose)
"""The dialer's operators' page in a real headless Chromium: a supervisor sees a refill
that happened (seeded through the repositories), its calls, the figures and the chart;
each view is audited; an agent is refused."""

from __future__ import annotations

import zoneinfo

from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from crm_store.enums import AuditAction, AuditEntity
from crm_store.models import AuditLogEntry
from screenpop.app import DEFAULT_TIMEZONE
from tests.screenpop.conftest import Console
from tests.screenpop.test_browser import sign_in
from tests.screenpop.test_dialer_api import NOW, NUMBERS, Refills, make_refills


def _watch_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


async def refill_console(make_console: object) -> tuple[Console, Refills]:
    """A console over a store holding test_dialer_api's refills (one filled, one open)."""
    made: list[Refills] = []
    console: Console = await make_console(  # type: ignore[operator]
        before_start=lambda database, _patients: make_refills(database, made)
    )
    return console, made[0]


def _page_audits(console: Console) -> list[int]:
    with console.database.session() as session:
        return sorted(
            session.scalars(
                select(AuditLogEntry.entity_id).where(
                    AuditLogEntry.action == AuditAction.VIEW,
                    AuditLogEntry.entity_type == AuditEntity.PATIENT,
                )
            )
        )


async def test_supervisor_sees_a_refill_its_calls_and_the_figures(
    browser: Browser, make_console: object
) -> None:
    console, refills = await refill_console(make_console)
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    errors = _watch_errors(page)
    try:
        await sign_in(page, console, "supervisor")
        await page.get_by_role("link", name="Dialer").click()
        await expect(page).to_have_url(f"{console.url}/dialer")
        await expect(page.get_by_role("heading", name="Outbound dialer")).to_be_visible()

        # The figures: slot A was refilled 12 minutes after its cancellation, on the
        # second of two calls; slot B is still being offered.
        figures = page.locator("#figures")
        await expect(figures.locator('[data-figure="fill-rate"] dd').first).to_have_text("100%")
        await expect(figures.locator('[data-figure="fill-rate"] dd.sub')).to_have_text(
            "1 of 1 finished refills"
        )
        await expect(figures.locator('[data-figure="time-to-fill"] dd').first).to_have_text(
            "12 min"
        )
        await expect(figures.locator('[data-figure="calls-per-fill"] dd').first).to_have_text("2.0")
        await expect(figures.locator('[data-figure="revenue"] dd').first).to_have_text("CNY 50.00")

        # The chart: today's bar holds both freed places, one refilled.
        today = NOW.astimezone(zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)).date().isoformat()
        bar = page.locator(f'#refill-chart g[data-day="{today}"]')
        await expect(bar).to_have_attribute("data-freed", "2")
        await expect(bar).to_have_attribute("data-filled", "1")
        await expect(bar.locator("rect.filled")).to_have_count(1)
        box = await bar.locator("rect.filled").bounding_box()
        assert box is not None and box["height"] > 0
        await expect(page.locator("#chart-caption")).to_contain_text(
            "Places freed per day (2) and refilled by the dialer (1)."
        )

        # The offer still ringing.
        running = page.locator(f'#running-offers tr[data-offer-id="{refills.in_flight_offer}"]')
        await expect(running.locator("td.patient")).to_have_text(str(refills.patients["b"]))

        # Slot A's refill history: a decline, then the accept.
        row = page.locator(f'#refill-history tr[data-slot-id="{refills.filled_slot}"]')
        await expect(row.locator("td.status")).to_have_text("Refilled")
        await expect(row.locator("td.calls li")).to_have_count(2)
        await expect(row.locator("td.calls li").nth(0)).to_contain_text(
            f"Patient no. {refills.patients[NUMBERS[0]]} · declined"
        )
        await expect(row.locator("td.calls li").nth(1)).to_contain_text(
            f"Patient no. {refills.patients[NUMBERS[1]]} · accepted"
        )
        await row.get_by_role("link", name=str(refills.filled_slot)).click()
        await expect(
            page.get_by_role("heading", name=f"Refill history of slot {refills.filled_slot}")
        ).to_be_visible()
        await expect(page.locator("#refill-history tbody tr")).to_have_count(1)

        # The follow-up survey and its answers.
        survey = page.locator("#reminder-calls tbody tr")
        await expect(survey).to_have_count(1)
        await expect(survey.locator("td.result")).to_have_text("Survey completed")
        await expect(survey.locator("td.answers")).to_have_text(
            "feeling_better = 2; satisfaction = 1"
        )

        assert errors == []

        # A period longer than a year is refused with the console's error page.
        response = await page.goto(f"{console.url}/dialer?days=400")
        assert response is not None and response.status == 422
        await expect(page.get_by_role("alert")).to_contain_text("days")
    finally:
        await context.close()

    # Every patient the page showed was audited, once per page view: the first view
    # (running offer, slot history, follow-up) and the slot's own history.
    b, first, second = refills.patients["b"], *(refills.patients[n] for n in NUMBERS[:2])
    assert _page_audits(console) == sorted([b, first, second, b, first, second])


async def test_the_page_in_chinese(browser: Browser, make_console: object) -> None:
    console, refills = await refill_console(make_console)
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    try:
        await sign_in(page, console, "supervisor")
        await page.goto(f"{console.url}/dialer?lang=zh&days=7")
        await expect(page.get_by_role("heading", name="自动外呼")).to_be_visible()
        await expect(page.get_by_role("heading", name="号源回补（最近 7 天）")).to_be_visible()
        row = page.locator(f'#refill-history tr[data-slot-id="{refills.open_slot}"]')
        await expect(row.locator("td.status")).to_have_text("邀约中")
        await expect(page.locator("#reminder-calls td.result")).to_have_text("问卷已完成")
    finally:
        await context.close()


async def test_an_agent_is_refused(browser: Browser, make_console: object) -> None:
    console, _refills = await refill_console(make_console)
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    try:
        await sign_in(page, console, "agent")
        await expect(page).to_have_url(f"{console.url}/")
        await expect(page.get_by_role("link", name="Dialer")).to_have_count(0)
        response = await page.goto(f"{console.url}/dialer")
        assert response is not None and response.status == 403
        await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        await expect(page.locator("#dialer")).to_have_count(0)
        await expect(page.locator("#refill-history")).to_have_count(0)
    finally:
        await context.close()
    assert _page_audits(console) == []


async def test_an_admin_is_refused_the_dialer_without_seeing_a_patient(
    make_console: object,
) -> None:
    console, _refills = await refill_console(make_console)
    async with console.client(headers={"Accept-Language": "en"}) as client:
        await console.login(client, "admin")
        for path in ("/dialer", "/api/dialer/offers", "/api/dialer/refills"):
            response = await client.get(path)
            assert response.status_code == 403, path
            assert "Holder" not in response.text and "Waiting" not in response.text, path
            assert not any(n[-8:] in response.text for n in NUMBERS), path
        api = await client.get("/api/dialer/reminders")
        assert api.status_code == 403 and api.json()["error"] == "forbidden"
        page = await client.get("/dialer")
        assert "This page shows patient data and is for supervisors only." in page.text
        assert 'href="/dialer"' not in page.text
    assert _page_audits(console) == []
