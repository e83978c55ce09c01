"""The supervisors' wallboard: ``GET /supervisor/wallboard`` (the page),
``GET /api/supervisor/wallboard`` (its JSON) and ``/ws/wallboard`` (the live feed).

Socket protocol (server → browser, JSON text frames): ``{"type": "wallboard", …}`` — the
whole board (see :meth:`screenpop.wallboard.WallboardView.to_json`), first on connecting
and again whenever it changed. Its clocks tick in the browser, so nothing is sent while
nothing changes. Close codes as for the live calls socket: 4401 not signed in / session
ended, 4403 an agent's (or another site's) connection, 1001 server stopping.

The board shows queue names, agent ids and counts only — no caller number and no
patient — so it can hang on a wall, and showing it is not a patient record view to audit.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import Response

from screenpop.auth import Access
from screenpop.dependencies import OperationsUser, ServicesDep, TranslatorDep, language_of
from screenpop.i18n import Translator
from screenpop.pages import render
from screenpop.sockets import CLOSE_GOING_AWAY, CLOSE_NOT_SIGNED_IN, admit, serve_socket
from screenpop.wallboard import WallboardView

router = APIRouter()


@router.get("/supervisor/wallboard", include_in_schema=False)
async def wallboard_page(
    request: Request, services: ServicesDep, t: TranslatorDep, user: OperationsUser
) -> Response:
    await services.wallboard.refresh()
    return render(
        request,
        "wallboard.html",
        t=t,
        user=user,
        board=services.wallboard.view().to_json(t),
        i18n=t.catalogue(("wb_",)),
    )


@router.get("/api/supervisor/wallboard")
async def wallboard_json(
    services: ServicesDep, t: TranslatorDep, _user: OperationsUser
) -> dict[str, Any]:
    """The board now: per queue, per agent, and the calls agents hold."""
    await services.wallboard.refresh()
    return services.wallboard.view().to_json(t)


@router.websocket("/ws/wallboard")
async def wallboard_socket(websocket: WebSocket, services: ServicesDep) -> None:
    session = await admit(websocket, services, Access.OPERATIONS)
    if session is None:
        return
    t = Translator(language_of(websocket, services))
    feed = services.wallboard
    watcher, first = feed.watch()
    recheck_s = services.policy.websocket_recheck_s

    async def pump() -> None:
        await websocket.send_json(first.to_json(t))
        while True:
            item: WallboardView | bool | None
            try:
                item = await asyncio.wait_for(watcher.next(), timeout=recheck_s)
            except TimeoutError:
                item = False  # nothing changed; re-check the session
            if not services.sessions.is_live(session.key):
                await websocket.close(CLOSE_NOT_SIGNED_IN, "session ended")
                return
            if item is None:
                await websocket.close(CLOSE_GOING_AWAY, "server stopping")
                return
            if isinstance(item, WallboardView):
                await websocket.send_json(item.to_json(t))

    try:
        await serve_socket(websocket, pump, "wallboard")
    finally:
        feed.unwatch(watcher)
