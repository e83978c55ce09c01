"""Serving audio files to supervisors (call recordings, complaint voice messages): the
file is checked before a byte is sent (a missing or damaged file is reported, never
served as if it were the audio), a play is told apart from a seek within one (only the
first is audited), and the response supports HTTP range requests so the browser seeks."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.responses import FileResponse

from recordings.file_check import file_state

__all__ = ["audio_response", "file_state", "starts_a_play"]

_FIRST_RANGE = re.compile(r"^\s*bytes\s*=\s*0\s*-")


def starts_a_play(range_header: str | None) -> bool:
    """A request that starts a play (rather than seeking within one)."""
    return range_header is None or bool(_FIRST_RANGE.match(range_header))


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
