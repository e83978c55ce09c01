"""Who sees what (issue 7): patient data for supervisors only, operations for supervisors
and admins, calls handled by agents. Every refusal is the app's 403 (or the socket's 4403)
and carries no patient data."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed

from crm_store.enums import Role
from screenpop.auth import ROLES_WITH, Access, AuthPolicy, SessionStore, role_may
from screenpop.dependencies import refusal
from screenpop.sockets import CLOSE_FORBIDDEN
from tests.screenpop.conftest import Console
from tests.screenpop.test_live_calls import (
    open_socket,
    patient_views,
    receive,
    signed_in_token,
    store_calls,
)
from tests.screenpop.test_units import user

#: Every HTTP surface that shows a patient's identity or voice.
PATIENT_DATA_GETS = (
    "/calls",
    "/api/calls",
    "/supervisor/recordings",
    "/api/supervisor/recordings",
    "/supervisor/recordings/1/audio",
    "/supervisor/recordings/1/audio?download=true",
    "/api/supervisor/monitor/calls",
    "/dialer",
    "/api/dialer/offers",
    "/api/dialer/refills",
    "/api/dialer/reminders",
    "/api/supervisor/calls/1700000000.2/pop",
    "/supervisor/calls/1700000000.2/pop",
)

#: Agent performance and operations, without patient identity.
OPERATIONS_GETS = (
    "/supervisor/reports",
    "/api/supervisor/reports",
    "/supervisor/wallboard",
    "/api/supervisor/wallboard",
    "/api/dialer/figures",
)

#: What the stored calls of ``store_calls`` would show about their patient.
PATIENT_TRACES = ("Emily Smith", "13900001111", "139****1111", "MRN-2")


def test_roles_are_duties_not_ranks() -> None:
    assert {a: {r for r in Role if role_may(r, a)} for a in Access} == {
        Access.CALL_HANDLING: {Role.AGENT},
        Access.PATIENT_DATA: {Role.SUPERVISOR},
        Access.OPERATIONS: {Role.SUPERVISOR, Role.ADMIN},
        Access.USER_MANAGEMENT: {Role.ADMIN},
    }
    assert set(ROLES_WITH) == set(Access)  # every access is granted by the one table


@pytest.mark.parametrize(
    ("role", "access"), [(r, a) for r in Role for a in Access if not role_may(r, a)]
)
def test_a_refusal_names_roles_only(role: Role, access: Access) -> None:
    session = SessionStore(AuthPolicy()).create(user(role))[1]
    refused = refusal(session, access)
    assert refused.code == "forbidden" and refused.role == role.value
    assert f"you are signed in as {role.value}" in refused.message


@pytest.mark.parametrize("username", ["admin", "agent"])
async def test_only_supervisors_see_patient_data(make_console: object, username: str) -> None:
    console: Console = await make_console(before_start=store_calls)  # type: ignore[operator]
    async with console.client(headers={"Accept-Language": "en"}) as client:
        await console.login(client, username)
        for path in PATIENT_DATA_GETS:
            response = await client.get(path)
            assert response.status_code == 403, path
            for trace in PATIENT_TRACES:
                assert trace not in response.text, (path, trace)
        api = await client.get("/api/calls")
        assert api.json() == {
            "error": "forbidden",
            "message": "this shows patient data, which only supervisors may view; "
            f"you are signed in as {username}",
        }
        page = await client.get("/calls")
        assert "This page shows patient data and is for supervisors only." in page.text
        monitor = await client.post(
            "/api/supervisor/monitor",
            json={
                "agent_user_id": console.user_ids["agent"],
                "channel": "PJSIP/agent-1",
                "mode": "listen",
            },
        )
        assert monitor.status_code == 403 and monitor.json()["error"] == "forbidden"
    async with open_socket(console, await signed_in_token(console, username)) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_FORBIDDEN
    assert closed.value.rcvd.reason == f"patient data is not for the {username} role"
    assert patient_views(console) == []


async def test_an_admin_sees_operations_and_lands_on_reports(console: Console) -> None:
    async with console.client(headers={"Accept-Language": "en"}) as client:
        login = await console.login(client, "admin")
        assert login.headers["location"] == "/supervisor/reports"
        for path in OPERATIONS_GETS:
            assert (await client.get(path)).status_code == 200, path
        home = (await client.get("/")).text
        assert 'href="/supervisor/reports"' in home and 'href="/supervisor/wallboard"' in home
        for hidden in ('href="/calls"', 'href="/dialer"', 'href="/supervisor/recordings"'):
            assert hidden not in home
    async with console.client() as client:
        await console.login(client, "agent")
        refused = await client.get("/api/supervisor/reports")
        assert refused.status_code == 403
        assert refused.json()["message"] == (
            "this is for the roles: supervisor, admin; you are signed in as agent"
        )


async def test_a_supervisor_still_sees_patient_data(make_console: object) -> None:
    console: Console = await make_console(before_start=store_calls)  # type: ignore[operator]
    async with console.client(headers={"Accept-Language": "en"}) as client:
        await console.login(client, "supervisor")
        assert "Emily Smith" in (await client.get("/calls")).text
    async with open_socket(console, await signed_in_token(console, "supervisor")) as ws:
        assert "ended" in await receive(ws)
