"""Helpers for recording tests: a simulated caller bridged to a simulated agent through
[hotline-record] on the real Asterisk, and a RecordingService over the test instance."""

from __future__ import annotations

import datetime as dt
import math
import struct
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from crm_store.database import Database
from crm_store.enums import Role
from crm_store.repositories import UserRepository
from cti.asterisk import AsteriskRunner
from cti.asterisk.media import write_comfort_tone, write_silence, write_wav
from recordings import MonitorDir, QueuePolicy, RecordingPolicy, RecordingService
from tests.fixtures.hotline import CallerSide

if TYPE_CHECKING:
    from playwright.async_api import Locator


def make_agent(database: Database, user_id: int | None = None) -> int:
    with database.session() as session:
        users = UserRepository(session)
        if user_id is not None:
            return users.add_agent(user_id, extension="1001")
        user_id = users.create(
            username=f"agent-{uuid.uuid4().hex[:6]}",
            display_name="Agent Wang",
            role=Role.AGENT,
            password="correct horse battery",
        )
        return users.add_agent(user_id, extension="1001")


async def record_one_call(
    caller_ami: CallerSide,
    asterisk: AsteriskRunner,
    service: RecordingService,
    *,
    agent_id: int,
    queue: str,
    patient_id: int | None = None,
) -> str:
    """Bridge a simulated caller (who plays a tone) to a simulated agent through
    [hotline-record], index the recording once both are in the bridge, and return the
    caller leg's uniqueid after the caller has hung up."""
    tone = asterisk.layout.share_host / "sim" / "recording-tone.wav"
    tone.parent.mkdir(parents=True, exist_ok=True)
    write_comfort_tone(tone)
    notice = asterisk.layout.share_host / "prompts" / "recording-notice.wav"
    notice.parent.mkdir(parents=True, exist_ok=True)
    write_silence(notice, 0.5)
    arguments = service.dialplan_arguments(queue)
    assert arguments is not None
    uniqueid = f"rec{uuid.uuid4().hex[:12]}"
    response = await caller_ami.ami.send(
        {
            "Action": "Originate",
            # ;2 is the caller's phone; ;1 is the caller's leg: recorded, then bridged.
            "Channel": "Local/s@caller-sim",
            "Context": "hotline-record-sim",
            "Exten": "s",
            "Priority": "1",
            "Async": "true",
            "ChannelId": uniqueid,
            "OtherChannelId": f"{uniqueid}phone",
            "Variable": [
                f"SIM_AUDIO={asterisk.layout.to_asterisk(tone)}",
                "SIM_HOLD_S=2",
                "AGENT_SIM_RING_S=0",
                f"REC_QUEUE={arguments[0]}",
                f"REC_ANNOUNCE={arguments[1]}",
            ],
        }
    )
    assert response.get("Response") == "Success", response
    log = caller_ami.log
    started = await log.wait_for(
        lambda e: (
            e.name == "UserEvent"
            and e.get("UserEvent") == "HotlineRecording"
            and e.get("Uniqueid") == uniqueid
        ),
        what="[hotline-record] having run",
    )
    assert started.get("Phase") == "started", started.fields
    entered = await log.wait_for(
        lambda e: e.name == "BridgeEnter" and e.get("Uniqueid") == uniqueid,
        what="the caller leg entering the bridge",
    )
    await service.start(
        uniqueid=uniqueid,
        channel=entered.get("Channel"),
        queue=queue,
        agent_id=agent_id,
        patient_id=patient_id,
    )
    await log.wait_for(
        lambda e: e.name == "Hangup" and e.get("Uniqueid") == uniqueid,
        timeout_s=30,
        what="the caller hanging up",
    )
    return uniqueid


def make_service(
    caller_ami: CallerSide, asterisk: AsteriskRunner, database: Database, storage: Path
) -> RecordingService:
    return RecordingService(
        ami=caller_ami.ami,
        database=database,
        monitor=MonitorDir(asterisk.layout.monitor_host, asterisk.layout.monitor_asterisk),
        storage_dir=storage,
        policy=RecordingPolicy(
            default=QueuePolicy(record=True, announce=True, pausable=False),
            queues={"billing": QueuePolicy(record=True, announce=True, pausable=True)},
            retention=dt.timedelta(days=30),
        ),
    )


def write_sine(path: Path, frequency: float, seconds: float = 3.0) -> None:
    """A steady sine tone (8 kHz mono): one side of a conversation, recognisable in a mix."""
    rate = 8000
    write_wav(
        path,
        [
            int(4000 * math.sin(2 * math.pi * frequency * i / rate))
            for i in range(int(rate * seconds))
        ],
    )


def tone_power(pcm: bytes, frequency: float, rate: int = 8000) -> float:
    """Goertzel: the power of one frequency in 16-bit mono PCM, per sample."""
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm[: len(pcm) // 2 * 2])
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    power = previous * previous + before * before - coefficient * previous * before
    return power / max(1, len(samples)) ** 2


async def play_muted(audio: Locator) -> float:
    """Start an <audio> element (muted) in the browser; its duration once known (s)."""
    await audio.evaluate("a => { a.muted = true; return a.play(); }")
    duration: float = await audio.evaluate(
        "a => new Promise(r => a.readyState >= 1 ? r(a.duration) :"
        " a.addEventListener('loadedmetadata', () => r(a.duration)))"
    )
    return duration


def longest_silence_s(pcm: bytes, rate: int = 8000) -> float:
    """The longest run of exactly-zero samples (what MixMonitorMute writes), in seconds."""
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm[: len(pcm) // 2 * 2])
    longest = run = 0
    for sample in samples:
        run = run + 1 if sample == 0 else 0
        longest = max(longest, run)
    return longest / rate
