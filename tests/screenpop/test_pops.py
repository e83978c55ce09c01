"""Screen pops on the agent's socket, fed by the ACD's bus events, with audit."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from websockets.asyncio.client import connect

from acd.model import PriorityClass
from acd.service import CallAbandoned, CallAnswered, CallOffered, CallRequeued
from crm_store.enums import Role
from crm_store.repositories.users import UserRepository
from cti.handover import Handover
from ivr.flows import Findings, Identity
from tests.screenpop.conftest import PASSWORDS, Console
from tests.screenpop.test_live_calls import patient_views, receive, signed_in_token


def open_pops(console: Console, token: str) -> Any:
    headers = {"Origin": console.url, "Cookie": f"hotline_session={token}"}
    url = console.url.replace("http://", "ws://") + "/ws/pops"
    return connect(url, additional_headers=headers, open_timeout=5)


def offer(call_id: str, agent_id: str, patient_id: int | None) -> CallOffered:
    findings = Findings(
        reason="caller_asked",
        language="zh",
        identity=Identity.VERIFIED if patient_id else Identity.UNKNOWN,
        patient_id=str(patient_id) if patient_id else None,
        patient_name=None,
        intent="book",
        intents=("book",),
        step="agent",
        slots={"department": "cardiology"},
        turns=3,
        last_heard="预约",
    )
    now = dt.datetime.now(dt.UTC)
    handover = Handover(
        call_id, f"PJSIP/trunk-{call_id}", "general", "caller_asked", None, "zh", findings, now
    )
    return CallOffered(
        call_id, agent_id, "general", PriorityClass.NORMAL, False, 12.0, handover, now
    )


async def test_the_offered_agent_gets_the_pop_with_the_patient_audited(console: Console):
    token = await signed_in_token(console, "agent")
    wang = console.patients["wang"]
    async with open_pops(console, token) as ws:
        await asyncio.sleep(0.1)  # the socket is registered before the offer
        console.bus.publish("acd.offered", offer("1700000001.1", "agent", wang))
        message = await receive(ws)
    assert message["type"] == "pop"
    pop = message["pop"]
    assert pop["call_id"] == "1700000001.1"
    assert pop["caller"]["known"] and pop["caller"]["verified"]
    assert pop["caller"]["name"] == "王秀英"
    assert pop["caller"]["vip"] is False
    assert pop["ivr"]["intent"] == "book" and pop["ivr"]["last_heard"] == "预约"
    assert pop["ivr"]["slots"] == {"department": "cardiology"}
    assert {"upcoming_appointments", "recent_calls", "open_complaints"} <= set(pop)
    assert (wang, console.user_ids["agent"], "websocket") in patient_views(console)


async def test_a_reconnecting_agent_gets_the_pending_pop_again_until_it_is_withdrawn(
    console: Console,
):
    token = await signed_in_token(console, "agent")
    smith = console.patients["smith"]
    console.bus.publish("acd.offered", offer("1700000002.1", "agent", smith))
    await console.bus.drain()
    async with open_pops(console, token) as ws:  # connected after the offer
        first = await receive(ws)
    assert first["pop"]["caller"]["name"] == "Emily Smith"
    async with open_pops(console, token) as ws:  # the browser dropped and came back
        again = await receive(ws)
        assert again["pop"]["call_id"] == "1700000002.1" and not again["pop"]["answered"]
        now = dt.datetime.now(dt.UTC)
        console.bus.publish("acd.requeued", CallRequeued("1700000002.1", "agent", now))
        withdrawn = await receive(ws)
    assert withdrawn == {"type": "withdrawn", "call_id": "1700000002.1", "reason": "not_answered"}
    assert "agent" not in console.server.app.state.services.pops.pending

    console.bus.publish("acd.offered", offer("1700000002.2", "agent", None))
    now = dt.datetime.now(dt.UTC)
    console.bus.publish("acd.answered", CallAnswered("1700000002.2", "agent", "Local/x", 3.0, now))
    await console.bus.drain()
    async with open_pops(console, token) as ws:
        unknown = await receive(ws)
    assert unknown["pop"]["caller"] == {
        "known": False,
        "verified": False,
        "number": None,
        "withheld": True,
    }
    assert unknown["pop"]["likely_matches"] == []
    assert unknown["pop"]["answered"] is True


async def test_an_agent_never_sees_another_agents_pop(console: Console):
    agent_token = await signed_in_token(console, "agent")
    with console.database.session() as session:
        UserRepository(session).create(
            username="agent2", display_name="Agent 2", role=Role.AGENT, password=PASSWORDS["agent"]
        )
    PASSWORDS.setdefault("agent2", PASSWORDS["agent"])
    other_token = await signed_in_token(console, "agent2")
    wang = console.patients["wang"]
    async with open_pops(console, other_token) as other, open_pops(console, agent_token) as ws:
        await asyncio.sleep(0.1)
        console.bus.publish("acd.offered", offer("1700000003.1", "agent", wang))
        assert (await receive(ws))["type"] == "pop"
        console.bus.publish(
            "acd.abandoned", CallAbandoned("1700000003.1", "general", 20.0, dt.datetime.now(dt.UTC))
        )
        assert (await receive(ws))["reason"] == "caller_hung_up"
        try:
            leaked = await asyncio.wait_for(other.recv(), timeout=0.5)
        except TimeoutError:
            leaked = None
    assert leaked is None
    viewers = {user for pid, user, _via in patient_views(console) if pid == wang}
    assert viewers == {console.user_ids["agent"]}
