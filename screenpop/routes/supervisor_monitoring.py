"""Listen to, whisper to, or barge into an agent's live call.

* ``GET  /api/supervisor/monitor/calls`` — the agents talking to callers the ACD bridged
  (agent, queue, since, the agent's channel): what the live-calls page offers buttons for;
* ``POST /api/supervisor/monitor`` — ``{"agent_user_id", "channel", "mode", "linkedid"}``:
  the supervisor's own phone rings (the one on their user record, never a number the
  browser names) and ChanSpy joins the agent's channel; the use is audited before Asterisk
  is asked.

Refusals are the app's domain errors (screenpop/errors.py), mapped to HTTP in one place.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import User
from screenpop.dependencies import PatientDataUser, SameOrigin, ServicesDep
from screenpop.errors import MonitorUnavailable
from screenpop.monitoring import MonitorMode, MonitorRequest

router = APIRouter()


class MonitorBody(BaseModel):
    agent_user_id: int = Field(gt=0)
    channel: str = Field(min_length=3, max_length=120)
    mode: MonitorMode
    linkedid: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")


@router.get("/api/supervisor/monitor/calls")
async def calls_to_monitor(services: ServicesDep, user: PatientDataUser) -> dict[str, Any]:
    talking = services.conversations.current()
    keys = sorted({c.agent_key for c in talking})

    def users(session: Session) -> dict[str, tuple[int, str]]:
        rows = session.execute(
            select(User.username, User.id, User.display_name).where(User.username.in_(keys))
        )
        return {name: (user_id, display) for name, user_id, display in rows}

    known = await services.store.read(users) if keys else {}
    return {
        "monitor": services.monitor is not None,
        "calls": [
            {
                "linkedid": c.call_id,
                "agent": known[c.agent_key][1],
                "agent_user_id": known[c.agent_key][0],
                "channel": c.agent_channel,
                "queue": c.queue,
                "since": c.since.isoformat(),
            }
            for c in talking
            if c.agent_key in known  # an ACD agent without a console account: no buttons
        ],
    }


@router.post("/api/supervisor/monitor", dependencies=[SameOrigin])
async def monitor(
    body: MonitorBody, services: ServicesDep, user: PatientDataUser
) -> dict[str, str]:
    if services.monitor is None:
        raise MonitorUnavailable()
    phone = await services.monitor.phone_of(user.user_id)
    await services.monitor.start(
        MonitorRequest(
            supervisor_user_id=user.user_id,
            supervisor_endpoint=phone,
            agent_user_id=body.agent_user_id,
            agent_channel=body.channel,
            mode=body.mode,
            call_linkedid=body.linkedid,
        )
    )
    return {"status": "ringing", "mode": body.mode.value, "phone": phone}
