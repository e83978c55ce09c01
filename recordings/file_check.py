"""What an audio file on disk is (present and whole, missing, damaged): checked before it
is served and by the housekeeping, so a lost or truncated file is reported rather than
played or listed as playable."""

from __future__ import annotations

from pathlib import Path

from crm_store.enums import RecordingStatus
from recordings.errors import RecordingFileDamaged
from recordings.policy import wav_info

_HEAD = 4096


def file_state(path: Path, *, expected_size: int | None = None) -> RecordingStatus:
    """VERIFIED, MISSING or DAMAGED. With ``expected_size`` (an indexed recording) the
    size must match; without it the WAV header must agree with the file's size (Asterisk
    writes the sizes when it closes the file)."""
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
