"""The pure parts of recordings: input checks, policy, WAV header checks."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import pytest

from cti.settings import load_settings
from recordings import (
    InvalidRecordingRequest,
    QueuePolicy,
    RecordingFileDamaged,
    RecordingPolicy,
    wav_info,
)
from recordings.config import RecordingSettings
from recordings.policy import (
    caller_variables,
    check_channel,
    check_uniqueid,
    storage_relative_path,
)


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


NOTICE = "/srv/hotline/share/prompts/ab/ab12cd"


@pytest.mark.parametrize(
    ("policy", "notice", "record", "played"),
    [
        (QueuePolicy(record=True, announce=True), NOTICE, "1", NOTICE),
        # Announcing but no notice to play: not recorded rather than recorded untold.
        (QueuePolicy(record=True, announce=True), None, "0", ""),
        (QueuePolicy(record=True, announce=False), None, "1", ""),
        (QueuePolicy(record=False, announce=True), NOTICE, "0", ""),
    ],
)
def test_the_caller_is_recorded_only_once_told_where_the_queue_announces(
    policy: QueuePolicy, notice: str | None, record: str, played: str
) -> None:
    assert caller_variables(policy, notice) == {
        "HOTLINE_RECORD": record,
        "HOTLINE_RECORD_NOTICE": played,
    }


@pytest.mark.parametrize("notice", ["prompts/x", "/a/b,c", "/a/b&/etc/x", "/a\nb", "/a|b"])
def test_a_notice_path_that_could_split_playback_arguments_is_refused(notice: str) -> None:
    with pytest.raises(InvalidRecordingRequest):
        caller_variables(QueuePolicy(), notice)


def test_default_settings_record_and_announce_everywhere_and_pause_only_on_billing() -> None:
    settings = RecordingSettings()
    policy = settings.policy()
    assert policy.for_queue("patients") == QueuePolicy(record=True, announce=True, pausable=False)
    assert policy.for_queue("billing").pausable
    assert policy.retention == dt.timedelta(days=365)
    assert settings.storage_under(Path("/var/lib/hotline")) == Path("/var/lib/hotline/recordings")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_RECORDINGS__RETENTION_DAYS", "90")
    monkeypatch.setenv(
        "HOTLINE_RECORDINGS__QUEUES", '{"internal": {"record": false}, "billing": {}}'
    )
    policy = load_settings().recordings.policy()
    assert policy.retention == dt.timedelta(days=90)
    assert not policy.for_queue("internal").record
    assert not policy.for_queue("billing").pausable  # the file replaced the defaults
