"""Listen, whisper, barge: a supervisor's phone is originated into ``[hotline-spy]``
(dialplans/supervisor.conf), where ChanSpy joins the agent's live channel. Every use is
written to the audit log before Asterisk is asked, so no monitoring goes unrecorded.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from crm_store.enums import AuditAction, AuditEntity
from crm_store.gateway import StoreGateway
from crm_store.repositories import AuditLogRepository, UserRepository
from recordings.policy import check_channel

#: The supervisor's own phone: an endpoint Hotline builds, never one the browser names.
_ENDPOINT = re.compile(r"^(PJSIP/[A-Za-z0-9_-]{1,32}|Local/[0-9]{1,16}@[A-Za-z0-9_-]{1,32})$")


class MonitorMode(str, enum.Enum):
    LISTEN = "listen"  # ChanSpy q
    WHISPER = "whisper"  # ChanSpy qw
    BARGE = "barge"  # ChanSpy qB


class AmiSender(Protocol):
    async def send(self, action: Mapping[str, Any]) -> Any: ...


class InvalidMonitorRequest(ValueError):
    pass


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
    check_channel(request.agent_channel)
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


class NoSupervisorPhone(LookupError):
    pass


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
        await self.ami.send(action)
