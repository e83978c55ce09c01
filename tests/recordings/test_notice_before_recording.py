"""No notice, no recording, through the real Asterisk: the agent's leg records a call the
ACD bridges only if the caller heard "this call may be recorded" to the end — or if the
queue records without announcing. The ACD rig of tests/acd parks the caller with the
variables the IVR's hand-over would have set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.service import CallBridged
from crm_store.database import Database
from cti.asterisk import AsteriskRunner
from recordings import RecordingNotStarted
from tests.acd.conftest import make_rig
from tests.acd.live import Rig, handover_of, park_caller
from tests.fixtures.hotline import CallerSide
from tests.recordings.helpers import make_service

pytestmark = pytest.mark.asterisk

__all__ = ["make_rig"]  # the ACD's rig fixture, imported to be used here


@pytest.mark.parametrize(
    ("notice", "caller_phase", "agent_phase"),
    [
        # The queue announces, but the notice cannot be played: the call goes on unrecorded.
        ("/nonexistent/recording-notice", "notice-missing", "notice-not-heard"),
        # The queue records without announcing.
        ("", None, "started"),
    ],
)
async def test_the_agents_leg_records_only_a_caller_who_was_told(
    make_rig: Any,
    caller_ami: CallerSide,
    asterisk: AsteriskRunner,
    database: Database,
    tmp_path: Path,
    notice: str,
    caller_phase: str | None,
    agent_phase: str,
) -> None:
    rig: Rig = await make_rig({"1001": "Local/1001@agent-sim"})
    rig.service.login("1001")
    parked = await park_caller(
        caller_ami, hold_s=20, variables=["HOTLINE_RECORD=1", f"HOTLINE_RECORD_NOTICE={notice}"]
    )
    rig.bus.publish("ivr.handover", handover_of(parked, "general"))

    def recording(phase: str, key: str) -> Any:
        return lambda e: (
            e.name == "UserEvent"
            and e.get("UserEvent") == "HotlineRecording"
            and e.get("Phase") == phase
            and e.get(key) == parked.uniqueid
        )

    if caller_phase is not None:
        await caller_ami.log.wait_for(recording(caller_phase, "Uniqueid"), what=caller_phase)
    await caller_ami.log.wait_for(recording(agent_phase, "Call"), what=agent_phase)
    bridged: CallBridged = await rig.seen.wait_for(
        lambda p: isinstance(p, CallBridged) and p.call_id == parked.uniqueid, "bridge"
    )
    service = make_service(caller_ami, asterisk, database, tmp_path)
    try:
        if agent_phase == "started":
            active = await service.start(
                uniqueid=parked.uniqueid,
                channel=bridged.agent_channel,
                queue="general",
                agent_id=None,
            )
            assert active is not None
            assert (asterisk.layout.monitor_host / f"{parked.uniqueid}.wav").exists()
        else:
            with pytest.raises(RecordingNotStarted):
                await service.start(
                    uniqueid=parked.uniqueid,
                    channel=bridged.agent_channel,
                    queue="general",
                    agent_id=None,
                )
            assert not (asterisk.layout.monitor_host / f"{parked.uniqueid}.wav").exists()
    finally:
        await caller_ami.ami.send({"Action": "Hangup", "Channel": parked.channel})
        (asterisk.layout.monitor_host / f"{parked.uniqueid}.wav").unlink(missing_ok=True)
