"""What to record and for how long, and what a recording file says about itself (pure)."""

from __future__ import annotations

import datetime as dt
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from recordings.errors import InvalidRecordingRequest, RecordingFileDamaged

#: Asterisk uniqueids ("<epoch>.<sequence>", or an Originate's ChannelId): the file name
#: is made from it (by [hotline-record] too, which keeps only these characters), so no
#: slash, no leading dot, nothing AMI could misread.
_UNIQUEID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._]{0,63}$")
#: A channel name as Asterisk makes them: Tech/resource-seq (Local ones end in ;1/;2).
_CHANNEL = re.compile(r"^[A-Za-z]{2,16}/[A-Za-z0-9_.@+#*:\-]{1,80}(;[12])?$")
_QUEUE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class QueuePolicy:
    """``announce``: the caller hears "this call may be recorded" before the bridge;
    ``pausable``: an agent may pause the recording (e.g. while card details are read)."""

    record: bool = True
    announce: bool = True
    pausable: bool = False


@dataclass(frozen=True)
class RecordingPolicy:
    default: QueuePolicy = QueuePolicy()
    queues: Mapping[str, QueuePolicy] = field(default_factory=dict)
    retention: dt.timedelta = dt.timedelta(days=365)

    def for_queue(self, queue: str | None) -> QueuePolicy:
        if queue is None:
            return self.default
        return self.queues.get(queue, self.default)

    def retain_until(self, started_at: dt.datetime) -> dt.datetime:
        return started_at + self.retention


def check_uniqueid(value: str) -> str:
    if not _UNIQUEID.fullmatch(value):
        raise InvalidRecordingRequest("uniqueid", f"not an Asterisk uniqueid: {value!r}")
    return value


def check_channel(value: str) -> str:
    if not _CHANNEL.fullmatch(value):
        raise InvalidRecordingRequest("channel", f"not an Asterisk channel name: {value!r}")
    return value


def check_queue(value: str | None) -> str | None:
    if value is not None and not _QUEUE.fullmatch(value):
        raise InvalidRecordingRequest("queue", f"not a queue name: {value!r}")
    return value


def file_name(uniqueid: str) -> str:
    """The recording's file name, from the (validated) channel uniqueid."""
    return f"{check_uniqueid(uniqueid)}.wav"


def storage_relative_path(uniqueid: str, started_at: dt.datetime) -> PurePosixPath:
    """Where in the storage a recording lives: one directory per day."""
    return PurePosixPath(started_at.strftime("%Y/%m/%d")) / file_name(uniqueid)


@dataclass(frozen=True)
class WavInfo:
    rate: int
    channels: int
    bits: int
    data_bytes: int

    @property
    def duration_s(self) -> float:
        return self.data_bytes / (self.rate * self.channels * self.bits // 8)


def wav_info(head: bytes, file_size: int, *, path: str = "") -> WavInfo:
    """Parse a RIFF/WAVE header (the first bytes of the file) and check that it matches
    the file's size: Asterisk writes the sizes when it closes the file, so a header that
    disagrees means a truncated or unfinished recording."""
    if len(head) < 12 or head[0:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise RecordingFileDamaged(path, "not a RIFF/WAVE file")
    offset = 12
    fmt: tuple[int, int, int] | None = None
    while offset + 8 <= len(head):
        chunk_id = head[offset : offset + 4]
        (size,) = struct.unpack_from("<I", head, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt ":
            if body + 16 > len(head):
                break
            _fmt_tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from(
                "<HHIIHH", head, body
            )
            fmt = (rate, channels, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise RecordingFileDamaged(path, "data chunk before the fmt chunk")
            rate, channels, bits = fmt
            if rate == 0 or channels == 0 or bits % 8 or bits == 0:
                raise RecordingFileDamaged(path, f"impossible format {fmt}")
            if body + size != file_size:
                raise RecordingFileDamaged(
                    path, f"header says {body + size} bytes, the file has {file_size}"
                )
            return WavInfo(rate=rate, channels=channels, bits=bits, data_bytes=size)
        offset = body + size + (size & 1)
    raise RecordingFileDamaged(path, "no data chunk in the header")


#: A rendered prompt's path as Asterisk plays it: Playback() splits its argument on "&"
#: and "," and the dialplan on "|" or newlines, so nothing but plain path characters.
_PROMPT_PATH = re.compile(r"^/[A-Za-z0-9/._-]{1,400}$")


def caller_variables(policy: QueuePolicy, notice: str | None) -> dict[str, str]:
    """The variables a hand-over sets on the caller's channel for ``[hotline-wait]`` and
    ``[hotline-record-agent]`` (dialplans/supervisor.conf): ``HOTLINE_RECORD`` 1|0 and
    ``HOTLINE_RECORD_NOTICE``, the notice to play first ("" for none). A queue that
    announces but whose notice could not be rendered is not recorded: recording a caller
    who was not told is worse than not recording."""
    if notice is not None and not _PROMPT_PATH.fullmatch(notice):
        raise InvalidRecordingRequest("notice", f"not a plain prompt path: {notice!r}")
    record = policy.record and (notice is not None or not policy.announce)
    return {
        "HOTLINE_RECORD": "1" if record else "0",
        "HOTLINE_RECORD_NOTICE": (notice or "") if record and policy.announce else "",
    }
