"""Helpers for the Asterisk tests: a panoramisk AMI session that records events, and
simulated calls placed through dialplans/simulation.conf."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Callable
from typing import Any

from panoramisk import Manager
from panoramisk.message import Message

from cti.settings import Settings

Predicate = Callable[[Message], bool]


class AmiSession:
    """An AMI login that keeps every event it receives, for assertions."""

    def __init__(self, settings: Settings, *, secret: str | None = None) -> None:
        self.manager = Manager(
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_username,
            secret=secret if secret is not None else settings.ami_secret.get_secret_value(),
            ping_delay=0,
            reconnect_timeout=0,
        )
        self.events: list[Message] = []
        self._arrived = asyncio.Event()
        self.manager.register_event("*", self._on_event)

    def _on_event(self, _manager: Manager, message: Message) -> None:
        self.events.append(message)
        self._arrived.set()

    async def __aenter__(self) -> AmiSession:
        await asyncio.wait_for(self.manager.connect(), timeout=10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.manager.close()

    async def action(self, action: dict[str, Any], timeout_s: float = 10) -> Any:
        return await asyncio.wait_for(self.manager.send_action(action), timeout=timeout_s)

    async def wait_for(
        self, predicate: Predicate, timeout_s: float = 15, what: str = ""
    ) -> Message:
        """The first event (already received or arriving within ``timeout``) that
        matches."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        seen = 0
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                names = [
                    (
                        e.get("Event"),
                        e.get("UserEvent") or e.get("Variable") or e.get("Context"),
                        e.get("Value") or e.get("AppData") or e.get("Reason"),
                        e.get("Uniqueid"),
                    )
                    for e in self.events
                    if e.get("Event") not in ("TestEvent", "DeviceStateChange", "Newstate")
                ]
                raise AssertionError(f"no event {what or predicate} in {timeout_s} s; saw {names}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout=remaining)
            except TimeoutError:
                pass

    def of_call(self, uniqueid: str) -> list[Message]:
        return [e for e in self.events if e.get("Uniqueid") == uniqueid]


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


async def originate_simulated_call(
    ami: AmiSession,
    *,
    number: str | None = None,
    name: str | None = None,
    audio: str = "",
    dtmf: str = "",
    hold_s: float = 3,
    did: str = "",
) -> str:
    """Place a simulated inbound call; returns the Uniqueid of the ;1 channel (the
    channel that runs hotline-inbound)."""
    uniqueid = f"sim-{uuid.uuid4().hex[:12]}"
    variables = [f"SIM_HOLD_S={hold_s}"]
    if number is not None:
        variables.append(f"SIM_CID_NUM_B64={b64(number)}")
    if name is not None:
        variables.append(f"SIM_CID_NAME_B64={b64(name)}")
    if audio:
        variables.append(f"SIM_AUDIO={audio}")
    if dtmf:
        variables.append(f"SIM_DTMF={dtmf}")
    if did:
        variables.append(f"SIM_DID={did}")
    response = await ami.action(
        {
            "Action": "Originate",
            "Channel": "Local/s@caller-sim",
            "Context": "caller-sim-inbound",
            "Exten": "s",
            "Priority": "1",
            "Async": "true",
            "ChannelId": uniqueid,
            "OtherChannelId": uniqueid + "-caller",
            "Variable": variables,
        }
    )
    first = response[0] if isinstance(response, list) else response
    assert first.get("Response") == "Success", first
    return uniqueid


def is_event(name: str, uniqueid: str | None = None, **fields: str) -> Predicate:
    def predicate(event: Message) -> bool:
        if event.get("Event") != name:
            return False
        if uniqueid is not None and event.get("Uniqueid") != uniqueid:
            return False
        return all(event.get(k) == v for k, v in fields.items())

    return predicate
