"""Voice messages on disk: a finished recording is moved into the storage with its
length; an empty, damaged or unfinished one is not kept at all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePosixPath

from cti.asterisk.media import RATE, write_wav
from cti.asterisk.provisioner import InstanceLayout
from ivr.voice_messages import VoiceMessageStore

DAY = dt.datetime(2026, 11, 29, 4, 0, tzinfo=dt.UTC)


def store(tmp_path: Path) -> VoiceMessageStore:
    layout = InstanceLayout(
        share_host=tmp_path / "share",
        share_asterisk=PurePosixPath("/srv/share"),
        monitor_host=tmp_path / "monitor",
        monitor_asterisk=PurePosixPath("/srv/monitor"),
        root_host=tmp_path,
        root_asterisk=PurePosixPath("/srv"),
    )
    return VoiceMessageStore(layout, tmp_path / "storage", clock=lambda: DAY)


async def test_a_finished_message_moves_into_the_days_storage(tmp_path: Path):
    messages = store(tmp_path)
    recording = messages.recording_file("1700000000.7")
    assert messages.asterisk_name(recording).startswith("/srv/monitor/vm-1700000000.7-")
    write_wav(recording, bytes(2 * RATE * 3))  # 3 s
    kept = await messages.keep(recording)
    assert kept is not None and kept.seconds == 3.0
    assert kept.path.parent == tmp_path / "storage" / "2026" / "11" / "29"
    assert kept.path.stat().st_size > 44 and not recording.exists()


async def test_an_empty_or_damaged_message_is_not_kept(tmp_path: Path):
    messages = store(tmp_path)
    short = messages.recording_file("1.1")
    write_wav(short, bytes(2 * RATE // 2))  # half a second: nothing said
    damaged = messages.recording_file("1.2")
    damaged.write_bytes(b"RIFF....WAVEnot really")
    assert await messages.keep(short) is None and not short.exists()
    assert await messages.keep(damaged) is None and not damaged.exists()
    assert await messages.keep(messages.recording_file("1.3")) is None  # never written
    assert not (tmp_path / "storage").exists()


async def test_heard_audio_is_kept_unless_too_short(tmp_path: Path):
    messages = store(tmp_path)
    kept = await messages.keep_audio(bytes(2 * RATE * 2), "1.4")
    assert kept is not None and kept.seconds == 2.0 and kept.path.exists()
    assert await messages.keep_audio(bytes(100), "1.5") is None
    await messages.discard(kept.path)
    assert not kept.path.exists()
