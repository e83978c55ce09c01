"""The agent console: the page (``GET /console``) and the JSON API it calls.

* ``GET  /api/console/me`` — the agent's ACD state and the departments to book in;
* ``POST /api/console/state`` — ``{"action": "available" | "pause" | "end_wrap_up" |
  "logout", "reason": ...}`` through the ACD;
* ``GET  /api/console/calls/{call_id}/pop`` — the pop with the record read again;
* ``GET  /api/console/calls/{call_id}/slots?department_id=`` — free slots to offer;
* ``POST /api/console/calls/{call_id}/appointments`` — ``{"slot_id"}``: book;
* ``POST /api/console/calls/{call_id}/appointments/{reference}/cancel`` — ``{"reason"}``;
* ``POST /api/console/calls/{call_id}/appointments/{reference}/reschedule`` — ``{"slot_id"}``;
* ``POST /api/console/calls/{call_id}/complaints`` — ``{"category", "description"}``;
* ``POST /api/console/calls/{call_id}/wrap-up`` — ``{"disposition", "notes"}`` on the call's
  ACD record (saved again if corrected);
* ``POST /api/console/calls/{call_id}/patient`` — ``{"full_name", "number"}``: register an
  unknown caller;
* ``GET  /api/console/calls/{call_id}/recording`` — is the call recorded, paused, pausable;
* ``POST /api/console/calls/{call_id}/recording`` — ``{"action": "pause" | "resume"}`` where
  the queue's policy allows it (e.g. while the caller reads out card details); audited.
* ``POST /api/console/calls/{call_id}/attach`` — ``{"patient_id", "verified_by"}``: the
  unknown caller is one of the pop's likely matches, verified by the agent on the phone.

``call_id`` is the call's id in the pop. Only a call offered to the signed-in agent (ringing,
answered, or the one they just had) can be acted on: anything else is 403
``not_your_call``. Bodies are validated (422 with the fields at fault); the store's
refusals (slot full, not cancellable) are 409 with a message for the agent.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from acd.errors import AcdError, UnknownAgent
from acd.model import Agent
from crm_store.enums import CallDisposition, ComplaintCategory
from crm_store.repositories.appointments import BookedAppointment
from crm_store.repositories.schedule import ScheduleRepository
from cti.errors import AmiError
from recordings.errors import RecordingError
from recordings.service import ActiveRecording
from screenpop.agent_desk import Actor
from screenpop.auth import Access
from screenpop.dependencies import (
    AgentUser,
    CurrentUser,
    SameOrigin,
    Services,
    ServicesDep,
    TranslatorDep,
    require_access,
)
from screenpop.errors import AgentUnavailable, AsteriskRefused, RecordingControlRefused
from screenpop.pages import render

router = APIRouter()

#: The pause reasons the console offers (free text is refused: reports group by these).
PAUSE_REASONS = ("break", "meal", "training", "meeting", "admin", "toilet")
#: What an agent may verify an unknown caller by before attaching a likely match.
VERIFICATION_CHECKS = ("date_of_birth", "mrn", "national_id", "address")
#: A call id as the pop carries it (an Asterisk Uniqueid).
CALL_ID = r"^[0-9]{1,20}\.[0-9]{1,10}$"
_REFERENCE = r"^[0-9A-Za-z-]{4,32}$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

CallId = Annotated[str, Path(pattern=CALL_ID, description="the call's id in the pop")]
Reference = Annotated[str, Path(pattern=_REFERENCE)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _no_control(value: str | None) -> str | None:
    if value is not None and _CONTROL.search(value.replace("\n", "")):
        raise ValueError("must not contain control characters")
    return value


class StateChange(_Body):
    action: Literal["available", "pause", "end_wrap_up", "logout"]
    reason: Literal[PAUSE_REASONS] | None = None  # type: ignore[valid-type]


class SlotChoice(_Body):
    slot_id: int = Field(gt=0)


class CancelBody(_Body):
    reason: str | None = Field(default=None, max_length=200)

    _clean = field_validator("reason")(_no_control)


class ComplaintBody(_Body):
    category: ComplaintCategory
    description: str = Field(min_length=5, max_length=4000)

    _clean = field_validator("description")(_no_control)


class WrapUpBody(_Body):
    disposition: CallDisposition
    notes: str | None = Field(default=None, max_length=4000)

    _clean = field_validator("notes")(_no_control)


class RecordingBody(_Body):
    action: Literal["pause", "resume"]


class RegisterBody(_Body):
    full_name: str = Field(min_length=1, max_length=100)
    number: str | None = Field(default=None, pattern=r"^\+?[0-9 ()-]{5,24}$")

    _clean = field_validator("full_name")(_no_control)


class AttachBody(_Body):
    patient_id: int = Field(gt=0)
    #: What the agent checked with the caller before attaching (kept in the audit row).
    verified_by: Literal[VERIFICATION_CHECKS]  # type: ignore[valid-type]


def _agent_json(agent: Agent | None) -> dict[str, Any]:
    if agent is None:
        return {"state": None, "pause_reason": None, "since": None}
    return {
        "state": agent.state.value,
        "pause_reason": agent.pause_reason or agent.pending_pause_reason,
        "since": agent.state_since.isoformat() if agent.state_since else None,
        "call_id": agent.current_call_id,
    }


def _appointment_json(a: BookedAppointment) -> dict[str, Any]:
    return {
        "reference": a.reference,
        "status": a.status.value,
        "slot_id": a.slot_id,
        "starts_at": a.starts_at.isoformat(),
    }


@router.get("/console", include_in_schema=False)
async def console_page(request: Request, t: TranslatorDep, user: CurrentUser) -> Response:
    require_access(user, Access.CALL_HANDLING)
    return render(
        request,
        "console.html",
        t=t,
        user=user,
        pause_reasons=PAUSE_REASONS,
        categories=[c.value for c in ComplaintCategory],
        dispositions=[d.value for d in CallDisposition],
        verification_checks=VERIFICATION_CHECKS,
        i18n=t.catalogue(("con_", "pause_", "state_", "cat_", "disp_", "error_")),
    )


@router.get("/api/console/me")
async def me(services: ServicesDep, agent: AgentUser) -> dict[str, Any]:
    departments = await services.store.read(lambda s: ScheduleRepository(s).departments())
    state: Agent | None = None
    if services.acd is not None:
        try:
            state = services.acd.agent(agent.agent_id)
        except UnknownAgent:
            state = None
    return {
        "agent_id": agent.agent_id,
        "acd": services.acd is not None and state is not None,
        "agent": _agent_json(state),
        "departments": [
            {"id": d.department_id, "code": d.code, "zh": d.name_zh, "en": d.name_en}
            for d in departments
        ],
        "pause_reasons": list(PAUSE_REASONS),
    }


@router.post("/api/console/state", dependencies=[SameOrigin])
async def set_state(body: StateChange, services: ServicesDep, agent: AgentUser) -> dict[str, Any]:
    acd = services.acd
    if acd is None:
        raise AgentUnavailable("call distribution is not running on this server")
    try:
        current = acd.agent(agent.agent_id)
        match body.action:
            case "available":
                if current.state.value == "logged_out":
                    result = acd.login(agent.agent_id)
                else:
                    result = acd.resume(agent.agent_id)
            case "pause":
                if body.reason is None:
                    raise AgentUnavailable("choose a pause reason")
                if current.state.value == "logged_out":
                    result = acd.login(agent.agent_id, paused_reason=body.reason)
                else:
                    result = acd.pause(agent.agent_id, body.reason)
            case "end_wrap_up":
                result = acd.end_wrap_up(agent.agent_id)
            case _:
                result = acd.logout(agent.agent_id)
    except UnknownAgent as exc:
        raise AgentUnavailable(
            "you are not set up as an agent in call distribution; ask your team lead"
        ) from exc
    except AcdError as exc:
        raise AgentUnavailable(str(exc)) from exc
    return {"agent": _agent_json(result)}


@router.get("/api/console/calls/{call_id}/pop")
async def pop_again(call_id: CallId, services: ServicesDep, agent: AgentUser) -> dict[str, Any]:
    """The call's pop with the patient's record read again (audited as a view)."""
    pop = await services.desk.refresh(agent, call_id)
    return {"pop": pop.to_json()}


@router.get("/api/console/calls/{call_id}/slots")
async def free_slots(
    call_id: CallId,
    department_id: Annotated[int, Query(gt=0)],
    services: ServicesDep,
    agent: AgentUser,
) -> dict[str, Any]:
    slots = await services.desk.free_slots(agent, call_id, department_id)
    return {
        "slots": [
            {
                "slot_id": s.slot_id,
                "starts_at": s.starts_at.isoformat(),
                "ends_at": s.ends_at.isoformat(),
                "doctor": {"zh": s.doctor_zh, "en": s.doctor_en},
                "places_left": s.places_left,
            }
            for s in slots
        ]
    }


@router.post(
    "/api/console/calls/{call_id}/appointments", status_code=201, dependencies=[SameOrigin]
)
async def book(
    call_id: CallId, body: SlotChoice, services: ServicesDep, agent: AgentUser
) -> dict[str, Any]:
    booked = await services.desk.book(agent, call_id, body.slot_id)
    return {"appointment": _appointment_json(booked)}


@router.post(
    "/api/console/calls/{call_id}/appointments/{reference}/cancel", dependencies=[SameOrigin]
)
async def cancel(
    call_id: CallId, reference: Reference, body: CancelBody, services: ServicesDep, agent: AgentUser
) -> dict[str, Any]:
    done = await services.desk.cancel(agent, call_id, reference, body.reason)
    return {"appointment": _appointment_json(done)}


@router.post(
    "/api/console/calls/{call_id}/appointments/{reference}/reschedule",
    dependencies=[SameOrigin],
)
async def reschedule(
    call_id: CallId, reference: Reference, body: SlotChoice, services: ServicesDep, agent: AgentUser
) -> dict[str, Any]:
    moved = await services.desk.reschedule(agent, call_id, reference, body.slot_id)
    return {"appointment": _appointment_json(moved)}


@router.post("/api/console/calls/{call_id}/complaints", status_code=201, dependencies=[SameOrigin])
async def open_complaint(
    call_id: CallId, body: ComplaintBody, services: ServicesDep, agent: AgentUser
) -> dict[str, Any]:
    ticket = await services.desk.open_complaint(agent, call_id, body.category, body.description)
    return {"ticket": ticket}


@router.post("/api/console/calls/{call_id}/wrap-up", dependencies=[SameOrigin])
async def wrap_up(
    call_id: CallId, body: WrapUpBody, services: ServicesDep, agent: AgentUser
) -> dict[str, Any]:
    await services.desk.wrap_up(agent, call_id, body.disposition, body.notes or None)
    return {"call_id": call_id, "disposition": body.disposition.value}


@router.post("/api/console/calls/{call_id}/patient", status_code=201, dependencies=[SameOrigin])
async def register_patient(
    call_id: CallId, body: RegisterBody, services: ServicesDep, agent: AgentUser
) -> dict[str, Any]:
    pop = await services.desk.register(agent, call_id, body.full_name, body.number)
    return {"pop": pop.to_json()}


def _recording_json(services: Services, active: ActiveRecording | None) -> dict[str, Any]:
    if active is None or services.recordings is None:
        return {"recorded": False, "paused": False, "pausable": False}
    pausable = services.recordings.policy.for_queue(active.queue).pausable
    return {"recorded": True, "paused": active.paused, "pausable": pausable}


def _my_recording(services: Services, agent: Actor, call_id: str) -> ActiveRecording | None:
    services.desk.call(agent, call_id)  # NotYourCall unless offered to this agent
    active = services.recordings.active(call_id) if services.recordings else None
    return active if active is not None and active.agent_key == agent.agent_id else None


@router.get("/api/console/calls/{call_id}/recording")
async def recording_state(
    call_id: CallId, services: ServicesDep, agent: AgentUser
) -> dict[str, Any]:
    return {"recording": _recording_json(services, _my_recording(services, agent, call_id))}


@router.post("/api/console/calls/{call_id}/recording", dependencies=[SameOrigin])
async def pause_or_resume_recording(
    call_id: CallId, body: RecordingBody, services: ServicesDep, agent: AgentUser
) -> dict[str, Any]:
    active = _my_recording(services, agent, call_id)
    if active is None or services.recordings is None:
        raise RecordingControlRefused("this call is not being recorded")
    control = services.recordings.pause if body.action == "pause" else services.recordings.resume
    try:
        await control(call_id, by=agent.agent_id, user_id=agent.user_id)
    except RecordingError as exc:  # the queue's policy keeps it running, or it has ended
        raise RecordingControlRefused(str(exc)) from exc
    except AmiError as exc:
        raise AsteriskRefused(f"Asterisk did not {body.action} the recording: {exc}") from exc
    return {"recording": _recording_json(services, active)}


@router.post("/api/console/calls/{call_id}/attach", dependencies=[SameOrigin])
async def attach_patient(
    call_id: CallId, body: AttachBody, services: ServicesDep, agent: AgentUser
) -> dict[str, Any]:
    pop = await services.desk.attach(agent, call_id, body.patient_id, body.verified_by)
    return {"pop": pop.to_json()}
