"""The agent's screen-pop socket ``/ws/pops``, and a supervisor's read-only view of a
live call's pop (``GET /api/supervisor/calls/{call_id}/pop``, and the page
``/supervisor/calls/{call_id}/pop`` the live calls page links each caller to).

An agent's socket carries only the pops of calls offered to that agent (the signed-in
user's username is their ACD agent id). Each pop that names a patient is audited before
it is sent (view ``screen_pop``); if the audit cannot be written the pop is not shown
(close 1011). On (re)connecting, the agent's pending pop is sent first, so an agent whose
browser dropped the connection while their phone rang still sees who is calling.

Only agents have a pop socket (supervisors and admins are refused with 4403: they do not
take calls). A pop of an unknown caller shows likely matches: each is audited as a view.
A supervisor may read any live call's pop (audited, view ``supervisor_pop``) but acts on
nothing: the console's actions are the offered agent's alone. Admins see no pops.

Close codes as for the live calls socket: 4401 not signed in / session ended, 4403 other
site or not an agent, 1011 audit unavailable, 1001 server stopping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import Response

from screenpop.auth import Access
from screenpop.dependencies import PatientDataUser, Services, ServicesDep, TranslatorDep
from screenpop.errors import CallNotLive
from screenpop.pages import render
from screenpop.pops import Pop
from screenpop.routes.console import CallId
from screenpop.sockets import CLOSE_GOING_AWAY, CLOSE_NOT_SIGNED_IN, admit, serve_socket

log = logging.getLogger(__name__)

router = APIRouter()

VIEW = "screen_pop"
SUPERVISOR_VIEW = "supervisor_pop"


@router.websocket("/ws/pops")
async def pops_socket(websocket: WebSocket, services: ServicesDep) -> None:
    session = await admit(websocket, services, Access.CALL_HANDLING)
    if session is None:
        return
    policy = services.policy
    desk = services.pops
    watcher, pending = desk.watch(session.username)

    async def send_pop(pop: Pop) -> None:
        await services.audit.patients_viewed(
            user_id=session.user_id, patient_ids=pop.viewed_patient_ids, view=VIEW, via="websocket"
        )
        await websocket.send_json({"type": "pop", "pop": pop.to_json()})

    async def pump() -> None:
        if pending is not None:
            await send_pop(pending)
        while True:
            try:
                item = await asyncio.wait_for(watcher.next(), timeout=policy.websocket_recheck_s)
            except TimeoutError:
                if not services.sessions.is_live(session.key):
                    await websocket.close(CLOSE_NOT_SIGNED_IN, "session ended")
                    return
                continue
            if item is None:
                await websocket.close(CLOSE_GOING_AWAY, "server stopping")
                return
            if isinstance(item, Pop):
                await send_pop(item)
            else:
                await websocket.send_json(item)

    try:
        await serve_socket(websocket, pump, "pops")
    finally:
        desk.unwatch(watcher)


async def _viewed_live(services: Services, user_id: int, call_id: str, via: str) -> Pop:
    pop = services.pops.live(call_id)
    if pop is None:
        raise CallNotLive()
    await services.audit.patients_viewed(
        user_id=user_id, patient_ids=pop.viewed_patient_ids, view=SUPERVISOR_VIEW, via=via
    )
    return pop


@router.get("/api/supervisor/calls/{call_id}/pop")
async def live_pop(call_id: CallId, services: ServicesDep, user: PatientDataUser) -> dict[str, Any]:
    """A live call's pop as its agent sees it, read-only for a supervisor (audited)."""
    pop = await _viewed_live(services, user.user_id, call_id, "api")
    return {"agent_id": pop.offer.agent_id, "read_only": True, "pop": pop.to_json()}


@router.get("/supervisor/calls/{call_id}/pop", include_in_schema=False)
async def live_pop_page(
    request: Request,
    call_id: CallId,
    services: ServicesDep,
    t: TranslatorDep,
    user: PatientDataUser,
) -> Response:
    pop = await _viewed_live(services, user.user_id, call_id, "page")

    def when(iso: str | None) -> str:
        if not iso:
            return ""
        return dt.datetime.fromisoformat(iso).astimezone(services.zone).strftime("%Y-%m-%d %H:%M")

    return render(
        request, "supervisor_pop.html", t=t, user=user, pop=pop.to_json(),
        agent_id=pop.offer.agent_id, when=when,
    )  # fmt: skip
