"""Serving audio files to supervisors (call recordings, complaint voice messages): the
file is checked before a byte is sent (a missing or damaged file is reported, never
served as if it were the audio), a play is told apart from a seek within one (only the
first is audited), and the response supports HTTP range requests so the browser seeks."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from crm_store.enums import AuditAction, AuditEntity
from crm_store.repositories import AuditLogRepository
from recordings.file_check import file_state

__all__ = ["audio_response", "audit_play", "file_state", "starts_a_play"]

_FIRST_RANGE = re.compile(r"^\s*bytes\s*=\s*0\s*-")


def starts_a_play(range_header: str | None) -> bool:
    """A request that starts a play (rather than seeking within one)."""
    return range_header is None or bool(_FIRST_RANGE.match(range_header))


def audit_play(
    session: Session,
    entity_type: AuditEntity,
    entity_id: int,
    *,
    user_id: int,
    download: bool,
    what: str | None = None,
) -> None:
    """Audit a play in the browser (PLAY) or a download (EXPORT) of one audio file."""
    detail = {"via": "download" if download else "browser"}
    if what is not None:
        detail["what"] = what
    AuditLogRepository(session).write(
        action=AuditAction.EXPORT if download else AuditAction.PLAY,
        entity_type=entity_type,
        entity_id=entity_id,
        user_id=user_id,
        detail=detail,
    )


def audio_response(path: Path | str, *, download: bool, filename: str) -> FileResponse:
    """The WAV, inline for the browser's player (range requests answered with 206) or as
    an attachment named ``filename``. Never cached (patient data): the app's security-header
    middleware sends ``Cache-Control: no-store`` on every non-static response."""
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=filename if download else None,
        content_disposition_type="attachment" if download else "inline",
    )
