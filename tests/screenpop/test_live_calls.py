"""The live calls page, its JSON and its WebSocket, fed by the real bus, with audit."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from crm_store.database import Database
from crm_store.enums import AuditAction, AuditEntity
from crm_store.errors import StoreBusy
from crm_store.models import AuditLogEntry
from crm_store.repositories.calls import CallRepository
from tests.screenpop.conftest import Console, tracked_call


def patient_views(console: Console) -> list[tuple[int, int | None, str]]:
    with console.database.session() as session:
        rows = session.scalars(
            select(AuditLogEntry)
            .where(
                AuditLogEntry.action == AuditAction.VIEW,
                AuditLogEntry.entity_type == AuditEntity.PATIENT,
            )
            .order_by(AuditLogEntry.id)
        )
        return [(r.entity_id, r.user_id, (r.detail or {}).get("via", "")) for r in rows]


async def signed_in_token(console: Console, username: str) -> str:
    async with console.client() as client:
        response = await console.login(client, username)
        assert response.status_code == 303
        return client.cookies["hotline_session"]


def open_socket(console: Console, token: str | None, origin: str | None = None) -> Any:
    headers = {"Origin": origin or console.url}
    if token:
        headers["Cookie"] = f"hotline_session={token}"
    return connect(console.ws_url, additional_headers=headers, open_timeout=5)


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.recv(), timeout=5)
    return json.loads(message)  # type: ignore[no-any-return]


async def close_code(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), timeout=5)
    return closed.value.rcvd.code if closed.value.rcvd else None


def store_calls(database: Database, patients: dict[str, int]) -> None:
    """Calls the store has before the console starts: one ended, one still open."""
    base = dt.datetime(2030, 1, 7, 2, 0, tzinfo=dt.UTC)
    ended = tracked_call(
        "1700000000.1",
        patient_id=patients["smith"],
        number="+8613900001111",
        arrived_at=base,
        answered=True,
        ended=True,
        cause=17,
    )
    open_call = tracked_call("1700000000.2", number="anonymous", arrived_at=base)
    with database.session() as session:
        CallRepository(session).save(ended.snapshot())
        CallRepository(session).save(open_call.snapshot())


async def test_page_shows_stored_calls_masked_and_audits_patients(make_console: object) -> None:
    console: Console = await make_console(before_start=store_calls)  # type: ignore[operator]
    async with console.client(headers={"Accept-Language": "en"}) as client:
        await console.login(client, "supervisor")
        page = await client.get("/calls")
        assert page.status_code == 200
        html = page.text
        assert "+86 139****1111" in html and "13900001111" not in html
        assert "Emily Smith" in html
        assert "Withheld" in html  # the anonymous open call
        assert "Busy" in html  # cause 17, translated
        assert "1:05" in html  # 65 s

        api = (await client.get("/api/calls")).json()
        assert [c["linkedid"] for c in api["active"]] == ["1700000000.2"]
        [ended] = api["ended"]
        assert ended["number"] == "+86 139****1111"
        assert ended["duration_s"] == 65
        assert ended["arrived"] == "01-07 10:00:00"  # shown in the hospital's zone

    supervisor = console.user_ids["supervisor"]
    assert patient_views(console) == [
        (console.patients["smith"], supervisor, "page"),
        (console.patients["smith"], supervisor, "api"),
    ]


async def test_socket_streams_bus_events_and_audits_new_patients(console: Console) -> None:
    token = await signed_in_token(console, "supervisor")
    wang = console.patients["wang"]
    async with open_socket(console, token) as ws:
        snapshot = await receive(ws)
        assert snapshot == {"type": "snapshot", "active": [], "ended": [], "ended_limit": 50}

        call = tracked_call("1700000001.7", patient_id=wang)
        console.bus.publish("call.started", call)
        started = await receive(ws)
        assert started["type"] == "upsert"
        assert started["call"]["patient_name"] == "王秀英"
        assert started["call"]["number"] == "+86 138****8000"
        assert "13812348000" not in json.dumps(started)

        call.answered_at = call.arrived_at + dt.timedelta(seconds=3)
        console.bus.publish("call.updated", call)
        updated = await receive(ws)
        assert updated["type"] == "upsert" and updated["call"]["answered_at"] is not None

        call.ended_at = call.arrived_at + dt.timedelta(seconds=30)
        call.hangup_cause, call.hangup_cause_text = 16, "Normal Clearing"
        console.bus.publish("call.ended", call)
        ended = await receive(ws)
        assert ended["type"] == "ended" and ended["call"]["duration"] == "0:30"

        # A late update of an ended call does not bring it back.
        console.bus.publish("call.updated", tracked_call("1700000001.7", patient_id=wang))
        await console.bus.drain()

    # One audit row for this connection's first sight of the patient, not one per update.
    supervisor = console.user_ids["supervisor"]
    assert patient_views(console) == [(wang, supervisor, "websocket")]

    # A reconnect resumes from the current state (and is a new, audited view).
    async with open_socket(console, token) as ws:
        again = await receive(ws)
        assert again["active"] == []
        assert [c["linkedid"] for c in again["ended"]] == ["1700000001.7"]
    assert patient_views(console)[-1] == (wang, supervisor, "websocket")
    assert len(patient_views(console)) == 2


async def test_ended_list_keeps_the_last_fifty(console: Console) -> None:
    token = await signed_in_token(console, "supervisor")
    for i in range(55):
        console.bus.publish("call.ended", tracked_call(f"1700000100.{i}", ended=True))
    await console.bus.drain()
    async with open_socket(console, token) as ws:
        snapshot = await receive(ws)
    assert len(snapshot["ended"]) == 50
    assert snapshot["ended"][0]["linkedid"] == "1700000100.54"  # newest first


async def test_socket_refuses_agents_strangers_and_other_sites(console: Console) -> None:
    agent = await signed_in_token(console, "agent")
    async with open_socket(console, agent) as ws:
        assert await close_code(ws) == 4403
    async with open_socket(console, None) as ws:
        assert await close_code(ws) == 4401
    async with open_socket(console, "forged-token") as ws:
        assert await close_code(ws) == 4401
    supervisor = await signed_in_token(console, "supervisor")
    async with open_socket(console, supervisor, origin="http://evil.example") as ws:
        assert await close_code(ws) == 4403
    assert patient_views(console) == []


async def test_socket_closes_when_the_session_ends(console: Console) -> None:
    async with console.client() as client:
        await console.login(client, "supervisor")
        token = client.cookies["hotline_session"]
        async with open_socket(console, token) as ws:
            await receive(ws)
            await client.post("/logout")
            assert await close_code(ws) == 4401

    token = await signed_in_token(console, "supervisor")
    async with open_socket(console, token) as ws:
        await receive(ws)
        console.clock.advance(console.policy.session_idle_s + 1)  # socket traffic isn't activity
        assert await close_code(ws) == 4401


async def test_socket_is_closed_cleanly_when_the_server_stops(console: Console) -> None:
    token = await signed_in_token(console, "supervisor")
    async with open_socket(console, token) as ws:
        await receive(ws)
        await console.server.stop()
        assert await close_code(ws) in (1001, 1012)


async def test_no_patient_names_without_an_audit_row(
    make_console: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    console: Console = await make_console(before_start=store_calls)  # type: ignore[operator]

    def broken_write(*_args: object, **_kwargs: object) -> int:
        raise StoreBusy()

    async with console.client(headers={"Accept-Language": "en"}) as client:
        await console.login(client, "supervisor")
        monkeypatch.setattr("screenpop.auditing.AuditLogRepository.write", broken_write)
        page = await client.get("/calls")
        assert page.status_code == 503
        assert "Emily Smith" not in page.text
        assert "could not be recorded" in page.text
        api = await client.get("/api/calls")
        assert api.status_code == 503 and api.json()["error"] == "audit_unavailable"
        token = client.cookies["hotline_session"]
    async with open_socket(console, token) as ws:
        assert await close_code(ws) == 1011
