"""Listen, whisper, barge: a supervisor's phone is originated into ``[hotline-spy]``
(dialplans/supervisor.conf), where ChanSpy joins the agent's live channel. Every use is
written to the audit log before Asterisk is asked, so no monitoring goes unrecorded.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from acd.service import CallAbandoned, CallBridged, CallEnded, CallQueued
from crm_store.enums import AuditAction, AuditEntity
from crm_store.gateway import StoreGateway
from crm_store.repositories import AuditLogRepository, UserRepository
from cti.bus import EventBus, Subscription
from cti.errors import AmiError
from recordings.errors import InvalidRecordingRequest
from recordings.policy import check_channel
from screenpop.errors import AsteriskRefused, InvalidMonitorRequest, NoSupervisorPhone

#: The supervisor's own phone: an endpoint Hotline builds, never one the browser names.
_ENDPOINT = re.compile(r"^(PJSIP/[A-Za-z0-9_-]{1,32}|Local/[0-9]{1,16}@[A-Za-z0-9_-]{1,32})$")


class MonitorMode(str, enum.Enum):
    LISTEN = "listen"  # ChanSpy q
    WHISPER = "whisper"  # ChanSpy qw
    BARGE = "barge"  # ChanSpy qB


class AmiSender(Protocol):
    async def send(self, action: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True)
class MonitorRequest:
    supervisor_user_id: int
    supervisor_endpoint: str  # e.g. PJSIP/2001 — from the supervisor's own record
    agent_user_id: int
    agent_channel: str
    mode: MonitorMode
    call_linkedid: str | None = None


def originate_action(request: MonitorRequest, *, action_id: str) -> dict[str, Any]:
    """The AMI Originate for ``request`` (pure; validates every value that reaches AMI)."""
    try:
        check_channel(request.agent_channel)
    except InvalidRecordingRequest as exc:
        raise InvalidMonitorRequest(str(exc)) from exc
    if not _ENDPOINT.fullmatch(request.supervisor_endpoint):
        raise InvalidMonitorRequest(f"not a supervisor phone: {request.supervisor_endpoint!r}")
    return {
        "Action": "Originate",
        "Channel": request.supervisor_endpoint,
        "Context": "hotline-spy",
        "Exten": request.mode.value,
        "Priority": "1",
        "Async": "true",
        "CallerID": f"Hotline {request.mode.value}",
        "Variable": [f"SPY_TARGET={request.agent_channel}"],
        "ActionID": action_id,
    }


class MonitorService:
    """``endpoint_template`` turns a user's extension into their phone's channel
    ("PJSIP/{extension}"; the tests use simulated phones, "Local/{extension}@agent-sim")."""

    def __init__(
        self, *, ami: AmiSender, store: StoreGateway, endpoint_template: str = "PJSIP/{extension}"
    ) -> None:
        self.ami = ami
        self.store = store
        self.endpoint_template = endpoint_template
        self._sequence = 0

    async def phone_of(self, user_id: int) -> str:
        """The channel that rings ``user_id``'s own phone."""

        def work(session: Session) -> str | None:
            return UserRepository(session).agent_extension(user_id)

        extension = await self.store.read(work)
        if extension is None:
            raise NoSupervisorPhone(f"user {user_id} has no phone extension to listen on")
        return self.endpoint_template.format(extension=extension)

    async def start(self, request: MonitorRequest) -> None:
        self._sequence += 1
        action = originate_action(request, action_id=f"spy-{self._sequence}")

        def audit(session: Session) -> None:
            AuditLogRepository(session).write(
                action=AuditAction.VIEW,
                entity_type=AuditEntity.USER,
                entity_id=request.agent_user_id,
                user_id=request.supervisor_user_id,
                detail={
                    "monitor": request.mode.value,
                    "channel": request.agent_channel,
                    "linkedid": request.call_linkedid,
                },
            )

        await self.store.write(audit)  # audited first: a failure here stops the spy
        try:
            await self.ami.send(action)
        except AmiError as exc:
            raise AsteriskRefused(f"Asterisk did not start the call: {exc}") from exc


@dataclass(frozen=True)
class Conversation:
    """An agent talking to a caller the ACD bridged: what a supervisor may listen to."""

    call_id: str
    agent_key: str  # the ACD's agent id (the agent's username)
    agent_channel: str
    queue: str | None
    since: dt.datetime


class Conversations:
    """The ACD's calls in conversation, from its bus topics (``acd.bridged`` until
    ``acd.ended``), for the supervisor's listen / whisper / barge buttons."""

    TOPICS = ("acd.queued", "acd.bridged", "acd.ended", "acd.abandoned")

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._queues: dict[str, str] = {}
        self._talking: dict[str, Conversation] = {}
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = self.bus.subscribe("monitor-conversations", self.TOPICS, self._on)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self.bus.unsubscribe(self._subscription, drain=False)
            self._subscription = None

    def current(self) -> list[Conversation]:
        return sorted(self._talking.values(), key=lambda c: c.since)

    def _on(self, _topic: str, payload: Any) -> None:
        match payload:
            case CallQueued():
                self._queues[payload.call_id] = payload.queue
            case CallBridged():
                self._talking[payload.call_id] = Conversation(
                    payload.call_id,
                    payload.agent_id,
                    payload.agent_channel,
                    self._queues.get(payload.call_id),
                    payload.at,
                )
            case CallEnded() | CallAbandoned():
                self._talking.pop(payload.call_id, None)
                self._queues.pop(payload.call_id, None)
