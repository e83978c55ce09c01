"""The running service's recordings housekeeping: expired files deleted with a trace, a
lost file reported, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePosixPath
from typing import Any

from crm_store.database import Database
from crm_store.enums import AuditAction, AuditEntity, RecordingStatus
from crm_store.repositories import AuditLogRepository, NewRecording, RecordingRepository
from recordings import MonitorDir, RecordingPolicy, RecordingService
from recordings.housekeeping import Housekeeping
from recordings.service import sha256_of
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


async def test_a_round_deletes_expired_recordings_and_reports_lost_ones(
    database: Database, tmp_path: Path
) -> None:
    expired = _index(database, tmp_path / "old.wav", NOW - dt.timedelta(days=31))
    lost = _index(database, tmp_path / "lost.wav", NOW - dt.timedelta(days=1))
    kept = _index(database, tmp_path / "kept.wav", NOW - dt.timedelta(days=1))
    (tmp_path / "lost.wav").unlink()
    service = RecordingService(
        ami=NoAmi(),
        database=database,
        monitor=MonitorDir(tmp_path, PurePosixPath(tmp_path)),
        storage_dir=tmp_path,
        policy=RecordingPolicy(retention=dt.timedelta(days=30)),
        clock=lambda: NOW,
    )
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
