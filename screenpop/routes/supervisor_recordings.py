"""Recordings for supervisors: search, play in the browser (with HTTP range requests, so
seeking works) and download. Every play and download is written to the audit log before
a byte is sent; agents and anyone else are refused (403 with the reason).

* ``GET /supervisor/recordings`` (page) and ``GET /api/supervisor/recordings`` (JSON):
  search by ``from``/``to`` (dates, hospital time), ``agent`` (agent id), ``queue``,
  ``mrn`` (the patient's medical record number), ``disposition`` (the agent's wrap-up
  disposition on the call).
* ``GET /supervisor/recordings/{id}/audio`` — the WAV; ``?download=1`` as an attachment.
  A play is audited once, on its first request (no Range, or a Range from byte 0); the
  browser's seeks (Range from elsewhere) are the same play.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from crm_store.enums import AuditEntity, CallDisposition, RecordingStatus
from crm_store.errors import RecordingNotFound
from crm_store.models import utcnow
from crm_store.repositories import (
    RecordingListing,
    RecordingRepository,
    RecordingSearch,
    RecordingView,
)
from screenpop.audio_files import (
    audio_response,
    audit_play,
    file_state,
    starts_a_play,
)
from screenpop.auditing import audit_patients_listed
from screenpop.dependencies import PatientDataUser, ServicesDep, TranslatorDep
from screenpop.errors import AuditUnavailable, RecordingUnavailable
from screenpop.pages import render

log = logging.getLogger(__name__)

router = APIRouter()


def _criteria(
    zone: dt.tzinfo,
    start: dt.date | None,
    end: dt.date | None,
    agent: int | None,
    queue: str | None,
    mrn: str | None,
    disposition: CallDisposition | None = None,
) -> RecordingSearch:
    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)

    return RecordingSearch(
        started_from=midnight(start) if start else None,
        started_before=midnight(end + dt.timedelta(days=1)) if end else None,
        agent_id=agent,
        queue=queue or None,
        patient_mrn=(mrn or "").strip() or None,
        disposition=disposition.value if disposition else None,
    )


def _row_json(item: RecordingListing, zone: dt.tzinfo) -> dict[str, Any]:
    r = item.recording
    return {
        "id": r.id,
        "started_at": r.started_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        "duration_s": round(r.duration_s, 1),
        "size_bytes": r.size_bytes,
        "queue": r.queue,
        "agent": item.agent_name,
        "patient": item.patient_name,
        "mrn": item.patient_mrn,
        "disposition": item.disposition,
        "status": r.status.value,
        "playable": r.status is RecordingStatus.VERIFIED,
        "audio_url": f"/supervisor/recordings/{r.id}/audio",
    }


async def _search(
    services: Any,
    user_id: int,
    criteria: RecordingSearch,
    via: str,
) -> list[RecordingListing]:
    def work(session: Session) -> list[RecordingListing]:
        found = RecordingRepository(session).search(criteria)
        audit_patients_listed(
            session,
            (i.recording.patient_id for i in found),
            user_id=user_id,
            view="recordings",
            via=via,
        )
        return found

    try:
        result: list[RecordingListing] = await services.store.write(work)
    except Exception as exc:
        log.error("recordings search not audited (user %d): %s", user_id, exc)
        raise AuditUnavailable() from exc
    return result


@dataclass(frozen=True)
class Filters:
    """The search form's fields, as given (``criteria`` is what the store is asked)."""

    start: dt.date | None
    end: dt.date | None
    agent: int | None
    queue: str | None
    mrn: str | None
    disposition: CallDisposition | None = None

    def criteria(self, zone: dt.tzinfo) -> RecordingSearch:
        return _criteria(
            zone, self.start, self.end, self.agent, self.queue, self.mrn, self.disposition
        )


def get_filters(
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
    agent: Annotated[int | None, Query(gt=0)] = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    mrn: Annotated[str | None, Query(max_length=32)] = None,
    disposition: Annotated[CallDisposition | None, Query()] = None,
) -> Filters:
    return Filters(start, end, agent, queue, mrn, disposition)


FiltersDep = Annotated[Filters, Depends(get_filters)]


@router.get("/supervisor/recordings", include_in_schema=False)
async def recordings_page(
    request: Request,
    services: ServicesDep,
    t: TranslatorDep,
    user: PatientDataUser,
    filters: FiltersDep,
) -> Response:
    found = await _search(services, user.user_id, filters.criteria(services.zone), "page")
    return render(
        request,
        "supervisor_recordings.html",
        t=t,
        user=user,
        rows=[_row_json(item, services.zone) for item in found],
        form={
            "from": filters.start.isoformat() if filters.start else "",
            "to": filters.end.isoformat() if filters.end else "",
            "agent": filters.agent or "",
            "queue": filters.queue or "",
            "mrn": filters.mrn or "",
            "disposition": filters.disposition.value if filters.disposition else "",
        },
        dispositions=[d.value for d in CallDisposition],
    )


@router.get("/api/supervisor/recordings")
async def recordings_api(
    services: ServicesDep, user: PatientDataUser, filters: FiltersDep
) -> JSONResponse:
    found = await _search(services, user.user_id, filters.criteria(services.zone), "api")
    return JSONResponse({"recordings": [_row_json(item, services.zone) for item in found]})


@router.get("/supervisor/recordings/{recording_id}/audio", include_in_schema=False)
async def recording_audio(
    request: Request,
    services: ServicesDep,
    user: PatientDataUser,
    recording_id: int,
    download: bool = False,
) -> Response:
    range_header = request.headers.get("range")
    audited = download or starts_a_play(range_header)

    def work(session: Session) -> RecordingView | RecordingStatus:
        repo = RecordingRepository(session)
        view = repo.get(recording_id)
        if view is None or view.deleted_at is not None:
            raise RecordingNotFound(recording_id)
        path = Path(view.path)
        status = file_state(path, expected_size=view.size_bytes)
        if status is not RecordingStatus.VERIFIED:
            # Reported, not served as if it were the recording.
            repo.set_status(recording_id, status, checked_at=utcnow())
            log.error("recording %d is %s: %s", recording_id, status.value, path)
            return status  # committed: the finding stays even though nothing is served
        if audited:
            audit_play(
                session,
                AuditEntity.RECORDING,
                recording_id,
                user_id=user.user_id,
                download=download,
            )
        return view

    try:
        view = await services.store.write(work)
    except RecordingNotFound:
        raise
    except Exception as exc:
        log.error("recording %d play not audited (user %d): %s", recording_id, user.user_id, exc)
        raise AuditUnavailable() from exc
    if isinstance(view, RecordingStatus):
        raise RecordingUnavailable(recording_id, view.value)
    return audio_response(view.path, download=download, filename=f"recording-{recording_id}.wav")
