"""Recordings through the real Asterisk: a simulated caller bridged to a simulated agent,
recorded with MixMonitor, moved to storage, checksum verified, indexed, then damaged,
lost and expired the way files are in real life."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crm_store.database import Database
from crm_store.enums import AuditAction, AuditEntity, RecordingStatus
from crm_store.repositories import AuditLogRepository, RecordingRepository
from cti.asterisk import AsteriskRunner
from recordings import (
    PauseNotAllowed,
    RecordingService,
    sha256_of,
)
from tests.fixtures.hotline import CallerSide
from tests.recordings.helpers import make_agent, make_service, record_one_call

pytestmark = pytest.mark.asterisk


async def test_a_bridged_call_is_recorded_moved_verified_and_indexed(
    caller_ami: CallerSide, asterisk: AsteriskRunner, database: Database, tmp_path: Path
) -> None:
    agent_id = make_agent(database)
    service = make_service(caller_ami, asterisk, database, tmp_path / "storage")
    uniqueid = await record_one_call(
        caller_ami, asterisk, service, agent_id=agent_id, queue="appointments"
    )
    stored = await service.finish(uniqueid)

    # Moved: gone from Asterisk's monitor dir, present in the storage, bytes as indexed.
    assert not (asterisk.layout.monitor_host / f"{uniqueid}.wav").exists()
    assert stored.path.is_file() and stored.path.is_relative_to(tmp_path / "storage")
    assert stored.path.stat().st_size == stored.size_bytes > 44
    assert sha256_of(stored.path) == stored.checksum_sha256
    # The tone is 6 s long; the call lasted at least that (2 s hold after it).
    assert stored.duration_s > 5
    with database.session() as session:
        view = RecordingRepository(session).get(stored.recording_id)
        audit = AuditLogRepository(session).for_entity(AuditEntity.RECORDING, stored.recording_id)
    assert view is not None
    assert (view.agent_id, view.queue, view.channel_uniqueid) == (
        agent_id,
        "appointments",
        uniqueid,
    )
    assert view.status is RecordingStatus.VERIFIED
    assert view.retain_until - view.started_at == dt.timedelta(days=30)
    assert [e.action for e in audit] == [AuditAction.CREATE]
    # Caller audio reached the file: not all samples are zero.
    data = stored.path.read_bytes()[44:]
    assert any(data)

    # Checks later on: intact → verified; damaged → reported; missing → reported.
    assert service.verify(stored.recording_id) is RecordingStatus.VERIFIED
    with stored.path.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x7f" * 16)
    assert service.verify_all() == {stored.recording_id: RecordingStatus.DAMAGED}
    stored.path.unlink()
    assert service.verify(stored.recording_id) is RecordingStatus.MISSING
    with database.session() as session:
        after = RecordingRepository(session).get(stored.recording_id)
    assert after is not None and after.status is RecordingStatus.MISSING


async def test_pause_only_where_policy_allows_and_retention_deletes_with_a_trace(
    caller_ami: CallerSide, asterisk: AsteriskRunner, database: Database, tmp_path: Path
) -> None:
    agent_id = make_agent(database)
    service = make_service(caller_ami, asterisk, database, tmp_path / "storage")
    uniqueid = await record_one_call(
        caller_ami, asterisk, service, agent_id=agent_id, queue="appointments"
    )
    with pytest.raises(PauseNotAllowed):
        await service.pause(uniqueid, by="agent 1001")
    stored = await service.finish(uniqueid)

    later = RecordingService(
        ami=service.ami,
        database=database,
        monitor=service.monitor,
        storage_dir=service.storage_dir,
        policy=service.policy,
        clock=lambda: stored_started + dt.timedelta(days=31),
    )
    with database.session() as session:
        view = RecordingRepository(session).get(stored.recording_id)
    assert view is not None
    stored_started = view.started_at
    assert later.sweep_retention() == [stored.recording_id]
    assert not stored.path.exists()
    with database.session() as session:
        gone = RecordingRepository(session).get(stored.recording_id)
        trace = AuditLogRepository(session).for_entity(AuditEntity.RECORDING, stored.recording_id)
    assert gone is not None and gone.deleted_at is not None
    assert gone.status is RecordingStatus.DELETED
    assert trace[0].action is AuditAction.DELETE and trace[0].actor == "retention"
    assert trace[0].detail is not None and trace[0].detail["file_was_present"] is True
    assert later.sweep_retention() == []  # once only
