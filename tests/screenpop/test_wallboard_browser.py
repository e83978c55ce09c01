"""The wallboard in a real headless Chromium, fed by the ACD running on the real Asterisk:
a caller parked in [hotline-wait] with nobody free appears waiting (and goes over the
target), an agent logs in and answers and the call moves to the agents' calls; a second
caller hangs up while waiting and counts as abandoned. The figures the page shows equal
those computed from the ``acd_calls`` rows. Agents are refused the page and the socket."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from acd.journal import AcdJournal
from acd.model import Agent, AgentState, Queue
from acd.service import AcdService
from crm_store.models import AcdCall
from cti.ami import AmiClient
from cti.handover import HANDOVER_TOPIC
from cti.settings import Settings
from tests.acd.test_service_asterisk import handover_of, park_caller
from tests.fixtures.hotline import CallerSide
from tests.screenpop.conftest import Console
from tests.screenpop.test_browser import sign_in
from tests.screenpop.test_live_calls import signed_in_token

#: A 2 s target, so a caller goes over it while the test watches.
GENERAL = Queue(
    "general",
    skill="general",
    language="zh",
    service_level_target_s=2,
    ring_timeout_s=5,
    wrap_up_s=1,
)


async def wallboard(browser: Browser, console: Console) -> tuple[Any, Page, list[str]]:
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await sign_in(page, console, "supervisor")
    await page.goto(f"{console.url}/supervisor/wallboard")
    await expect(page.locator("#wb-status")).to_have_attribute("data-state", "connected")
    return context, page, errors


def figures_from_rows(console: Console, queue: Queue) -> dict[str, str]:
    """The queue's figures computed by hand from its acd_calls rows."""
    with console.database.session() as session:
        rows = session.scalars(select(AcdCall).where(AcdCall.queue == queue.name)).all()
    answered = [r for r in rows if r.answered_at is not None]
    abandoned = [r for r in rows if r.answered_at is None and r.abandoned]
    within = [
        r
        for r in answered
        if (r.answered_at - r.queued_at).total_seconds() <= queue.service_level_target_s  # type: ignore[operator]
    ]
    finished = len(answered) + len(abandoned)
    target = queue.service_level_target_s
    return {
        "answered": str(len(answered)),
        "abandoned": str(len(abandoned)),
        "service-level": f"{round(100 * len(within) / finished)}%",
        "detail": f"{len(within)} of {finished} within {target:g} s (goal 80%)",
    }


async def waiting_in_asterisk(caller: CallerSide, uniqueid: str) -> bool:
    """Whether Asterisk has this caller's channel in [hotline-wait] (CoreShowChannels)."""
    events = await caller.ami.send_list({"Action": "CoreShowChannels"})
    return any(
        e.get("Event") == "CoreShowChannel"
        and e.get("Uniqueid") == uniqueid
        and e.get("Context") == "hotline-wait"
        for e in events
    )


@pytest.mark.asterisk
async def test_wallboard_shows_a_waiting_call_appear_and_leave(
    browser: Browser,
    make_console: Any,
    caller_ami: CallerSide,
    test_settings: Settings,
    asterisk: Any,
) -> None:
    console: Console = await make_console()
    ami = AmiClient.from_settings(test_settings, console.bus)
    service = AcdService.build(
        bus=console.bus,
        ami=ami,
        queues=[GENERAL],
        agents=[Agent("agent", skills={"general": 2}, languages={"zh": 5})],
        phones={"agent": "Local/1005@agent-sim"},
    )
    console.server.app.state.services.acd = service
    journal = AcdJournal(console.bus, console.store)
    journal.start()
    await service.start()
    await ami.start(wait_s=30)
    context, page, errors = await wallboard(browser, console)
    tile = page.locator('#wb-queues [data-queue="general"]')
    agent_row = page.locator('#wb-agents tbody tr[data-agent="agent"]')
    calls = page.locator("#wb-calls tbody tr")
    try:
        await expect(page.get_by_role("heading", name="Wallboard")).to_be_visible()
        await expect(tile.locator(".waiting .value")).to_have_text("0")
        await expect(tile.locator(".longest .value")).to_have_text("—")
        await expect(agent_row.locator("td.state")).to_have_text("Logged out")
        await expect(page.locator("#wb-calls-empty")).to_be_visible()

        # A caller handed over with nobody logged in waits in [hotline-wait].
        first = await park_caller(caller_ami)
        console.bus.publish(HANDOVER_TOPIC, handover_of(first, "general"))
        await expect(tile.locator(".waiting .value")).to_have_text("1")
        assert await waiting_in_asterisk(caller_ami, first.uniqueid)  # Asterisk agrees
        await expect(tile.locator(".longest .value")).to_have_text(re.compile(r"^0:0\d$"))
        await expect(tile.locator(".available .value")).to_have_text("0")
        # Past the 2 s target the browser's clock raises the alarm, in words too.
        await expect(tile.locator(".longest")).to_have_attribute("data-alarm", "true")
        await expect(tile.locator(".longest .alarm-label")).to_be_visible()
        await expect(tile.locator(".longest .alarm-label")).to_have_text("over target")

        # The agent logs in: the call rings them, the simulated phone answers.
        service.login("agent")
        await expect(tile.locator(".waiting .value")).to_have_text("0")
        await expect(tile.locator(".longest")).to_have_attribute("data-alarm", "false")
        row = page.locator(f'#wb-calls tbody tr[data-call="{first.uniqueid}"]')
        await expect(row.locator("td.phase")).to_have_attribute("data-phase", "talking")
        await expect(row.locator("td.agent")).to_have_text("agent")
        await expect(row.locator("td.queue")).to_have_text("general")
        await expect(row.locator("td.for")).to_have_text(re.compile(r"^0:\d\d$"))
        await expect(agent_row.locator("td.state")).to_have_text("On call")

        # The caller hangs up: the call leaves; the agent wraps up, then is free again.
        await caller_ami.ami.send({"Action": "Hangup", "Channel": first.channel})
        await expect(calls).to_have_count(0)
        await expect(agent_row.locator("td.state")).to_have_attribute("data-state", "available")
        await expect(agent_row.locator("td.handled")).to_have_text("1")
        await expect(tile.locator(".answered .value")).to_have_text("1")

        # On a break, the agent takes nobody: the next caller waits, then gives up.
        service.pause("agent", "lunch")
        await expect(agent_row.locator("td.state")).to_have_text("Paused · lunch")
        second = await park_caller(caller_ami)
        console.bus.publish(HANDOVER_TOPIC, handover_of(second, "general"))
        await expect(tile.locator(".waiting .value")).to_have_text("1")
        await caller_ami.ami.send({"Action": "Hangup", "Channel": second.channel})
        await expect(tile.locator(".waiting .value")).to_have_text("0")
        await expect(tile.locator(".abandoned .value")).to_have_text("1")

        # What the page shows is what the call rows say.
        expected = figures_from_rows(console, GENERAL)
        assert expected["answered"] == "1" and expected["abandoned"] == "1"
        await expect(tile.locator(".answered .value")).to_have_text(expected["answered"])
        await expect(tile.locator(".abandoned .value")).to_have_text(expected["abandoned"])
        await expect(tile.locator(".service-level .value")).to_have_text(expected["service-level"])
        await expect(tile.locator(".service-level .detail")).to_have_text(expected["detail"])
        # The first caller waited past the target: 0 % is below the goal, flagged.
        await expect(tile.locator(".service-level")).to_have_attribute("data-alarm", "true")
        async with console.client() as client:
            await console.login(client, "supervisor")
            board = (await client.get("/api/supervisor/wallboard")).json()
        assert board["queues"][0]["answered"] == 1 and board["queues"][0]["abandoned"] == 1
        assert board["agents"][0]["handled"] == 1
        assert service.agent("agent").state is AgentState.PAUSED
        assert errors == []
    finally:
        await context.close()
        await service.close()
        await ami.close()
        await journal.close()


