"""The whole inbound journey through the real Asterisk: a known patient keys through the
production IVR, proves who they are, asks for a person; the IVR hands them over, they wait
parked with music, Hotline's ACD rings the agent, the agent answers and the two are
bridged — with the IVR's findings on the offer, and every step on the call's records."""

from __future__ import annotations

import pytest

from acd.model import AgentState
from acd.service import CallBridged, CallOffered, CallQueued
from cti.settings import AcdAgentSetting, AcdQueueSetting
from tests.acd.live import Seen
from tests.ivr.test_ivr_live_calls import Clinic, LiveCall, build_clinic, verified_at_menu_then

pytestmark = pytest.mark.asterisk


async def test_a_verified_caller_who_asks_for_a_person_is_bridged_to_an_agent(
    hotline_factory, caller_ami
):
    hotline = await hotline_factory(
        acd_agents=[
            AcdAgentSetting(
                id="3001",
                phone="Local/3001@agent-sim",
                skills={"general": 3, "zh": 3},
                languages={"zh": 5},
            )
        ],
        # The production flows hand callers to the "patients" queue.
        acd_queues=[AcdQueueSetting(name="patients", skill="general", language="zh")],
    )
    assert hotline.acd is not None and hotline.handover_target == "hotline-wait,s,1"
    clinic: Clinic = await hotline.store.write(build_clinic)
    seen = Seen()
    hotline.bus.subscribe("test-journey", ["acd.*"], seen.add)
    hotline.acd.login("3001")
    call = LiveCall(hotline, caller_ami, "zh")
    try:
        await verified_at_menu_then(call, "1")
        await call.answer("booking.start", "1")
        await call.answer("booking.ask_doctor", "0")  # a person, please
        handover = await call.handover()
        assert handover.patient_id == clinic.patients["zh"] and handover.verified

        queued = await seen.wait_for(
            lambda p: isinstance(p, CallQueued) and p.call_id == call.uniqueid, "queued", 60
        )
        assert queued.queue == "patients" and queued.patient_id == clinic.patients["zh"]
        offered = await seen.wait_for(
            lambda p: isinstance(p, CallOffered) and p.call_id == call.uniqueid, "offer", 60
        )
        assert offered.agent_id == "3001"
        assert offered.handover.findings.intent == "book"  # what the agent's pop shows
        bridged = await seen.wait_for(
            lambda p: isinstance(p, CallBridged) and p.call_id == call.uniqueid, "bridge", 60
        )
        assert bridged.caller_channel == call.channel
        assert hotline.acd.agent("3001").state is AgentState.ON_CALL

        ivr, turns = await call.ivr_session()
        assert ivr.outcome == "to_agent" and ivr.identity_verified
        assert [t.step for t in turns][:3] == ["main.greet_known", "main.menu", "main.ask_dob"]
    finally:
        await call.hang_up()
        await call.close()
