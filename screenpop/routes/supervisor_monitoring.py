"""``POST /api/supervisor/monitor``: listen to, whisper to, or barge into an agent's live
call. The supervisor's own phone rings (the one on their user record, never a number
the browser names); the use is audited before Asterisk is asked."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from cti.errors import AmiError
from recordings.errors import InvalidRecordingRequest
from screenpop.dependencies import SameOrigin, ServicesDep, SupervisorUser
from screenpop.monitoring import (
    InvalidMonitorRequest,
    MonitorMode,
    MonitorRequest,
    NoSupervisorPhone,
)

router = APIRouter()


class MonitorBody(BaseModel):
    agent_user_id: int = Field(gt=0)
    channel: str = Field(min_length=3, max_length=120)
    mode: MonitorMode
    linkedid: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


@router.post("/api/supervisor/monitor", dependencies=[SameOrigin])
async def monitor(body: MonitorBody, services: ServicesDep, user: SupervisorUser) -> JSONResponse:
    if services.monitor is None:
        return _error(503, "monitor_unavailable", "no link to Asterisk: monitoring is off")
    try:
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
    except NoSupervisorPhone as exc:
        return _error(409, "no_supervisor_phone", str(exc))
    except (InvalidRecordingRequest, InvalidMonitorRequest) as exc:
        return _error(422, "invalid_request", str(exc))
    except AmiError as exc:
        return _error(502, "asterisk_refused", f"Asterisk did not start the call: {exc}")
    return JSONResponse({"status": "ringing", "mode": body.mode.value, "phone": phone})
