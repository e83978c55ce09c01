"""Live calls for supervisors only (they name patients): the page, its JSON, and the socket
that keeps it current.

Socket protocol (server → browser, JSON text frames):

* ``{"type": "snapshot", "active": [call…], "ended": [call…], "ended_limit": 50}`` —
  first message of every connection (so a reconnect resumes from the current state)
  and again whenever the browser fell behind;
* ``{"type": "upsert", "call": call}`` — a call started or changed;
* ``{"type": "ended", "call": call}`` — a call ended (move it to the ended list).

Close codes: 4401 not signed in / session ended, 4403 role not allowed or request from
another site, 1011 audit unavailable, 1001 server stopping. The browser ignores
anything it sends; the server never acts on it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import Response

from screenpop.auth import Access
from screenpop.dependencies import (
    PatientDataUser,
    ServicesDep,
    TranslatorDep,
    language_of,
)
from screenpop.i18n import Translator
from screenpop.live_calls import BoardState, BoardUpdate, Resync
from screenpop.pages import render
from screenpop.sockets import CLOSE_GOING_AWAY, CLOSE_NOT_SIGNED_IN, admit, serve_socket

log = logging.getLogger(__name__)

router = APIRouter()

VIEW = "live_calls"


def state_json(state: BoardState, t: Translator, services: Any) -> dict[str, Any]:
    return {
        "type": "snapshot",
        "active": [c.to_json(t, services.zone) for c in state.active],
        "ended": [c.to_json(t, services.zone) for c in state.ended],
        "ended_limit": state.ended_limit,
    }


@router.get("/calls", include_in_schema=False)
async def calls_page(
    request: Request, services: ServicesDep, t: TranslatorDep, user: PatientDataUser
) -> Response:
    state = services.board.state()
    await services.audit.patients_viewed(
        user_id=user.user_id, patient_ids=state.patient_ids(), view=VIEW, via="page"
    )
    return render(
        request,
        "calls.html",
        t=t,
        user=user,
        active=[c.to_json(t, services.zone) for c in state.active],
        ended=[c.to_json(t, services.zone) for c in state.ended],
        ended_limit=state.ended_limit,
        i18n=t.catalogue(("live_", "not_yet", "patient_unknown", "calls_none_", "mon_")),
    )


@router.get("/api/calls")
async def calls_json(
    services: ServicesDep, t: TranslatorDep, user: PatientDataUser
) -> dict[str, Any]:
    """Calls in progress (oldest first) and the latest ended calls (newest first)."""
    state = services.board.state()
    await services.audit.patients_viewed(
        user_id=user.user_id, patient_ids=state.patient_ids(), view=VIEW, via="api"
    )
    return state_json(state, t, services)


@router.websocket("/ws/calls")
async def calls_socket(websocket: WebSocket, services: ServicesDep) -> None:
    session = await admit(websocket, services, Access.PATIENT_DATA)
    if session is None:
        return
    policy = services.policy
    t = Translator(language_of(websocket, services))
    board = services.board
    watcher, state = board.watch()
    audited: set[int] = set()

    async def send_state(current: BoardState) -> None:
        ids = current.patient_ids()
        await services.audit.patients_viewed(
            user_id=session.user_id, patient_ids=ids, view=VIEW, via="websocket"
        )
        audited.clear()
        audited.update(ids)
        await websocket.send_json(state_json(current, t, services))

    async def send_update(update: BoardUpdate) -> None:
        pid = update.call.patient_id
        if pid is not None and pid not in audited:
            await services.audit.patients_viewed(
                user_id=session.user_id, patient_ids=[pid], view=VIEW, via="websocket"
            )
            audited.add(pid)
        await websocket.send_json(
            {"type": update.kind, "call": update.call.to_json(t, services.zone)}
        )

    async def pump() -> None:
        await send_state(state)
        while True:
            item: BoardUpdate | Resync | _Recheck | None
            try:
                item = await asyncio.wait_for(watcher.next(), timeout=policy.websocket_recheck_s)
            except TimeoutError:
                item = _RECHECK
            if not services.sessions.is_live(session.key):
                await websocket.close(CLOSE_NOT_SIGNED_IN, "session ended")
                return
            if item is None:
                await websocket.close(CLOSE_GOING_AWAY, "server stopping")
                return
            if isinstance(item, Resync):
                await send_state(board.state())
            elif isinstance(item, BoardUpdate):
                await send_update(item)

    try:
        await serve_socket(websocket, pump, "calls")
    finally:
        board.unwatch(watcher)


class _Recheck:
    """Marker: nothing happened for a while; re-check the session."""


_RECHECK = _Recheck()
