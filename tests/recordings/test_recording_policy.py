"""The pure parts of recordings: input checks, policy, WAV header checks."""

from __future__ import annotations

import datetime as dt
import struct

import pytest

from recordings import (
    InvalidRecordingRequest,
    QueuePolicy,
    RecordingFileDamaged,
    RecordingPolicy,
    wav_info,
)
from recordings.policy import check_channel, check_uniqueid, storage_relative_path


def _wav(data: bytes, *, rate: int = 8000, declared: int | None = None) -> bytes:
    size = len(data) if declared is None else declared
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + size)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", size)
        + data
    )


def test_a_complete_wav_reports_its_duration() -> None:
    body = _wav(b"\x01\x00" * 16000)
    info = wav_info(body, len(body))
    assert (info.rate, info.channels, info.bits) == (8000, 1, 16)
    assert info.duration_s == 2.0


@pytest.mark.parametrize(
    ("content", "size_delta", "reason"),
    [
        (b"not a wav at all, just text....", 0, "not a RIFF/WAVE"),
        (_wav(b"\x00" * 100, declared=400), 0, "header says"),  # truncated file
        (_wav(b"\x00" * 100), 10, "header says"),  # header not updated on close
    ],
)
def test_a_damaged_wav_is_reported(content: bytes, size_delta: int, reason: str) -> None:
    with pytest.raises(RecordingFileDamaged, match=reason):
        wav_info(content, len(content) + size_delta, path="x.wav")


@pytest.mark.parametrize(
    "value", ["", "../etc/passwd", ".hidden", "a/b", "1.2\r\nAction: Originate", "x" * 65]
)
def test_uniqueids_that_could_escape_or_inject_are_refused(value: str) -> None:
    with pytest.raises(InvalidRecordingRequest):
        check_uniqueid(value)


def test_real_uniqueids_and_channels_pass() -> None:
    assert check_uniqueid("1795917260.12") == "1795917260.12"
    assert check_channel("PJSIP/1001-0000001a") == "PJSIP/1001-0000001a"
    assert check_channel("Local/s@caller-sim-00000000;1")
    with pytest.raises(InvalidRecordingRequest):
        check_channel("PJSIP/1001\r\nAction: Hangup")


def test_policy_per_queue_with_a_default_and_retention() -> None:
    policy = RecordingPolicy(
        default=QueuePolicy(record=True, announce=True, pausable=False),
        queues={"billing": QueuePolicy(pausable=True), "internal": QueuePolicy(record=False)},
        retention=dt.timedelta(days=90),
    )
    assert policy.for_queue("billing").pausable
    assert not policy.for_queue("internal").record
    assert policy.for_queue(None) == policy.for_queue("elsewhere") == policy.default
    start = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert policy.retain_until(start) == dt.datetime(2026, 4, 2, 3, 4, tzinfo=dt.UTC)
    assert str(storage_relative_path("1795917260.12", start)) == "2026/01/02/1795917260.12.wav"
