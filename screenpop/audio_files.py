"""Serving audio files to supervisors (call recordings, complaint voice messages): the
file is checked before a byte is sent (a missing or damaged file is reported, never
served as if it were the audio), a play is told apart from a seek within one (only the
first is audited), and the response supports HTTP range requests so the browser seeks."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.responses import FileResponse

from crm_store.enums import RecordingStatus
from recordings.errors import RecordingFileDamaged
from recordings.policy import wav_info

_FIRST_RANGE = re.compile(r"^\s*bytes\s*=\s*0\s*-")
_HEAD = 4096


def starts_a_play(range_header: str | None) -> bool:
    """A request that starts a play (rather than seeking within one)."""
    return range_header is None or bool(_FIRST_RANGE.match(range_header))


def file_state(path: Path, *, expected_size: int | None = None) -> RecordingStatus:
    """What the file on disk is: VERIFIED, MISSING or DAMAGED. With ``expected_size``
    (an indexed recording) the size must match; without it the WAV header must agree
    with the file's size (Asterisk writes the sizes when it closes the file)."""
    try:
        size = path.stat().st_size
        if expected_size is not None:
            return RecordingStatus.VERIFIED if size == expected_size else RecordingStatus.DAMAGED
        with path.open("rb") as handle:
            wav_info(handle.read(_HEAD), size, path=str(path))
    except FileNotFoundError:
        return RecordingStatus.MISSING
    except RecordingFileDamaged:
        return RecordingStatus.DAMAGED
    return RecordingStatus.VERIFIED


def audio_response(path: Path | str, *, download: bool, filename: str) -> FileResponse:
    """The WAV, inline for the browser's player (range requests answered with 206) or as
    an attachment named ``filename``; never cached (patient data)."""
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=filename if download else None,
        content_disposition_type="attachment" if download else "inline",
        headers={"Cache-Control": "no-store"},
    )
