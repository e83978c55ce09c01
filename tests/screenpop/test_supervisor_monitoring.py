"""Listen / whisper / barge on the real Asterisk: the supervisor's phone (a simulated one)
is originated into [hotline-spy] and ChanSpy joins the agent's live channel; each use is
in the audit log; unsafe channel names never reach AMI."""

from __future__ import annotations

import uuid

import pytest

from crm_store.enums import AuditAction, AuditEntity
from crm_store.repositories import AuditLogRepository, UserRepository
from cti.asterisk import AsteriskRunner
from cti.asterisk.media import write_comfort_tone
from screenpop.errors import InvalidMonitorRequest
from screenpop.monitoring import (
    MonitorMode,
    MonitorRequest,
    MonitorService,
    originate_action,
)
from tests.fixtures.hotline import CallerSide
from tests.screenpop.conftest import Console


@pytest.mark.asterisk
async def test_listen_whisper_barge_create_chanspy_on_the_agents_channel(
    console: Console, caller_ami: CallerSide, asterisk: AsteriskRunner
) -> None:
    tone = asterisk.layout.share_host / "sim" / "recording-tone.wav"
    tone.parent.mkdir(parents=True, exist_ok=True)
    write_comfort_tone(tone)
    caller = f"spy{uuid.uuid4().hex[:10]}"
    response = await caller_ami.ami.send(
        {
            "Action": "Originate",
            "Channel": "Local/s@caller-sim",
            "Application": "Dial",
            "Data": "Local/1001@agent-sim",
            "Async": "true",
            "ChannelId": caller,
            "OtherChannelId": f"{caller}phone",
            "Variable": [
                f"SIM_AUDIO={asterisk.layout.to_asterisk(tone)}",
                "SIM_HOLD_S=8",
                "AGENT_SIM_RING_S=0",
            ],
        }
    )
    assert response.get("Response") == "Success"
    log = caller_ami.log
    # The agent's phone answering: its channel is what the supervisor spies on.
    agent_in_bridge = await log.wait_for(
        lambda e: (
            e.name == "BridgeEnter"
            and e.get("Channel").startswith("Local/1001@agent-sim-")
            and e.get("Channel").endswith(";1")
            and e.get("Linkedid") == caller
        ),
        what="the agent's leg entering the bridge",
    )
    agent_channel = agent_in_bridge.get("Channel")
    service = MonitorService(ami=caller_ami.ami, store=console.store)
    for mode in MonitorMode:
        await service.start(
            MonitorRequest(
                supervisor_user_id=console.user_ids["supervisor"],
                supervisor_endpoint="Local/2001@agent-sim",
                agent_user_id=console.user_ids["agent"],
                agent_channel=agent_channel,
                mode=mode,
                call_linkedid=caller,
            )
        )
        spy = await log.wait_for(
            lambda e, m=mode: (
                e.name == "ChanSpyStart"
                and e.get("SpyeeChannel") == agent_channel
                and e.get("SpyerExten") == m.value
            ),
            what=f"ChanSpy ({mode.value}) on {agent_channel}",
        )
        assert spy.get("SpyerChannel").startswith("Local/2001@agent-sim-")
    with console.database.session() as session:
        audit = AuditLogRepository(session).for_entity(AuditEntity.USER, console.user_ids["agent"])
    uses = [e for e in audit if e.detail and "monitor" in e.detail]
    assert sorted(e.detail["monitor"] for e in uses if e.detail) == ["barge", "listen", "whisper"]
    assert all(
        e.action is AuditAction.VIEW and e.user_id == console.user_ids["supervisor"] for e in uses
    )


@pytest.mark.asterisk
async def test_the_console_api_rings_the_supervisors_own_phone(
    console: Console, caller_ami: CallerSide, asterisk: AsteriskRunner
) -> None:
    services = console.server.app.state.services
    services.monitor = MonitorService(
        ami=caller_ami.ami, store=console.store, endpoint_template="Local/{extension}@agent-sim"
    )
    body = {"agent_user_id": console.user_ids["agent"], "channel": "PJSIP/1001-000000aa"}
    async with console.client() as client:
        await console.login(client, "supervisor")
        # No phone on the supervisor's record yet: a clear refusal, nothing originated.
        refused = await client.post("/api/supervisor/monitor", json={**body, "mode": "listen"})
        assert refused.status_code == 409 and refused.json()["error"] == "no_supervisor_phone"
        with console.database.session() as session:
            UserRepository(session).add_agent(console.user_ids["supervisor"], extension="2002")
        bad = await client.post(
            "/api/supervisor/monitor", json={**body, "channel": "PJSIP/1,qB", "mode": "barge"}
        )
        assert bad.status_code == 422
        ok = await client.post("/api/supervisor/monitor", json={**body, "mode": "whisper"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["phone"] == "Local/2002@agent-sim"
        # The supervisor's phone really was called into [hotline-spy].
        answered = await caller_ami.log.wait_for(
            lambda e: (
                e.name == "OriginateResponse"
                and e.get("Channel").startswith("Local/2002@agent-sim-")
                and e.get("Context") == "hotline-spy"
                and e.get("Exten") == "whisper"
            ),
            what="the supervisor's phone answered into [hotline-spy]",
        )
        assert answered.get("Response") == "Success"
        # No call to spy on here (the ChanSpy test covers that): hang the phone up.
        await caller_ami.ami.send({"Action": "Hangup", "Channel": answered.get("Channel")})
    async with console.client() as agent_client:
        await console.login(agent_client, "agent")
        forbidden = await agent_client.post(
            "/api/supervisor/monitor", json={**body, "mode": "listen"}
        )
        assert forbidden.status_code == 403


@pytest.mark.parametrize(
    ("channel", "endpoint", "error"),
    [
        ("PJSIP/1001-01,qBE", "PJSIP/2001", "channel"),  # option injection
        ("PJSIP/1001-01\r\nAction: Hangup", "PJSIP/2001", "channel"),
        ("PJSIP/1001-01", "DAHDI/g0/013800138000", "not a supervisor phone"),  # not a phone here
        ("PJSIP/1001-01", "PJSIP/2001\r\nX: y", "not a supervisor phone"),
    ],
)
def test_unsafe_targets_and_endpoints_are_refused(channel: str, endpoint: str, error: str) -> None:
    request = MonitorRequest(
        supervisor_user_id=1,
        supervisor_endpoint=endpoint,
        agent_user_id=2,
        agent_channel=channel,
        mode=MonitorMode.BARGE,
    )
    with pytest.raises(InvalidMonitorRequest, match=error):
        originate_action(request, action_id="x")


def test_the_originate_names_the_mode_and_target() -> None:
    action = originate_action(
        MonitorRequest(1, "PJSIP/2001", 2, "PJSIP/1001-0000001a", MonitorMode.WHISPER),
        action_id="spy-1",
    )
    assert (action["Channel"], action["Context"], action["Exten"]) == (
        "PJSIP/2001",
        "hotline-spy",
        "whisper",
    )
    assert action["Variable"] == ["SPY_TARGET=PJSIP/1001-0000001a"]
