"""The supervisor reports page in a real headless Chromium, and its JSON and CSV API,
over a store holding a known day of call records (tests/store/report_records.py) and
the dialer's refills: the figures and the chart a supervisor sees, the CSV that parses,
the periods refused with 422, the agents refused with 403, every view audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import zoneinfo
from dataclasses import dataclass

from playwright.async_api import Browser, expect
from sqlalchemy import select

from crm_store.database import Database
from crm_store.enums import AuditAction, AuditEntity, Role
from crm_store.models import AuditLogEntry
from crm_store.repositories.users import UserRepository
from screenpop.app import DEFAULT_TIMEZONE
from tests.screenpop.conftest import Console
from tests.screenpop.test_browser import sign_in
from tests.screenpop.test_dialer_api import Refills, make_refills
from tests.screenpop.test_dialer_page import _watch_errors as watch_errors
from tests.store.report_records import seed_report_day

ZONE = zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)


@dataclass
class ReportConsole:
    console: Console
    today: dt.date
    agent_user_id: int  # the console user whose ACD id is "1001"


async def report_console(
    make_console: object, settings: dict[str, object] | None = None
) -> ReportConsole:
    """A console (clock at the real time) over today's known records and refills, with
    further ``settings`` fields if given."""
    today = dt.datetime.now(ZONE).date()
    start = dt.datetime.combine(today, dt.time(), tzinfo=ZONE).astimezone(dt.UTC)
    made: list[Refills] = []
    agent: list[int] = []

    def before(database: Database, _patients: object) -> None:
        seed_report_day(database, start)
        make_refills(database, made)
        with database.session() as session:
            agent.append(
                UserRepository(session).create(
                    username="1001",
                    display_name="Agent 1001",
                    role=Role.AGENT,
                    password="agent-1001-pass",
                )
            )

    console: Console = await make_console(  # type: ignore[operator]
        before_start=before, settings=settings
    )
    console.clock.now = time.time()
    return ReportConsole(console, today, agent[0])


def _summary(text: str) -> dict[tuple[str, str], tuple[str, str]]:
    """The summary CSV as {(section, item): (value, unit)}; its header checked."""
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "item", "value", "unit"]
    assert all(len(row) == 4 for row in rows)
    values = {(row[0], row[1]): (row[2], row[3]) for row in rows[1:]}
    assert len(values) == len(rows) - 1  # no (section, item) twice
    return values


def _report_audits(console: Console) -> list[tuple[AuditAction, int, int | None, str]]:
    with console.database.session() as session:
        rows = session.execute(
            select(
                AuditLogEntry.action,
                AuditLogEntry.entity_id,
                AuditLogEntry.user_id,
                AuditLogEntry.detail,
            ).where(AuditLogEntry.entity_type == AuditEntity.USER)
        )
        return [(a, e, u, d["via"]) for a, e, u, d in rows if (d or {}).get("view") == "reports"]


async def test_supervisor_reads_the_figures_and_the_chart_agent_is_refused(
    browser: Browser, make_console: object
) -> None:
    made = await report_console(make_console)
    console, today = made.console, made.today
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    errors = watch_errors(page)
    try:
        await sign_in(page, console, "supervisor")
        await page.get_by_role("link", name="Reports").click()
        await expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()

        # Today (the default) is charted by hour: 9:00-10:00 holds c1-c3.
        hour = page.locator(f'#calls-chart g[data-hour="{today.isoformat()}T09:00"]')
        await expect(hour).to_have_attribute("data-offered", "3")
        await expect(hour).to_have_attribute("data-answered", "2")

        # The last 7 days, chosen from the presets, are charted by day.
        await page.get_by_label("Period", exact=True).select_option("last_7_days")
        await page.get_by_role("button", name="Show", exact=True).click()
        await expect(page).to_have_url(f"{console.url}/supervisor/reports?preset=last_7_days")
        overall = page.locator("#overall")
        # No queue targets configured: 20 s for every queue, so c1, c2 and c4 count; the
        # week also holds c6, queued a second before today and never answered.
        await expect(overall.locator('[data-figure="service-level"] dd').first).to_have_text(
            "50.0%"
        )
        await expect(overall.locator('[data-figure="service-level"] dd.sub')).to_have_text(
            "3 of 6 calls answered within 20 s"
        )
        await expect(overall.locator('[data-figure="asa"] dd').first).to_have_text("19 s")
        await expect(overall.locator('[data-figure="abandonment"] dd').first).to_have_text("33.3%")
        await expect(overall.locator('[data-figure="aht"] dd').first).to_have_text("160 s")
        bar = page.locator(f'#calls-chart g[data-day="{today.isoformat()}"]')
        await expect(bar).to_have_attribute("data-offered", "5")
        await expect(bar).to_have_attribute("data-answered", "4")
        await expect(bar).to_have_attribute("data-service-level", "0.6000")
        box = await bar.locator("rect.answered").bounding_box()
        assert box is not None and box["height"] > 0
        await expect(page.locator("#calls-chart polyline.line")).to_have_count(1)
        await expect(page.locator("#calls-chart-caption")).to_contain_text(
            "Calls offered (6) and answered (4) per day"
        )

        appointments = page.locator('#queue-figures tr[data-name="appointments"]')
        await expect(appointments.locator("td.offered")).to_have_text("5")
        await expect(appointments.locator("td.abandonment")).to_have_text("40.0%")
        agent = page.locator('#agent-figures tr[data-name="1001"]')
        await expect(agent.locator("td.answered")).to_have_text("2")
        await expect(agent.locator("td.aht")).to_have_text("90 s")

        # The week also holds yesterday's IVR hang-up and the complaint opened then.
        await expect(page.locator('#ivr [data-figure="containment"] dd').first).to_have_text(
            "14.3%"
        )
        await expect(page.locator("#ivr-left tbody tr")).to_have_count(3)
        await expect(page.locator('#ivr-left tr[data-step="main.menu"] td')).to_have_text("2")
        await expect(page.locator('#complaints [data-figure="opened"] dd')).to_have_text("3")
        await expect(page.locator('#complaints [data-figure="closed"] dd')).to_have_text("2")
        # The dialer's refills (test_dialer_api): one place refilled on the second call.
        dialer = page.locator("#dialer-figures")
        await expect(dialer.locator('[data-figure="fill-rate"] dd').first).to_have_text("100.0%")
        await expect(dialer.locator('[data-figure="calls-per-fill"] dd').first).to_have_text("2.0")

        # Custom dates through the form; the CSV of the same period parses.
        await page.get_by_label("From", exact=True).fill(today.isoformat())
        await page.get_by_label("To", exact=True).fill(today.isoformat())
        await page.get_by_role("button", name="Show these dates").click()
        await expect(page.locator("#period-text")).to_contain_text(
            f"{today.isoformat()} to {today.isoformat()}"
        )
        href = await page.locator("#csv-link").get_attribute("href")
        assert href is not None
        download = await context.request.get(f"{console.url}{href}")
        assert download.status == 200
        assert download.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(await download.text())))
        total = rows[0]
        assert (total["kind"], total["offered"], total["answered"]) == ("total", "5", "4")
        assert total["service_level"] == "0.6" and total["average_handle_time_s"] == "160.0"
        assert {r["name"] for r in rows if r["kind"] == "agent"} == {"1001", "1002"}
        assert sum(int(r["offered"]) for r in rows if r["kind"] == "hour") == 5
        # The rest of the page is in the second CSV, one (section, item) per row.
        href = await page.locator("#summary-csv-link").get_attribute("href")
        assert href is not None
        summary = await context.request.get(f"{console.url}{href}")
        assert summary.status == 200 and "summary" in summary.headers["content-disposition"]
        values = _summary(await summary.text())
        assert values["ivr", "containment"] == ("0.1667", "ratio")
        assert values["complaints", "opened"] == ("2", "complaints")

        assert errors == []
        # A backwards period gets the console's error page with a 422.
        response = await page.goto(
            f"{console.url}/supervisor/reports?from={today.isoformat()}&to=2020-01-01"
        )
        assert response is not None and response.status == 422
        await expect(page.get_by_role("alert")).to_contain_text("YYYY-MM-DD")
    finally:
        await context.close()

    # An agent is refused the page, and sees no figures.
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    try:
        await sign_in(page, console, "agent")
        response = await page.goto(f"{console.url}/supervisor/reports?preset=last_7_days")
        assert response is not None and response.status == 403
        await expect(page.locator("#overall")).to_have_count(0)
    finally:
        await context.close()

    # Each view showing agent 1001's figures was audited as a view of that user (the CSV
    # as an export), by the supervisor; the refused agent left no row.
    supervisor = console.user_ids["supervisor"]
    assert sorted(_report_audits(console)) == sorted(
        [(AuditAction.VIEW, made.agent_user_id, supervisor, "page")] * 3
        + [(AuditAction.EXPORT, made.agent_user_id, supervisor, "csv")]
    )


async def test_the_api_gives_the_figures_and_refuses_bad_periods(make_console: object) -> None:
    made = await report_console(make_console)
    console, day = made.console, made.today.isoformat()
    async with console.client() as client:
        await console.login(client, "supervisor")
        response = await client.get("/api/supervisor/reports", params={"from": day, "to": day})
        assert response.status_code == 200
        data = response.json()
        assert data["period"] == {"preset": "custom", "from": day, "to": day}
        assert data["total"]["offered"] == 5 and data["total"]["service_level"] == 0.6
        assert [q["name"] for q in data["queues"]] == ["appointments", "complaints"]
        assert data["ivr_left_at"] == {"?": 1, "booking.choose_slot": 1, "main.menu": 1}
        assert (data["complaints_opened"], data["complaints_closed"]) == (2, 2)
        assert data["bucket_unit"] == "hour" and len(data["buckets"]) == 24
        assert data["dialer"]["currency"] == "CNY"
        # The dialer's places count by when they were freed (test_dialer_api: both in the
        # last day); a period long before holds nothing at all.
        week = (await client.get("/api/supervisor/reports?preset=last_7_days")).json()
        assert week["dialer"]["freed"] == 2 and week["dialer"]["filled_by_dialer"] == 1
        old = await client.get("/api/supervisor/reports", params={"from": "2020-01-01"})
        assert old.json()["dialer"]["freed"] == 0 and old.json()["total"]["offered"] == 0
        empty = await client.get("/supervisor/reports", params={"from": "2020-01-01", "lang": "en"})
        assert empty.status_code == 200 and "No queued calls in this period." in empty.text
        assert "<polyline" not in empty.text  # no service level to draw

        # The summary CSV holds what the JSON holds besides the call figures, in one
        # kind of row: the period, IVR, where callers left it, complaints, dialer.
        response = await client.get("/api/supervisor/reports-summary.csv?preset=last_7_days")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        values = _summary(response.text)
        assert values["period", "time_zone"] == (DEFAULT_TIMEZONE, "")
        assert (
            values["period", "start"][0]
            == dt.datetime.fromisoformat(week["start"]).astimezone(ZONE).isoformat()
        )
        assert values["service_level_target", "*"] == ("20.0", "s")
        assert values["calls", "received"] == (str(week["calls_received"]), "calls")
        assert values["ivr", "calls"] == ("7", "calls")  # with yesterday's hang-up
        assert values["ivr", "contained"] == ("1", "calls")
        assert values["ivr", "to_agent"] == ("1", "calls")
        assert {k[1]: v for k, v in values.items() if k[0] == "ivr_left_at"} == {
            step: (str(n), "calls") for step, n in week["ivr_left_at"].items()
        }
        assert values["ivr_left_at", "main.menu"] == ("2", "calls")
        assert (values["complaints", "opened"], values["complaints", "closed"]) == (
            ("3", "complaints"),
            ("2", "complaints"),
        )
        dialer = {k[1]: v for k, v in values.items() if k[0] == "dialer"}
        assert dialer["freed"] == ("2", "places") and dialer["filled_by_dialer"] == ("1", "places")
        assert dialer["fill_rate"] == ("1.0", "ratio")
        assert dialer["revenue_recovered"][1] == "CNY"
        for item, (value, _unit) in dialer.items():
            expected = week["dialer"][item.replace("time_to_fill", "minutes_to_fill")]
            assert value == ("" if expected is None else str(round(expected, 4))), item

        page = await client.get("/supervisor/reports", params={"lang": "zh", "from": day})
        assert page.status_code == 200
        assert "<h1>报表</h1>" in page.text and "服务水平" in page.text
        assert f'data-hour="{day}T09:00" data-offered="3" data-answered="2"' in page.text

        for params, reason in (
            ({"from": day, "to": "2020-01-01"}, "after to"),
            ({"from": "2020-01-01", "to": "2021-06-01"}, "at most 366 days"),
            ({"from": "'; DROP TABLE calls; --"}, "YYYY-MM-DD"),
            ({"preset": "forever"}, "unknown period"),
        ):
            for path in (
                "/api/supervisor/reports",
                "/api/supervisor/reports.csv",
                "/api/supervisor/reports-summary.csv",
            ):
                response = await client.get(path, params=params)
                assert response.status_code == 422, (path, params)
                body = response.json()
                assert body["error"] == "invalid_period" and reason in body["message"]

    async with console.client() as client:
        await console.login(client, "agent")
        for path in (
            "/api/supervisor/reports",
            "/api/supervisor/reports.csv",
            "/api/supervisor/reports-summary.csv",
        ):
            response = await client.get(path)
            assert response.status_code == 403 and response.json()["error"] == "forbidden"
    async with console.client() as client:
        response = await client.get("/api/supervisor/reports")
        assert response.status_code == 401


async def test_each_queues_service_level_target_comes_from_the_settings(
    make_console: object,
) -> None:
    """The complaints queue configured with a 3 s target (appointments keep the default
    20 s): c4, answered after 5 s, no longer counts, in the page, the API and both CSVs."""
    queues = [
        {"name": "appointments", "skill": "booking", "language": "zh"},
        {
            "name": "complaints",
            "skill": "complaints",
            "language": "zh",
            "service_level_target_s": 3,
        },
    ]
    made = await report_console(make_console, settings={"acd_queues": queues})
    console, day = made.console, made.today.isoformat()
    period = {"from": day, "to": day}
    async with console.client() as client:
        await console.login(client, "supervisor")
        data = (await client.get("/api/supervisor/reports", params=period)).json()
        assert data["queue_targets"] == {"appointments": 20.0, "complaints": 3.0}
        assert data["total"]["answered_within_target"] == 2  # c1, c2 (not c4)
        assert data["total"]["service_level"] == 0.4
        by_queue = {q["name"]: q for q in data["queues"]}
        assert by_queue["complaints"]["service_level"] == 0.0
        assert by_queue["appointments"]["service_level"] == 0.5

        page = await client.get("/supervisor/reports", params={**period, "lang": "en"})
        assert page.status_code == 200
        assert "2 of 5 calls answered within their queue&#39;s target" in page.text
        assert '<td class="target">3 s</td>' in page.text
        assert '<td class="target">20 s</td>' in page.text

        rows = csv.DictReader(
            io.StringIO((await client.get("/api/supervisor/reports.csv", params=period)).text)
        )
        service = {r["name"]: r["service_level"] for r in rows if r["kind"] in ("total", "queue")}
        assert service == {"*": "0.4", "appointments": "0.5", "complaints": "0.0"}
        summary = (await client.get("/api/supervisor/reports-summary.csv", params=period)).text
        values = _summary(summary)
        assert values["service_level_target", "complaints"] == ("3.0", "s")
        assert values["service_level_target", "appointments"] == ("20.0", "s")
