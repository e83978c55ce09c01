"""The pop of an unknown caller (likely matches, attached after the agent verified them)
and who may see and do what with a pop — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from crm_store.enums import AuditAction
from crm_store.models import AcdCall
from crm_store.repositories.acd import AcdRepository
from crm_store.repositories.patients import PatientRepository
from tests.screenpop.test_console_api import UNKNOWN_CALL, WANG_CALL, Desk, audit_rows, desk
from tests.screenpop.test_pops import offer

__all__ = ["desk"]  # the fixture, shared with the console API tests

SHARED_NUMBER = "13812340077"


def _family(desk: Desk) -> tuple[int, int]:
    """Mother and son on one mobile: the IVR names neither of them."""
    with desk.database.session() as session:
        patients = PatientRepository(session)
        mother = patients.create(
            mrn="F-1", full_name="张桂兰", date_of_birth=dt.date(1948, 3, 2),
            allergies="penicillin", numbers=[(SHARED_NUMBER, None)],
        )  # fmt: skip
        son = patients.create(
            mrn="F-2", full_name="张伟", date_of_birth=dt.date(1975, 9, 9),
            numbers=[(SHARED_NUMBER, None)],
        )  # fmt: skip
        AcdRepository(session).call_queued(
            UNKNOWN_CALL, queue="general", priority="normal", patient_id=None,
            at=dt.datetime.now(dt.UTC),
        )  # fmt: skip
    return mother, son


async def _offer_unknown(desk: Desk, caller_number: str | None) -> None:
    offered = offer(UNKNOWN_CALL, "agent", None)
    handover = dataclasses.replace(offered.handover, caller_number=caller_number)
    desk.bus.publish("acd.offered", dataclasses.replace(offered, handover=handover))
    for _ in range(300):
        if desk.services.pops.held_by("agent", UNKNOWN_CALL) is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the offer never reached the pop desk")


async def _socket_pop(desk: Desk, client: httpx.AsyncClient) -> dict[str, Any]:
    headers = {"Origin": desk.url, "Cookie": f"hotline_session={client.cookies['hotline_session']}"}
    url = desk.url.replace("http://", "ws://") + "/ws/pops"
    async with connect(url, additional_headers=headers, open_timeout=5) as ws:
        message: dict[str, Any] = json.loads(await ws.recv())
    assert message["type"] == "pop"
    return message["pop"]  # type: ignore[no-any-return]


async def _socket_close_code(desk: Desk, client: httpx.AsyncClient) -> int | None:
    headers = {"Origin": desk.url, "Cookie": f"hotline_session={client.cookies['hotline_session']}"}
    url = desk.url.replace("http://", "ws://") + "/ws/pops"
    async with connect(url, additional_headers=headers, open_timeout=5) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_an_unknown_caller_gets_likely_matches_and_the_verified_one_is_attached(
    desk: Desk,
) -> None:
    mother, son = _family(desk)
    await _offer_unknown(desk, "86" + SHARED_NUMBER)  # the trunk dropped the "+"
    attach = f"/api/console/calls/{UNKNOWN_CALL}/attach"
    async with desk.client("agent") as agent:
        pop = await _socket_pop(desk, agent)
        assert pop["caller"] == {
            "known": False, "verified": False, "number": "138 1234 0077", "withheld": False,
        }  # fmt: skip
        # Only what the agent needs to ask the right question: no record number, no notes.
        assert pop["likely_matches"] == [
            {"patient_id": mother, "name": "张桂兰", "number": "+86*******0077",
             "birth_year": 1948, "reason": "same_number"},
            {"patient_id": son, "name": "张伟", "number": "+86*******0077",
             "birth_year": 1975, "reason": "same_number"},
        ]  # fmt: skip
        shown = [
            (p, d["view"]) for a, p, d in audit_rows(desk.database, desk.users["agent"])
            if a is AuditAction.VIEW
        ]  # fmt: skip
        assert sorted(shown) == sorted([(mother, "screen_pop"), (son, "screen_pop")])

        stranger = desk.patients["smith"]
        refused = await agent.post(attach, json={"patient_id": stranger, "verified_by": "mrn"})
        assert refused.status_code == 403 and refused.json()["error"] == "not_suggested"
        unverified = await agent.post(attach, json={"patient_id": son})
        assert unverified.status_code == 422

        attached = await agent.post(
            attach, json={"patient_id": son, "verified_by": "date_of_birth"}
        )
        assert attached.status_code == 200, attached.text
        caller = attached.json()["pop"]["caller"]
        assert (caller["known"], caller["verified"], caller["name"]) == (True, True, "张伟")
        assert attached.json()["pop"]["likely_matches"] == []
        # The call now names the son: the agent can book for him; attaching again is refused.
        slots = await agent.get(
            f"/api/console/calls/{UNKNOWN_CALL}/slots",
            params={"department_id": desk.department_id},
        )
        assert slots.status_code == 200
        again = await agent.post(attach, json={"patient_id": mother, "verified_by": "mrn"})
        assert again.status_code == 409
    async with desk.client("agent2") as other:
        response = await other.post(attach, json={"patient_id": son, "verified_by": "mrn"})
        assert response.status_code == 403 and response.json()["error"] == "not_your_call"
    with desk.database.session() as session:
        assert (
            session.scalar(select(AcdCall.patient_id).where(AcdCall.call_key == UNKNOWN_CALL))
            == son
        )
    changes = [
        (p, d.get("change"), d.get("verified_by"))
        for a, p, d in audit_rows(desk.database, desk.users["agent"])
        if a is AuditAction.UPDATE
    ]
    assert changes == [(son, "call_attached", "date_of_birth")]


async def test_a_withheld_number_pops_unknown_without_suggestions(desk: Desk) -> None:
    _family(desk)
    await _offer_unknown(desk, None)
    async with desk.client("agent") as agent:
        pop = await _socket_pop(desk, agent)
    assert pop["caller"]["withheld"] is True and pop["likely_matches"] == []


async def test_a_supervisor_views_a_live_pop_read_only_and_cannot_act_as_its_agent(
    desk: Desk,
) -> None:
    wang = desk.patients["wang"]
    await desk.offer(WANG_CALL, "agent", wang)
    async with desk.client("supervisor") as supervisor:
        viewed = await supervisor.get(f"/api/supervisor/calls/{WANG_CALL}/pop")
        assert viewed.status_code == 200, viewed.text
        assert viewed.json()["read_only"] is True and viewed.json()["agent_id"] == "agent"
        assert viewed.json()["pop"]["caller"]["name"] == "王秀英"
        for method, path, body in (
            ("POST", f"/api/console/calls/{WANG_CALL}/appointments", {"slot_id": desk.slots[0]}),
            ("POST", f"/api/console/calls/{WANG_CALL}/appointments/R-1234/cancel", {}),
            ("GET", f"/api/console/calls/{WANG_CALL}/pop", None),
            ("POST", f"/api/console/calls/{WANG_CALL}/wrap-up", {"disposition": "other"}),
            ("POST", "/api/console/state", {"action": "available"}),
            ("GET", "/api/console/me", None),
        ):
            response = await supervisor.request(method, path, json=body)
            assert response.status_code == 403, (path, response.text)
            assert "only agents act on calls" in response.json()["message"]
        assert (await supervisor.get("/console")).status_code == 403
        assert 'href="/console"' not in (await supervisor.get("/")).text  # not offered
        assert await _socket_close_code(desk, supervisor) == 4403
        page = await supervisor.get(f"/supervisor/calls/{WANG_CALL}/pop?lang=en")
        assert page.status_code == 200 and "王秀英" in page.text
        assert "Read-only: the call is offered to agent agent" in page.text
        assert "<form" not in page.text.split('id="supervisor-pop"')[1]
        gone = await supervisor.get("/api/supervisor/calls/1700000999.9/pop")
        assert gone.status_code == 404 and gone.json()["error"] == "call_not_live"
    views = [
        (p, d["view"], d["via"])
        for a, p, d in audit_rows(desk.database, desk.users["supervisor"])
        if a is AuditAction.VIEW
    ]
    assert views == [(wang, "supervisor_pop", "api"), (wang, "supervisor_pop", "page")]
    assert {a for a, _p, _d in audit_rows(desk.database, desk.users["supervisor"])} == {
        AuditAction.VIEW
    }


async def test_an_admin_sees_no_pop_and_an_agent_no_other_agents_pop(desk: Desk) -> None:
    await desk.offer(WANG_CALL, "agent", desk.patients["wang"])
    async with desk.client("admin") as admin:
        response = await admin.get(f"/api/supervisor/calls/{WANG_CALL}/pop")
        assert response.status_code == 403
        page = await admin.get(f"/supervisor/calls/{WANG_CALL}/pop")
        assert page.status_code == 403 and "王秀英" not in page.text
        assert "only supervisors may view" in response.json()["message"]
        booking = await admin.post(
            f"/api/console/calls/{WANG_CALL}/appointments", json={"slot_id": desk.slots[0]}
        )
        assert booking.status_code == 403
        assert await _socket_close_code(desk, admin) == 4403
    for username in ("agent", "agent2"):
        async with desk.client(username) as agent:
            assert 'href="/console"' in (await agent.get("/")).text
            response = await agent.get(f"/api/supervisor/calls/{WANG_CALL}/pop")
            assert response.status_code == 403, username
    assert audit_rows(desk.database, desk.users["admin"]) == []
    assert audit_rows(desk.database, desk.users["agent2"]) == []
