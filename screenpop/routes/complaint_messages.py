"""Complaint voice messages for supervisors: the complaints a caller left a voice message
on (date, ticket, category, patient, length, complaint status, whether the file is
playable), played in the browser with range requests or downloaded. Each play and
download is audited on the complaint before a byte is sent; a missing or damaged file is
logged as an error and answered 410, never served. Same access as the recordings
(``PatientDataUser``): agents are refused.

* ``GET /supervisor/complaint-messages`` (page), ``GET /api/supervisor/complaint-messages``
* ``GET /supervisor/complaint-messages/{complaint_id}/audio`` (``?download=1``)
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from crm_store.enums import AuditEntity, RecordingStatus
from crm_store.errors import VoiceMessageNotFound
from crm_store.repositories import ComplaintRepository, VoiceMessageListing
from screenpop.audio_files import (
    audio_response,
    audit_play,
    file_state,
    starts_a_play,
)
from screenpop.auditing import audit_patients_listed
from screenpop.dependencies import PatientDataUser, ServicesDep, TranslatorDep
from screenpop.errors import AuditUnavailable, VoiceMessageUnavailable
from screenpop.pages import render

log = logging.getLogger(__name__)

router = APIRouter()


def _row_json(item: VoiceMessageListing, file: RecordingStatus, zone: dt.tzinfo) -> dict[str, Any]:
    return {
        "id": item.complaint_id,
        "ticket_number": item.ticket_number,
        "opened_at": item.opened_at.replace(tzinfo=item.opened_at.tzinfo or dt.UTC)
        .astimezone(zone)
        .strftime("%Y-%m-%d %H:%M:%S"),
        "category": item.category.value,
        "status": item.status.value,
        "patient": item.patient_name,
        "mrn": item.patient_mrn,
        "seconds": round(item.seconds, 1) if item.seconds is not None else None,
        "file": file.value,
        "playable": file is RecordingStatus.VERIFIED,
        "audio_url": f"/supervisor/complaint-messages/{item.complaint_id}/audio",
    }


async def _listing(services: Any, user_id: int, via: str) -> list[dict[str, Any]]:
    def work(session: Session) -> list[tuple[VoiceMessageListing, RecordingStatus]]:
        found = ComplaintRepository(session).with_voice_messages()
        audit_patients_listed(
            session,
            (i.patient_id for i in found),
            user_id=user_id,
            view="complaint_messages",
            via=via,
        )
        checked = [(item, file_state(Path(item.path))) for item in found]
        for item, state in checked:
            if state is not RecordingStatus.VERIFIED:
                log.error(
                    "voice message of complaint %s is %s: %s",
                    item.ticket_number,
                    state.value,
                    item.path,
                )
        return checked

    try:
        checked = await services.store.write(work)
    except Exception as exc:
        log.error("complaint messages list not audited (user %d): %s", user_id, exc)
        raise AuditUnavailable() from exc
    return [_row_json(item, state, services.zone) for item, state in checked]


@router.get("/supervisor/complaint-messages", include_in_schema=False)
async def complaint_messages_page(
    request: Request, services: ServicesDep, t: TranslatorDep, user: PatientDataUser
) -> Response:
    rows = await _listing(services, user.user_id, "page")
    return render(request, "complaint_messages.html", t=t, user=user, rows=rows)


@router.get("/api/supervisor/complaint-messages")
async def complaint_messages_api(services: ServicesDep, user: PatientDataUser) -> JSONResponse:
    return JSONResponse({"messages": await _listing(services, user.user_id, "api")})


@router.get("/supervisor/complaint-messages/{complaint_id}/audio", include_in_schema=False)
async def complaint_message_audio(
    request: Request,
    services: ServicesDep,
    user: PatientDataUser,
    complaint_id: int,
    download: bool = False,
) -> Response:
    audited = download or starts_a_play(request.headers.get("range"))

    def work(session: Session) -> tuple[VoiceMessageListing, RecordingStatus]:
        item = ComplaintRepository(session).voice_message(complaint_id)
        state = file_state(Path(item.path))
        if state is RecordingStatus.VERIFIED and audited:
            audit_play(
                session,
                AuditEntity.COMPLAINT,
                complaint_id,
                user_id=user.user_id,
                download=download,
                what="voice_message",
            )
        return item, state

    try:
        item, state = await services.store.write(work)
    except VoiceMessageNotFound:
        raise
    except Exception as exc:
        log.error(
            "voice message %d play not audited (user %d): %s", complaint_id, user.user_id, exc
        )
        raise AuditUnavailable() from exc
    if state is not RecordingStatus.VERIFIED:
        # Reported (the log is the administrators' error channel), not served.
        log.error(
            "voice message of complaint %s is %s: %s", item.ticket_number, state.value, item.path
        )
        raise VoiceMessageUnavailable(item.ticket_number, state.value)
    return audio_response(
        item.path, download=download, filename=f"complaint-{item.ticket_number}.wav"
    )
