"""Agent calls recorded end to end through the real Asterisk: a caller keys through the
production IVR, asks for a person, hears "this call may be recorded" while parked, the
ACD bridges them to a simulated agent, and the conversation is recorded on the agent's
leg. During the call the agent pauses and resumes the recording from the console and a
supervisor listens in from the live-calls page in Chromium. Afterwards the file is moved,
verified and indexed on the call with agent, queue and patient; the supervisor finds it
by the agent's disposition and plays it; the agent is refused."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.orm import Session

from acd.service import CallBridged
from crm_store.enums import AuditAction, AuditEntity, CallDisposition, Role
from crm_store.repositories import (
    AuditLogRepository,
    RecordingRepository,
    RecordingSearch,
    UserRepository,
)
from crm_store.repositories.acd import AcdRepository
from crm_store.repositories.recordings import RecordingListing, RecordingView
from cti.asterisk import AsteriskRunner
from cti.service import Hotline
from cti.settings import AcdAgentSetting, AcdQueueSetting
from cti.simulator import SimulatedCaller, place_call
from recordings import sha256_of, wav_info
from recordings.config import QueueRecordingSetting, RecordingSettings
from tests.acd.test_service_asterisk import Seen
from tests.fixtures.hotline import CallerSide
from tests.ivr.test_ivr_live_calls import DOB, NUMBERS, Clinic, LiveCall, build_clinic
from tests.recordings.helpers import longest_silence_s, play_muted, tone_power, write_sine
from tests.screenpop.conftest import PASSWORDS
from tests.screenpop.test_browser import sign_in

pytestmark = pytest.mark.asterisk

AGENT = "agent"  # the ACD's agent id is the agent's console username
AGENT_HZ, CALLER_HZ = 1000.0, 440.0
JSON = {"Accept": "application/json"}


@dataclass(frozen=True)
class Site:
    """What sign_in needs of a running console."""

    url: str


def _staff(session: Session) -> dict[str, int]:
    users = UserRepository(session)
    agent = users.create(
        username=AGENT, display_name="Agent Li", role=Role.AGENT, password=PASSWORDS["agent"]
    )
    users.add_agent(agent, extension="3001")
    supervisor = users.create(
        username="supervisor",
        display_name="Supervisor Chen",
        role=Role.SUPERVISOR,
        password=PASSWORDS["supervisor"],
    )
    users.add_agent(supervisor, extension="2001")  # the phone they listen on
    return {"agent": agent, "supervisor": supervisor}


async def _start(hotline_factory: Any, storage: Path) -> Hotline:
    hotline: Hotline = await hotline_factory(
        acd_agents=[
            AcdAgentSetting(
                id=AGENT,
                phone="Local/3001@agent-sim-talking",
                skills={"general": 3, "zh": 3},
                languages={"zh": 5},
            )
        ],
        acd_queues=[AcdQueueSetting(name="patients", skill="general", language="zh")],
        recordings=RecordingSettings(
            storage_dir=storage,
            retention_days=30,
            queues={"patients": QueueRecordingSetting(pause_allowed=True)},
        ),
    )
    monitor = hotline.web.app.state.services.monitor
    monitor.endpoint_template = "Local/{extension}@agent-sim"  # simulated supervisor phones
    return hotline


async def _indexed(hotline: Hotline, uniqueid: str, timeout_s: float = 60) -> RecordingListing:
    async def stored() -> RecordingListing:
        while True:
            found = await hotline.store.read(
                lambda s: [
                    x
                    for x in RecordingRepository(s).search(RecordingSearch())
                    if x.recording.channel_uniqueid == uniqueid
                ]
            )
            if found:
                return found[0]
            await asyncio.sleep(0.2)

    return await asyncio.wait_for(stored(), timeout_s)


def _stored_audio(view: RecordingView, storage: Path) -> bytes:
    """The stored file's samples, once checked against its index entry."""
    stored = Path(view.path)
    assert stored.is_file() and stored.is_relative_to(storage)
    assert sha256_of(stored) == view.checksum_sha256
    data = stored.read_bytes()
    assert len(data) == view.size_bytes
    info = wav_info(data[:4096], len(data))
    assert info.duration_s == pytest.approx(view.duration_s) and view.duration_s > 1
    return data[44:]


