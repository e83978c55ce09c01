"""Callbacks recorded like other agent calls, through the real Asterisk: when the queue's
policy records, the patient hears "this call may be recorded" once they answer the
callback, before the agent is bridged, their leg is recorded, and RecordingService
indexes it (via AcdRecorder, as in production)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from acd.callbacks import CallbackPolicy
from acd.service import CallbackRequested, CallBridged, CallEnded
from crm_store.database import Database
from crm_store.enums import RecordingStatus
from crm_store.gateway import StoreGateway
from crm_store.models import Recording
from cti.asterisk import AsteriskRunner
from cti.asterisk.media import write_silence
from cti.handover import HANDOVER_TOPIC
from recordings.acd_link import AcdRecorder
from tests.acd.conftest import make_rig
from tests.acd.live import Rig, answer_callback_question, handover_of, park_caller
from tests.fixtures.hotline import CallerSide
from tests.recordings.helpers import make_service

pytestmark = pytest.mark.asterisk

__all__ = ["make_rig"]  # the ACD's rig fixture, imported to be used here


async def test_patient_hears_the_notice_before_the_agent_and_the_callback_is_recorded(
    make_rig: Any,
    caller_ami: CallerSide,
    asterisk: AsteriskRunner,
    database: Database,
    tmp_path: Path,
) -> None:
    notice = asterisk.layout.share_host / "prompts" / "callback-notice.wav"
    notice.parent.mkdir(parents=True, exist_ok=True)
    write_silence(notice, 0.5)
    asked: list[tuple[str, str]] = []

    async def recording(queue: str, language: str) -> Mapping[str, str]:
        asked.append((queue, language))
        notice_path = str(asterisk.layout.to_asterisk(notice.with_suffix("")))
        return {"HOTLINE_RECORD": "1", "HOTLINE_RECORD_NOTICE": notice_path}

    async def no_prompts(_text: str, _language: str) -> str:
        return str(asterisk.layout.to_asterisk(notice.with_suffix("")))

    rig: Rig = await make_rig(
        {"1201": "Local/1201@agent-sim"},
        prompts=no_prompts,
        callbacks=CallbackPolicy("Local/{digits}@patient-sim"),
        callback_recording=recording,
    )
    service = make_service(caller_ami, asterisk, database, tmp_path)
    store = StoreGateway(database)
    recorder = AcdRecorder(bus=rig.bus, service=service, store=store)
    await recorder.start()
    try:
        rig.service.login("1201", paused_reason="meeting")
        parked = await park_caller(caller_ami, hold_s=60, number="13800138000", keys="1")
        rig.bus.publish(HANDOVER_TOPIC, handover_of(parked, "general"))
        await answer_callback_question(caller_ami, parked, "1")
        await rig.seen.wait_for(
            lambda p: isinstance(p, CallbackRequested) and p.call_id == parked.uniqueid,
            "callback request",
            60,
        )
        rig.service.resume("1201")

        def phase(name: str) -> Any:
            return lambda e: (
                e.name == "UserEvent"
                and e.get("UserEvent") == "HotlineRecording"
                and e.get("Phase") == name
                and e.get("Call") == parked.uniqueid
            )

        announced = await caller_ami.log.wait_for(phase("announced"), what="the notice")
        started = await caller_ami.log.wait_for(phase("started"), what="the recording")
        bridged: CallBridged = await rig.seen.wait_for(
            lambda p: isinstance(p, CallBridged) and p.call_id == parked.uniqueid, "bridge", 60
        )
        # The patient's leg heard the notice and records; the agent came after.
        assert announced.get("Channel") == started.get("Channel") == bridged.caller_channel
        assert asked == [("general", "zh")]
        for _ in range(100):  # the recorder indexes it from the same bus topic
            active = service.active(parked.uniqueid)
            if active is not None:
                break
            await asyncio.sleep(0.1)
        assert active is not None and active.channel == bridged.caller_channel
        assert (asterisk.layout.monitor_host / f"{parked.uniqueid}.wav").exists()
        await caller_ami.ami.send({"Action": "Hangup", "Channel": bridged.caller_channel})
        await rig.seen.wait_for(
            lambda p: isinstance(p, CallEnded) and p.call_id == parked.uniqueid, "end", 60
        )
        await recorder.close()  # lets the ended call's recording be stored
        with database.session() as session:
            stored = session.scalars(
                select(Recording).where(Recording.channel_uniqueid == parked.uniqueid)
            ).all()
        assert [(r.queue, r.status) for r in stored] == [("general", RecordingStatus.VERIFIED)]
    finally:
        await recorder.close()
        store.close()
        (asterisk.layout.monitor_host / f"{parked.uniqueid}.wav").unlink(missing_ok=True)
