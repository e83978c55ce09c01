"""Helpers of the ACD's live tests: a service on the real Asterisk (built by the
``make_rig`` fixture in conftest.py), simulated callers parked in ``[hotline-wait]``, and a
record of everything the service published."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from acd.agent_states import StateChanged
from acd.model import AgentState, Queue
from acd.service import AcdService
from cti.bus import EventBus
from cti.handover import Handover
from ivr.flows import Findings, Identity
from tests.fixtures.hotline import CallerSide

QUEUES = (
    Queue("general", skill="general", language="zh", ring_timeout_s=3, wrap_up_s=1),
    Queue("vip", skill="general", language="zh", ring_timeout_s=3, wrap_up_s=1),
)


@dataclass
class Seen:
    """Everything the service published, with a way to wait for what a test expects."""

    items: list[tuple[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, topic: str, payload: Any) -> None:
        self.items.append((topic, payload))
        self.changed.set()

    async def wait_for(
        self, predicate: Callable[[Any], bool], what: str, timeout_s: float = 20
    ) -> Any:
        async def _wait() -> Any:
            seen = 0
            while True:
                for _topic, payload in self.items[seen:]:
                    if predicate(payload):
                        return payload
                seen = len(self.items)
                self.changed.clear()
                await self.changed.wait()

        try:
            return await asyncio.wait_for(_wait(), timeout_s)
        except TimeoutError:
            raise AssertionError(
                f"no {what} within {timeout_s} s; saw {[t for t, _ in self.items]}"
            ) from None

    def of(self, kind: type) -> list[Any]:
        return [p for _t, p in self.items if isinstance(p, kind)]


@dataclass
class Rig:
    service: AcdService
    bus: EventBus
    seen: Seen
    caller: CallerSide


@dataclass(frozen=True)
class Parked:
    uniqueid: str
    channel: str


async def park_caller(
    caller: CallerSide,
    *,
    hold_s: int = 25,
    number: str | None = None,
    keys: str = "",
    wait_max_s: int | None = None,
    variables: Sequence[str] = (),
) -> Parked:
    """A simulated caller, answered and waiting in [hotline-wait] with music. With
    ``keys``, they press them after 3 s of waiting; ``number`` is their caller ID;
    ``wait_max_s`` overrides the dialplan's wait limit (HOTLINE_WAIT_MAX_S) for this call;
    ``variables`` (NAME=value) are set on the caller's channel as a hand-over would."""
    action: dict[str, str | list[str]] = {
        "Action": "Originate",
        "Channel": "Local/s@caller-sim",
        "Context": "hotline-wait",
        "Exten": "s",
        "Priority": "1",
        "Async": "true",
        "Timeout": "10000",
        "Variable": [f"SIM_HOLD_S={hold_s}", *variables]
        + (["SIM_AUDIO=silence:3", f"SIM_DTMF={keys}"] if keys else []),
    }
    if number is not None:
        action["CallerID"] = f"<{number}>"
    if wait_max_s is not None:
        action["Variable"] = [*action["Variable"], f"HOTLINE_WAIT_MAX_S={wait_max_s}"]
    events = await caller.ami.send_list(action)
    response = next(e for e in events if e.get("Event") == "OriginateResponse")
    assert response.get("Response") == "Success", response
    return Parked(str(response.get("Uniqueid")), str(response.get("Channel")))


def handover_of(parked: Parked, queue: str, patient_id: str | None = None) -> Handover:
    findings = Findings(
        reason="caller_asked",
        language="zh",
        identity=Identity.VERIFIED if patient_id else Identity.UNKNOWN,
        patient_id=patient_id,
        patient_name=None,
        intent="book",
        intents=("book",),
        step="agent",
        slots={},
        turns=2,
        last_heard="预约",
    )
    return Handover(
        uniqueid=parked.uniqueid,
        channel=parked.channel,
        queue=queue,
        reason="caller_asked",
        skill=None,
        language="zh",
        findings=findings,
        at=dt.datetime.now(dt.UTC),
    )


def state_is(agent_id: str, state: AgentState) -> Callable[[Any], bool]:
    return lambda p: isinstance(p, StateChanged) and p.agent_id == agent_id and p.new is state


async def answer_callback_question(caller: CallerSide, parked: Parked, key: str) -> None:
    """Once the caller hears their number read back ([hotline-wait] ``callback-ask``),
    they press ``key`` (sent from their phone's side of the Local channel)."""
    await caller.log.wait_for(
        lambda e: (
            e.name == "UserEvent"
            and e.get("UserEvent") == "HotlineWait"
            and e.get("Phase") == "callback-asked"
            and e.get("Uniqueid") == parked.uniqueid
        ),
        what="the callback question",
        timeout_s=60,
    )
    phone_side = parked.channel.removesuffix(";1") + ";2"
    await caller.ami.send({"Action": "PlayDTMF", "Channel": phone_side, "Digit": key})


async def hung_up(caller: CallerSide, uniqueid: str, what: str, timeout_s: float = 60) -> None:
    """Wait until Asterisk reports the end of channel ``uniqueid``."""
    await caller.log.wait_for(
        lambda e: e.name == "Hangup" and e.get("Uniqueid") == uniqueid,
        what=what,
        timeout_s=timeout_s,
    )
