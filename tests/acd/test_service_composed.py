"""Hotline's composition root with its ACD configured: hand-overs go to the parking
context, and a VIP patient (a flag on the record in the store) overtakes an earlier caller."""

from __future__ import annotations

from acd.model import AgentState, PriorityClass
from acd.service import CallBridged, CallOffered, CallQueued
from crm_store.repositories.patients import PatientRepository
from cti.handover import HANDOVER_TOPIC
from cti.settings import AcdAgentSetting, AcdQueueSetting
from tests.acd.test_service_asterisk import Seen, handover_of, park_caller
from tests.fixtures.hotline import CallerSide


async def test_a_vip_patient_overtakes_through_the_composed_hotline(
    hotline_factory, caller_ami: CallerSide
):
    hotline = await hotline_factory(
        acd_agents=[
            AcdAgentSetting(
                id="3001",
                phone="Local/3001@agent-sim",
                skills={"appointments": 3},
                languages={"zh": 5},
            )
        ],
        acd_queues=[
            AcdQueueSetting(
                name="appointments",
                skill="appointments",
                language="zh",
                ring_timeout_s=3,
                wrap_up_s=1,
            )
        ],
    )
    assert hotline.acd is not None
    assert hotline.handover_target == "hotline-wait,s,1"
    with hotline.database.session() as session:
        vip_id = PatientRepository(session).create(mrn="VIP-1", full_name="李贵宾", vip=True)
    seen = Seen()
    hotline.bus.subscribe("test-acd", ["acd.*"], seen.add)
    hotline.acd.login("3001", paused_reason="break")

    first = await park_caller(caller_ami)
    hotline.bus.publish(HANDOVER_TOPIC, handover_of(first, "appointments"))
    queued = await seen.wait_for(
        lambda p: isinstance(p, CallQueued) and p.call_id == first.uniqueid, "first queued"
    )
    assert queued.priority is PriorityClass.NORMAL
    vip = await park_caller(caller_ami)
    hotline.bus.publish(HANDOVER_TOPIC, handover_of(vip, "appointments", str(vip_id)))
    queued = await seen.wait_for(
        lambda p: isinstance(p, CallQueued) and p.call_id == vip.uniqueid, "VIP queued"
    )
    assert queued.priority is PriorityClass.VIP

    hotline.acd.resume("3001")
    offered = await seen.wait_for(lambda p: isinstance(p, CallOffered), "offer")
    assert offered.call_id == vip.uniqueid
    await seen.wait_for(lambda p: isinstance(p, CallBridged), "bridged")
    assert hotline.acd.agent("3001").state is AgentState.ON_CALL
    for parked in (first, vip):
        await caller_ami.ami.send({"Action": "Hangup", "Channel": parked.channel})
