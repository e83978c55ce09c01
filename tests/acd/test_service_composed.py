"""Hotline's composition root with its ACD configured: hand-overs go to the parking
context, and a VIP patient (a flag on the record in the store) overtakes an earlier caller."""

from __future__ import annotations

import pytest

from acd.model import AgentState, PriorityClass
from acd.service import (
    CallAbandoned,
    CallBridged,
    CallEnded,
    CallOffered,
    CallOverflowed,
    CallQueued,
)
from crm_store.repositories.acd import AcdRepository
from crm_store.repositories.patients import PatientRepository
from cti.handover import HANDOVER_TOPIC
from cti.service import Hotline
from cti.settings import AcdAgentSetting, AcdCallbackSetting, AcdQueueSetting
from tests.acd.live import Seen, handover_of, hung_up, park_caller
from tests.fixtures.hotline import CallerSide

pytestmark = pytest.mark.asterisk


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
    try:
        await _vip_overtakes(hotline, caller_ami)
    finally:
        await hotline.stop()


async def _vip_overtakes(hotline: Hotline, caller_ami: CallerSide) -> None:
    assert hotline.acd is not None
    # The consoles set agents' states through the same service (routes/console.py).
    assert hotline.web.app.state.services.acd is hotline.acd
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
    await seen.wait_for(lambda p: isinstance(p, CallAbandoned), "first caller gives up")
    await seen.wait_for(lambda p: isinstance(p, CallEnded), "VIP call ends")
    await hotline.bus.drain()

    # Each step landed on the ACD's call record.
    with hotline.database.session() as session:
        repo = AcdRepository(session)
        served, gave_up = repo.get_call(vip.uniqueid), repo.get_call(first.uniqueid)
    assert served is not None and gave_up is not None
    assert (served.queue, served.priority, served.patient_id) == ("appointments", "vip", vip_id)
    assert (served.offers, served.offered_to, served.answered_by) == (1, "3001", "3001")
    assert served.wait_s is not None and served.wait_s >= 0 and not served.abandoned
    assert served.ended_at is not None
    assert gave_up.abandoned and gave_up.answered_by is None and gave_up.offers == 0


async def test_a_pause_and_its_reason_survive_a_restart(hotline_factory, tmp_path):
    url = f"sqlite:///{tmp_path / 'acd-restart.db'}"
    settings = {
        "database_url": url,
        "acd_agents": [
            AcdAgentSetting(
                id=agent_id,
                phone=f"Local/{agent_id}@agent-sim",
                skills={"appointments": 1},
                languages={"zh": 1},
            )
            for agent_id in ("4001", "4002", "4003")
        ],
        "acd_queues": [AcdQueueSetting(name="appointments", skill="appointments", language="zh")],
    }
    before = await hotline_factory(**settings)
    assert before.acd is not None
    before.acd.login("4001", paused_reason="lunch")
    before.acd.login("4002")
    await before.stop()

    after = await hotline_factory(**settings)
    try:
        assert after.acd is not None
        lunch = after.acd.agent("4001")
        assert (lunch.state, lunch.pause_reason) == (AgentState.PAUSED, "lunch")
        assert after.acd.agent("4002").state is AgentState.AVAILABLE
        assert after.acd.agent("4003").state is AgentState.LOGGED_OUT
    finally:
        await after.stop()


async def test_overflow_and_callbacks_from_settings_reach_the_call_record(
    hotline_factory, caller_ami: CallerSide
):
    hotline = await hotline_factory(
        acd_agents=[
            AcdAgentSetting(
                id="3002",
                phone="Local/3002@agent-sim",
                skills={"appointments": 3},
                languages={"zh": 5},
            )
        ],
        acd_queues=[
            AcdQueueSetting(name="appointments", skill="appointments", language="zh"),
            # Nobody holds the night desk's skill: its callers hear "closed" at once.
            AcdQueueSetting(
                name="night", skill="night-desk", language="zh", overflow_message="closed"
            ),
        ],
        acd_callbacks=AcdCallbackSetting(dial_template="Local/{digits}@patient-sim"),
    )
    try:
        acd = hotline.acd
        assert acd is not None and acd.callbacks is not None
        assert acd.callbacks.dial_template == "Local/{digits}@patient-sim"
        seen = Seen()
        hotline.bus.subscribe("test-acd", ["acd.*"], seen.add)
        parked = await park_caller(caller_ami, hold_s=60)
        hotline.bus.publish(HANDOVER_TOPIC, handover_of(parked, "night"))
        await seen.wait_for(
            lambda p: isinstance(p, CallOverflowed) and p.call_id == parked.uniqueid, "overflow"
        )
        await hung_up(caller_ami, parked.uniqueid, "goodbye after the message")
        await hotline.bus.drain()  # the journal has written what it was sent
        with hotline.database.session() as session:
            row = AcdRepository(session).get_call(parked.uniqueid)
        assert row is not None
        assert (row.overflow_reason, row.overflow_target) == ("no_agents", "closed")
        assert row.ended_at is not None and not row.abandoned
    finally:
        await hotline.stop()