async def test_an_agent_is_refused_the_wallboard_page_api_and_socket(
    browser: Browser, console: Console
) -> None:
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    try:
        await sign_in(page, console, "agent")
        response = await page.goto(f"{console.url}/supervisor/wallboard")
        assert response is not None and response.status == 403
        await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        await expect(page.locator("#wallboard")).to_have_count(0)
    finally:
        await context.close()

    token = await signed_in_token(console, "agent")
    async with console.client(cookies={"hotline_session": token}) as client:
        assert (await client.get("/api/supervisor/wallboard")).status_code == 403
    async with console.client() as client:
        await console.login(client, "admin")  # administrators may watch it
        assert (await client.get("/api/supervisor/wallboard")).status_code == 200
    ws_url = console.url.replace("http://", "ws://") + "/ws/wallboard"
    headers = {"Origin": console.url, "Cookie": f"hotline_session={token}"}
    async with connect(ws_url, additional_headers=headers, open_timeout=5) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_supervisor_socket_sends_the_board_then_only_changes(console: Console) -> None:
    service = AcdService.build(
        bus=console.bus,
        ami=None,  # type: ignore[arg-type]  # agents' own state changes need no Asterisk
        queues=[GENERAL],
        agents=[Agent("agent", skills={"general": 2}, languages={"zh": 5})],
        phones={"agent": "Local/1005@agent-sim"},
    )
    console.server.app.state.services.acd = service
    feed = console.server.app.state.services.wallboard
    token = await signed_in_token(console, "supervisor")
    ws_url = console.url.replace("http://", "ws://") + "/ws/wallboard?lang=zh"
    headers = {"Origin": console.url, "Cookie": f"hotline_session={token}"}
    async with connect(ws_url, additional_headers=headers, open_timeout=5) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
        assert first["type"] == "wallboard"
        service.login("agent")
        board = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
        assert board["acd_running"] is True
        assert board["agents"][0]["state_label"] == "空闲"
        assert board["queues"][0]["available"] == 1
        pushes, refreshes = feed.pushes, feed.refreshes
        # An event that changes nothing the board shows is looked at, and not pushed.
        console.bus.publish("acd.requeued", object())
        async with asyncio.timeout(5):
            while feed.refreshes == refreshes:
                await asyncio.sleep(0.01)
        assert feed.pushes == pushes
        service.pause("agent", "training")
        board = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
        assert (board["agents"][0]["state"], board["agents"][0]["pause_reason"]) == (
            "paused",
            "training",
        )
        assert board["queues"][0]["available"] == 0


async def test_wallboard_socket_closes_when_the_supervisor_signs_out(console: Console) -> None:
    ws_url = console.url.replace("http://", "ws://") + "/ws/wallboard"
    async with console.client() as client:
        await console.login(client, "supervisor")
        token = client.cookies["hotline_session"]
        headers = {"Origin": console.url, "Cookie": f"hotline_session={token}"}
        async with connect(ws_url, additional_headers=headers, open_timeout=5) as ws:
            board = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            assert board["type"] == "wallboard" and board["acd_running"] is False
            await client.post("/logout")
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
