"""Callers' voice messages: recorded by Asterisk after a tone, kept in the storage.

A keypad caller (or any caller when no recogniser is configured) files a complaint by
leaving a voice message: the IVR asks Asterisk to ``RECORD FILE`` into the instance's
monitor directory (the one directory Asterisk may write), then :class:`VoiceMessageStore`
moves the finished file into the configured storage (one directory per day), checks its
WAV header against its size, and hands back its path and length. A message the caller
never finished (they hung up) or that holds nothing (shorter than :data:`MIN_SECONDS`)
is deleted, as is every message no complaint ended up linked to: a patient's recorded
voice is not kept for nothing. A caller whose words were transcribed (speech mode) has
the audio the recogniser heard kept the same way, next to the transcription.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cti.asterisk.media import RATE, write_wav
from cti.asterisk.provisioner import InstanceLayout
from recordings.errors import RecordingFileDamaged
from recordings.policy import wav_info

log = logging.getLogger(__name__)

#: A message shorter than this holds nothing worth keeping (the caller said nothing).
MIN_SECONDS = 1.0
#: The format Asterisk records in (8 kHz 16-bit mono WAV).
FORMAT = "wav"
_HEAD = 4096
_UNSAFE = re.compile(r"[^0-9A-Za-z.-]")


@dataclass(frozen=True, slots=True)
class KeptMessage:
    path: Path
    seconds: float


class VoiceMessageStore:
    """Where voice messages are recorded (Asterisk's side) and kept (the storage)."""

    def __init__(
        self,
        layout: InstanceLayout,
        storage_dir: Path,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.layout = layout
        self.storage_dir = storage_dir
        self.clock = clock

    def recording_file(self, uniqueid: str) -> Path:
        """A fresh host path (with ``.wav``) in the monitor directory for one message."""
        name = f"vm-{_UNSAFE.sub('_', uniqueid)[:64]}-{uuid.uuid4().hex[:12]}.{FORMAT}"
        return self.layout.monitor_host / name

    def asterisk_name(self, recording: Path) -> str:
        """``recording`` as Asterisk names it for RECORD FILE (no extension)."""
        return str(self.layout.to_asterisk(recording).with_suffix(""))

    async def keep(self, recording: Path) -> KeptMessage | None:
        """Move a finished recording into the storage; None (and no file left) when it
        is missing, damaged or too short to hold anything."""
        return await asyncio.to_thread(self._keep, recording)

    def _keep(self, recording: Path) -> KeptMessage | None:
        try:
            seconds = _seconds(recording)
        except (FileNotFoundError, RecordingFileDamaged) as exc:
            log.warning("voice message %s not kept: %s", recording, exc)
            recording.unlink(missing_ok=True)
            return None
        if seconds < MIN_SECONDS:
            recording.unlink(missing_ok=True)
            return None
        day = self.clock().strftime("%Y/%m/%d")
        destination = self.storage_dir / day / recording.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_suffix(".wav.partial")
        shutil.copyfile(recording, partial)
        partial.replace(destination)
        recording.unlink(missing_ok=True)
        return KeptMessage(destination, seconds)

    async def keep_audio(self, pcm: bytes, uniqueid: str) -> KeptMessage | None:
        """Keep audio the IVR heard itself (8 kHz 16-bit mono: a transcribed answer's
        recording) as a voice message; None when it is too short to hold anything."""
        seconds = len(pcm) / (2 * RATE)
        if seconds < MIN_SECONDS:
            return None
        day = self.clock().strftime("%Y/%m/%d")
        destination = self.storage_dir / day / self.recording_file(uniqueid).name
        await asyncio.to_thread(write_wav, destination, pcm)
        return KeptMessage(destination, seconds)

    async def discard(self, *paths: Path) -> None:
        """Delete messages (a recording not finished, or kept but never filed)."""

        def unlink() -> None:
            for path in paths:
                path.unlink(missing_ok=True)

        await asyncio.to_thread(unlink)


def _seconds(path: Path) -> float:
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
    return wav_info(head, size, path=str(path)).duration_s
