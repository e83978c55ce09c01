"""The running service's recordings housekeeping: expired files (recordings, complaint
voice messages) deleted with a trace, a lost or damaged file reported, on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePosixPath
from typing import Any

from crm_store.database import Database
from crm_store.enums import (
    AuditAction,
    AuditEntity,
    BookingChannel,
    ComplaintCategory,
    RecordingStatus,
)
from crm_store.repositories import (
    AuditLogRepository,
    ComplaintRepository,
    NewRecording,
    RecordingRepository,
)
from recordings import MonitorDir, RecordingPolicy, RecordingService
from recordings.config import RecordingSettings
from recordings.housekeeping import Housekeeping
from recordings.service import sha256_of
from recordings.voice_message_retention import VoiceMessageRetention
from tests.recordings.test_recording_policy import _wav

NOW = dt.datetime(2030, 6, 1, 8, 0, tzinfo=dt.UTC)


class NoAmi:
    async def send(self, action: Any) -> Any:
        raise AssertionError(f"housekeeping needs no AMI: {action}")


def _index(database: Database, path: Path, started_at: dt.datetime) -> int:
    path.write_bytes(_wav(b"\x01\x00" * 8000))
    with database.session() as session:
        return RecordingRepository(session).add(
            NewRecording(
                path=str(path),
                duration_s=1.0,
                size_bytes=path.stat().st_size,
                checksum_sha256=sha256_of(path),
                started_at=started_at,
                retain_until=started_at + dt.timedelta(days=30),
                status=RecordingStatus.VERIFIED,
                checked_at=started_at,
            )
        )


def _service(database: Database, tmp_path: Path, *, retention_days: int) -> RecordingService:
    return RecordingService(
        ami=NoAmi(),
        database=database,
        monitor=MonitorDir(tmp_path, PurePosixPath(tmp_path)),
        storage_dir=tmp_path,
        policy=RecordingPolicy(retention=dt.timedelta(days=retention_days)),
        clock=lambda: NOW,
    )


async def test_a_round_deletes_expired_recordings_and_reports_lost_ones(
    database: Database, tmp_path: Path
) -> None:
    expired = _index(database, tmp_path / "old.wav", NOW - dt.timedelta(days=31))
    lost = _index(database, tmp_path / "lost.wav", NOW - dt.timedelta(days=1))
    kept = _index(database, tmp_path / "kept.wav", NOW - dt.timedelta(days=1))
    (tmp_path / "lost.wav").unlink()
    service = _service(database, tmp_path, retention_days=30)
    housekeeping = Housekeeping(service, interval_s=3600)
    done = await housekeeping.run_once()
    assert done.deleted == [expired]
    assert done.problems == {lost: RecordingStatus.MISSING}
    assert not (tmp_path / "old.wav").exists() and (tmp_path / "kept.wav").exists()
    with database.session() as session:
        trace = AuditLogRepository(session).for_entity(AuditEntity.RECORDING, expired)
        status = RecordingRepository(session).get(kept)
    assert [e.action for e in trace] == [AuditAction.DELETE]
    assert status is not None and status.status is RecordingStatus.VERIFIED


def _complaint_with_message(
    database: Database, path: Path, opened_at: dt.datetime, *, whole: bool = True
) -> int:
    wav = _wav(b"\x01\x00" * 16000)
    path.write_bytes(wav if whole else wav[:2000])
    with database.session() as session:
        repo = ComplaintRepository(session)
        ticket = repo.open(
            category=ComplaintCategory.SERVICE,
            description="(voice message)",
            opened_via=BookingChannel.IVR,
            voice_message_path=str(path),
            voice_message_s=2.0,
            now=opened_at,
        )
        [item] = [m for m in repo.with_voice_messages() if m.ticket_number == ticket]
    return item.complaint_id


async def test_voice_messages_past_retention_are_deleted_with_a_trace_damaged_ones_reported(
    database: Database, tmp_path: Path
) -> None:
    old = _complaint_with_message(database, tmp_path / "vm-old.wav", NOW - dt.timedelta(days=91))
    kept = _complaint_with_message(database, tmp_path / "vm-new.wav", NOW - dt.timedelta(days=89))
    cut = _complaint_with_message(
        database, tmp_path / "vm-cut.wav", NOW - dt.timedelta(days=1), whole=False
    )
    service = _service(database, tmp_path, retention_days=365)
    retention = RecordingSettings(voice_message_retention_days=90).voice_message_retention()
    housekeeping = Housekeeping(
        service,
        interval_s=3600,
        voice_messages=VoiceMessageRetention(database, retention, clock=lambda: NOW),
    )
    done = await housekeeping.run_once()
    assert done.voice_messages_deleted == [old]
    assert done.voice_message_problems == {cut: RecordingStatus.DAMAGED}
    assert not (tmp_path / "vm-old.wav").exists() and (tmp_path / "vm-new.wav").exists()
    with database.session() as session:
        trace = AuditLogRepository(session).for_entity(AuditEntity.COMPLAINT, old)
        listed = {m.complaint_id for m in ComplaintRepository(session).with_voice_messages()}
    assert [(e.action, e.actor) for e in trace] == [(AuditAction.DELETE, "retention")]
    assert listed == {kept, cut}  # the deleted one is no longer offered
    # A second round finds nothing more to delete.
    assert (await housekeeping.run_once()).voice_messages_deleted == []


def test_voice_messages_are_kept_as_long_as_recordings_unless_configured() -> None:
    assert RecordingSettings(retention_days=200).voice_message_retention() == dt.timedelta(days=200)
    assert RecordingSettings(
        retention_days=200, voice_message_retention_days=30
    ).voice_message_retention() == dt.timedelta(days=30)
