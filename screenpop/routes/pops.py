"""The agent's screen-pop socket: ``/ws/pops``.

An agent's socket carries only the pops of calls offered to that agent (the signed-in
user's username is their ACD agent id). Each pop that names a patient is audited before
it is sent (view ``screen_pop``); if the audit cannot be written the pop is not shown
(close 1011). On (re)connecting, the agent's pending pop is sent first, so an agent whose
browser dropped the connection while their phone rang still sees who is calling.

Close codes as for the live calls socket: 4401 not signed in / session ended, 4403 other
site, 1011 audit unavailable, 1001 server stopping.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, WebSocket

from crm_store.enums import Role
from screenpop.dependencies import ServicesDep, origin_allowed
from screenpop.pops import Pop
from screenpop.sockets import (
    CLOSE_FORBIDDEN,
    CLOSE_GOING_AWAY,
    CLOSE_NOT_SIGNED_IN,
    serve_socket,
)

log = logging.getLogger(__name__)

router = APIRouter()

VIEW = "screen_pop"


@router.websocket("/ws/pops")
async def pops_socket(websocket: WebSocket, services: ServicesDep) -> None:
    policy = services.policy
    session, _expired = services.sessions.lookup(
        websocket.cookies.get(policy.cookie_name), touch=False
    )
    await websocket.accept()
    if not origin_allowed(websocket, policy):
        await websocket.close(CLOSE_FORBIDDEN, "cross-site connection refused")
        return
    if session is None or not session.allows(Role.AGENT):
        await websocket.close(CLOSE_NOT_SIGNED_IN, "sign in first")
        return
    desk = services.pops
    watcher, pending = desk.watch(session.username)

    async def send_pop(pop: Pop) -> None:
        if pop.patient_id is not None:
            await services.audit.patients_viewed(
                user_id=session.user_id, patient_ids=[pop.patient_id], view=VIEW, via="websocket"
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
