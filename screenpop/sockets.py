"""What every console WebSocket does around its own messages: send from a pump, read
(and ignore) what the browser sends until it leaves, and close cleanly however it ends.

Close codes are the consoles' contract with their scripts (``static/*.js``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from screenpop.auth import Access, WebSession
from screenpop.dependencies import Services, origin_allowed
from screenpop.errors import AuditUnavailable

log = logging.getLogger(__name__)

CLOSE_NOT_SIGNED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_AUDIT_UNAVAILABLE = 1011
CLOSE_GOING_AWAY = 1001


async def admit(
    websocket: WebSocket,
    services: Services,
    needed: Access,
) -> WebSession | None:
    """Accept the handshake and check who connects: the session, or None once the socket
    is closed (4403 another site, or a role without ``needed``, with a reason naming
    ``needed`` and the role; 4401 not signed in)."""
    policy = services.policy
    session, _expired = services.sessions.lookup(
        websocket.cookies.get(policy.cookie_name), touch=False
    )
    await websocket.accept()
    if not origin_allowed(websocket, policy):
        await websocket.close(CLOSE_FORBIDDEN, "cross-site connection refused")
        return None
    if session is None:
        await websocket.close(CLOSE_NOT_SIGNED_IN, "sign in first")
        return None
    if not session.may(needed):
        # A close reason fits in 123 bytes, so the short form of the HTTP refusal.
        reason = f"{needed.value.replace('_', ' ')} is not for the {session.role.value} role"
        await websocket.close(CLOSE_FORBIDDEN, reason)
        return None
    return session


async def serve_socket(
    websocket: WebSocket, pump: Callable[[], Coroutine[Any, Any, None]], name: str
) -> None:
    """Run ``pump`` (which sends) beside a reader until either ends; an audit failure
    closes with :data:`CLOSE_AUDIT_UNAVAILABLE` (nothing is shown unaudited)."""

    async def drain_incoming() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return

    sender = asyncio.create_task(pump(), name=f"ws-{name}-send")
    reader = asyncio.create_task(drain_incoming(), name=f"ws-{name}-read")
    try:
        done, _pending = await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if isinstance(exc, AuditUnavailable):
                with contextlib.suppress(Exception):
                    await websocket.close(CLOSE_AUDIT_UNAVAILABLE, "audit unavailable")
            elif exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError):
                log.error("%s socket failed: %r", name, exc)
    finally:
        for task in (sender, reader):
            task.cancel()
        await asyncio.gather(sender, reader, return_exceptions=True)
        if websocket.application_state is not WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(CLOSE_GOING_AWAY)