async def _listen_from_the_live_calls_page(
    page: Page, hotline: Hotline, caller_ami: CallerSide, call_id: str, agent_channel: str
) -> None:
    await page.goto(f"{hotline.web_url}/calls?lang=en")
    row = page.locator(f'#monitor-calls tr[data-linkedid="{call_id}"]')
    await expect(row.locator("td.agent")).to_have_text("Agent Li")
    await expect(row.locator("td.queue")).to_have_text("patients")
    await row.locator("button.mon-listen").click()
    await expect(page.locator("#monitor-status")).to_have_text(
        "Your phone is ringing: answer it to Listen."
    )
    spy = await caller_ami.log.wait_for(
        lambda e: (
            e.name == "ChanSpyStart"
            and e.get("SpyeeChannel") == agent_channel
            and e.get("SpyerExten") == "listen"
        ),
        timeout_s=30,
        what="the supervisor's phone spying on the agent",
    )
    assert spy.get("SpyerChannel").startswith("Local/2001@agent-sim-")


async def test_an_acd_bridged_call_is_announced_recorded_and_indexed_then_played_by_a_supervisor(
    hotline_factory: Any,
    caller_ami: CallerSide,
    asterisk: AsteriskRunner,
    browser: Browser,
    tmp_path: Path,
) -> None:
    hotline = await _start(hotline_factory, tmp_path / "storage")
    assert hotline.acd is not None
    clinic: Clinic = await hotline.store.write(build_clinic)
    staff = await hotline.store.write(_staff)
    seen = Seen()
    hotline.bus.subscribe("test-recording", ["acd.*"], seen.add)
    hotline.acd.login(AGENT)
    # Each side talks at its own pitch, so the mix shows whose voice was recorded.
    sim = asterisk.layout.share_host / "sim"
    write_sine(sim / "agent-talking.wav", AGENT_HZ)
    write_sine(sim / "caller-talking.wav", CALLER_HZ)
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await sign_in(page, Site(hotline.web_url), "supervisor")  # type: ignore[arg-type]
    agent_context = await browser.new_context(locale="en-US")
    console = await agent_context.new_page()
    await sign_in(console, Site(hotline.web_url), "agent")  # type: ignore[arg-type]
    await console.goto(f"{hotline.web_url}/console?lang=en")
    await expect(console.locator("#pop-status")).to_have_attribute("data-state", "connected")
    call = LiveCall(hotline, caller_ami, "zh")
    try:
        caller = SimulatedCaller(
            number=NUMBERS["zh"],
            hold_s=300,
            hold_audio=str(asterisk.layout.to_asterisk(sim / "caller-talking")),
        )
        placed = await place_call(caller_ami.ami, caller)
        call.uniqueid, call.channel = placed.uniqueid, placed.channel
        await call.answer("main.menu", "1")
        await call.answer("main.ask_dob", DOB)
        await call.answer("booking.start", "1")
        await call.answer("booking.ask_doctor", "0")  # a person, please
        await call.handover()

        def of_call(kind: str, phase: str, key: str = "Uniqueid") -> Any:
            return lambda e: (
                e.name == "UserEvent"
                and e.get("UserEvent") == kind
                and e.get("Phase") == phase
                and e.get(key) == call.uniqueid
            )

        # The notice plays to its end before the caller is parked: nobody can be bridged
        # in while it plays.
        announced = await caller_ami.log.wait_for(
            of_call("HotlineRecording", "announced"), timeout_s=60, what="the notice heard"
        )
        parked = await caller_ami.log.wait_for(
            of_call("HotlineWait", "waiting"), timeout_s=60, what="the caller parked"
        )
        assert caller_ami.log.events.index(announced) < caller_ami.log.events.index(parked)
        await caller_ami.log.wait_for(
            of_call("HotlineRecording", "started", key="Call"),
            timeout_s=60,
            what="MixMonitor on the agent's leg",
        )
        bridged: CallBridged = await seen.wait_for(
            lambda p: isinstance(p, CallBridged) and p.call_id == call.uniqueid, "bridge", 60
        )

        # The agent pauses and resumes from the console (the queue allows it).
        await expect(console.locator("#call-phase")).to_have_attribute("data-phase", "answered")
        # Shown once the console's next look finds the call recorded (every 3 s).
        await expect(console.locator("#recording-state")).to_have_text("Recording", timeout=15_000)
        await console.locator("#btn-recording").click()
        await expect(console.locator("#recording-state")).to_have_text("Recording paused")
        await asyncio.sleep(1.5)  # the caller reads out their card number
        await console.keyboard.press("Alt+R")
        await expect(console.locator("#recording-state")).to_have_text("Recording")
        # Another agent's call, or none: refused.
        async with httpx.AsyncClient(base_url=hotline.web_url, timeout=10) as agent_http:
            await agent_http.post(
                "/login", data={"username": AGENT, "password": PASSWORDS["agent"]}
            )
            state = await agent_http.get(
                f"/api/console/calls/{call.uniqueid}/recording", headers=JSON
            )
            assert state.json()["recording"] == {
                "recorded": True,
                "paused": False,
                "pausable": True,
            }
            other = await agent_http.post(
                "/api/console/calls/1795000000.1/recording",
                json={"action": "pause"},
                headers=JSON,
            )
            assert other.status_code == 403 and other.json()["error"] == "not_your_call"

        await _listen_from_the_live_calls_page(
            page, hotline, caller_ami, call.uniqueid, bridged.agent_channel
        )
        await asyncio.sleep(2)  # some more conversation
    finally:
        await call.hang_up()
        await call.close()

    try:
        listing = await _indexed(hotline, call.uniqueid)
        view = listing.recording
        # Moved out of Asterisk's monitor directory into the storage, intact, verified.
        assert not (asterisk.layout.monitor_host / f"{call.uniqueid}.wav").exists()
        pcm = _stored_audio(view, tmp_path / "storage")
        # Indexed on the call, with its agent, queue and patient.
        with hotline.database.session() as session:
            links = RecordingRepository(session).links(linkedid=call.uniqueid, agent_username=AGENT)
            audit = AuditLogRepository(session).for_entity(AuditEntity.RECORDING, view.id)
            pauses = [
                e
                for e in AuditLogRepository(session).for_entity(
                    AuditEntity.CALL, links.call_id or 0
                )
                if e.detail and e.detail.get("recording")
            ]
        assert view.call_id == links.call_id is not None
        assert view.agent_id == links.agent_id is not None
        assert (view.queue, view.patient_id) == ("patients", clinic.patients["zh"])
        assert listing.agent_name == "Agent Li"
        assert [e.action for e in audit] == [AuditAction.CREATE]
        newest_first = [(e.detail or {}).get("recording") for e in pauses]
        assert newest_first == ["resumed", "paused"]
        assert all(e.user_id == staff["agent"] for e in pauses)
        # MixMonitor on the agent's leg heard both: the agent (its read side) and the
        # caller (what the bridge wrote to it), each far above a pitch nobody spoke at.
        noise = tone_power(pcm, 2000.0)
        assert tone_power(pcm, AGENT_HZ) > 100 * noise
        assert tone_power(pcm, CALLER_HZ) > 100 * noise
        # While paused, both sides were silenced in the file (and only then: the talk
        # around it is continuous tone).
        assert longest_silence_s(pcm) >= 1.0

        # The agent's disposition finds it; a different one does not.
        await hotline.store.write(
            lambda s: AcdRepository(s).wrap_up(
                call.uniqueid,
                agent_key=AGENT,
                disposition=CallDisposition.BOOKED,
                notes=None,
                at=dt.datetime.now(dt.UTC),
            )
        )
        page_url = f"{hotline.web_url}/supervisor/recordings?lang=en&queue=patients"
        await page.goto(f"{page_url}&disposition=complaint")
        await expect(page.locator("#recordings-empty")).to_be_visible()
        await page.goto(f"{page_url}&disposition=booked")
        row = page.locator(f'#recordings tr[data-recording-id="{view.id}"]')
        await expect(row.locator("td.agent")).to_have_text("Agent Li")
        await expect(row.locator("td.disposition")).to_have_text("Appointment booked")
        audio = row.locator("audio")
        duration = await play_muted(audio)
        assert abs(duration - view.duration_s) < 0.5
        with hotline.database.session() as session:
            plays = AuditLogRepository(session).for_entity(AuditEntity.RECORDING, view.id)
        assert (AuditAction.PLAY, staff["supervisor"]) in [(e.action, e.user_id) for e in plays]

        refused = await console.request.get(
            f"{hotline.web_url}/supervisor/recordings/{view.id}/audio"
        )
        assert refused.status == 403
    finally:
        await agent_context.close()
        await context.close()
