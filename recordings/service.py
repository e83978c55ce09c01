"""Recording control and index: MixMonitor, then move, verify, keep, delete.

MixMonitor itself starts in the dialplan (``[hotline-record]`` in dialplans/supervisor.conf,
with the arguments :meth:`RecordingService.dialplan_arguments` gives for the queue): the
MixMonitor AMI action needs the AMI "system" class, which Hotline refuses to hold. The ACD
calls :meth:`RecordingService.start` once it has bridged a caller and an agent — Hotline
checks through AMI that Asterisk is recording that channel into the expected file and
indexes it on the call — and :meth:`RecordingService.finish` when the call has ended.
Pause and resume go through AMI (MixMonitorMute, class "call"). Asterisk writes the file into
the instance's monitor directory; ``finish`` moves it into the configured storage,
checks the copy against the checksum taken while copying, and indexes it. A file that is
missing or whose header disagrees with its size is reported (an exception here, status
MISSING/DAMAGED in the index on later checks), never listed as playable.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from crm_store.database import Database
from crm_store.enums import AuditAction, AuditEntity, RecordingStatus
from crm_store.models import utcnow
from crm_store.repositories import AuditLogRepository, NewRecording, RecordingRepository
from recordings.errors import (
    NotRecording,
    PauseNotAllowed,
    RecordingFileDamaged,
    RecordingFileMissing,
    RecordingNotStarted,
)
from recordings.policy import (
    RecordingPolicy,
    check_channel,
    check_queue,
    check_uniqueid,
    file_name,
    storage_relative_path,
    wav_info,
)

log = logging.getLogger(__name__)

_CHUNK = 1 << 16
_HEAD = 4096


class AmiSender(Protocol):
    async def send(self, action: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True)
class MonitorDir:
    """The directory Asterisk writes recordings to, on the host and as Asterisk sees it
    (they differ when Asterisk runs in a chroot)."""

    host: Path
    asterisk: PurePosixPath


@dataclass
class ActiveRecording:
    uniqueid: str
    channel: str
    queue: str | None
    agent_id: int | None
    call_id: int | None
    patient_id: int | None
    started_at: dt.datetime
    paused: bool = False
    pauses: list[tuple[dt.datetime, str]] = field(default_factory=list)
    agent_key: str | None = None  # the ACD's agent id (their username): who may pause


@dataclass(frozen=True)
class StoredRecording:
    recording_id: int
    path: Path
    duration_s: float
    size_bytes: int
    checksum_sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class RecordingService:
    def __init__(
        self,
        *,
        ami: AmiSender,
        database: Database,
        monitor: MonitorDir,
        storage_dir: Path,
        policy: RecordingPolicy,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.ami = ami
        self.database = database
        self.monitor = monitor
        self.storage_dir = storage_dir
        self.policy = policy
        self.clock = clock
        self._active: dict[str, ActiveRecording] = {}

    # -- control (AMI) ------------------------------------------------------------------

    def dialplan_arguments(self, queue: str | None) -> tuple[str, str] | None:
        """The arguments of ``Gosub(hotline-record,s,1(queue,announce))`` for a caller
        about to be bridged from ``queue``; None when that queue is not recorded."""
        policy = self.policy.for_queue(check_queue(queue))
        if not policy.record:
            return None
        return (queue or "", "1" if policy.announce else "0")

    async def start(
        self,
        *,
        uniqueid: str,
        channel: str,
        queue: str | None,
        agent_id: int | None,
        call_id: int | None = None,
        patient_id: int | None = None,
        agent_key: str | None = None,
    ) -> ActiveRecording | None:
        """Index the recording of ``channel`` (the leg that ran ``[hotline-record]``, or
        the agent's leg that ran ``[hotline-record-agent]``, which names the file after
        the caller's ``uniqueid``). None when the queue's policy says not to record; raises
        :class:`RecordingNotStarted` if Asterisk is not recording it where expected."""
        check_uniqueid(uniqueid)
        check_channel(channel)
        check_queue(queue)
        if not self.policy.for_queue(queue).record:
            return None
        expected = str(self.monitor.asterisk / file_name(uniqueid))
        response = await self.ami.send(
            {"Action": "Getvar", "Channel": channel, "Variable": "HOTLINE_RECORDING"}
        )
        found = str(response.get("Value") or "")
        if found != expected:
            raise RecordingNotStarted(channel, found)
        active = ActiveRecording(
            uniqueid=uniqueid,
            channel=channel,
            queue=queue,
            agent_id=agent_id,
            call_id=call_id,
            patient_id=patient_id,
            started_at=self.clock(),
            agent_key=agent_key,
        )
        self._active[uniqueid] = active
        return active

    async def pause(self, uniqueid: str, *, by: str, user_id: int | None = None) -> None:
        await self._mute(uniqueid, muted=True, by=by, user_id=user_id)

    async def resume(self, uniqueid: str, *, by: str, user_id: int | None = None) -> None:
        await self._mute(uniqueid, muted=False, by=by, user_id=user_id)

    async def _mute(self, uniqueid: str, *, muted: bool, by: str, user_id: int | None) -> None:
        active = self._active.get(uniqueid)
        if active is None:
            raise NotRecording(uniqueid)
        if not self.policy.for_queue(active.queue).pausable:
            raise PauseNotAllowed(active.queue)
        # MixMonitorMute writes silence for both directions: the timeline stays intact.
        await self.ami.send(
            {
                "Action": "MixMonitorMute",
                "Channel": active.channel,
                "Direction": "both",
                "State": "1" if muted else "0",
            }
        )
        now = self.clock()
        active.paused = muted
        active.pauses.append((now, f"{'pause' if muted else 'resume'} by {by}"))
        await asyncio.to_thread(self._audit_mute, active, muted, by, user_id, now)

    def _audit_mute(
        self, active: ActiveRecording, muted: bool, by: str, user_id: int | None, now: dt.datetime
    ) -> None:
        # The recording has no index row yet: the pause is audited on the call.
        with self.database.session() as session:
            if active.call_id is None:
                active.call_id = (
                    RecordingRepository(session)
                    .links(linkedid=active.uniqueid, agent_username=active.agent_key or "")
                    .call_id
                )
            AuditLogRepository(session).write(
                action=AuditAction.UPDATE,
                entity_type=AuditEntity.CALL,
                entity_id=active.call_id or 0,
                user_id=user_id,
                actor=None if user_id is not None else by,
                detail={
                    "recording": "paused" if muted else "resumed",
                    "uniqueid": active.uniqueid,
                    "by": by,
                },
                now=now,
            )

    def active(self, uniqueid: str) -> ActiveRecording | None:
        return self._active.get(uniqueid)

    # -- after the call: move, verify, index ----------------------------------------------

    async def finish(self, uniqueid: str, *, wait_s: float = 5.0) -> StoredRecording:
        """Move the finished recording into storage, verify and index it. Asterisk
        closes the file shortly after the hang-up, so a header that does not yet match
        the file's size is re-read for up to ``wait_s`` before it counts as damaged."""
        active = self._active.get(uniqueid)
        if active is None:
            raise NotRecording(uniqueid)
        source = self.monitor.host / file_name(uniqueid)
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            try:
                self._check_file(source)
                break
            except (RecordingFileMissing, RecordingFileDamaged):
                if asyncio.get_running_loop().time() >= deadline:
                    self._active.pop(uniqueid, None)
                    raise
                await asyncio.sleep(0.1)
        stored = await asyncio.to_thread(self._store, active, source)
        self._active.pop(uniqueid, None)
        return stored

    @staticmethod
    def _check_file(path: Path) -> float:
        try:
            size = path.stat().st_size
            with path.open("rb") as handle:
                head = handle.read(_HEAD)
        except FileNotFoundError as exc:
            raise RecordingFileMissing(str(path), "no such file") from exc
        return wav_info(head, size, path=str(path)).duration_s

    def _store(self, active: ActiveRecording, source: Path) -> StoredRecording:
        duration = self._check_file(source)
        relative = storage_relative_path(active.uniqueid, active.started_at)
        destination = self.storage_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_suffix(".wav.partial")
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as reader, partial.open("wb") as writer:
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
                writer.write(chunk)
                size += len(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        checksum = digest.hexdigest()
        # Verify what landed on the storage, not what we meant to write.
        if sha256_of(partial) != checksum:
            partial.unlink(missing_ok=True)
            raise RecordingFileDamaged(str(destination), "the copy's checksum differs")
        os.replace(partial, destination)
        now = self.clock()
        with self.database.session() as session:
            recording_id = RecordingRepository(session).add(
                NewRecording(
                    path=str(destination),
                    duration_s=duration,
                    size_bytes=size,
                    checksum_sha256=checksum,
                    started_at=active.started_at,
                    retain_until=self.policy.retain_until(active.started_at),
                    status=RecordingStatus.VERIFIED,
                    checked_at=now,
                    call_id=active.call_id,
                    agent_id=active.agent_id,
                    patient_id=active.patient_id,
                    queue=active.queue,
                    channel_uniqueid=active.uniqueid,
                )
            )
            AuditLogRepository(session).write(
                action=AuditAction.CREATE,
                entity_type=AuditEntity.RECORDING,
                entity_id=recording_id,
                actor="recordings",
                detail={
                    "size_bytes": size,
                    "pauses": [f"{at.isoformat()} {what}" for at, what in active.pauses],
                },
                now=now,
            )
        source.unlink()  # only once the verified copy is indexed
        return StoredRecording(recording_id, destination, duration, size, checksum)

    # -- checks and retention ------------------------------------------------------------

    def verify(self, recording_id: int) -> RecordingStatus:
        """Re-check one recording's file against its index entry and record the result."""
        with self.database.session() as session:
            repo = RecordingRepository(session)
            view = repo.get(recording_id)
            if view is None or view.deleted_at is not None:
                raise RecordingFileMissing(str(recording_id), "not an indexed live recording")
            path = Path(view.path)
            status = RecordingStatus.VERIFIED
            try:
                self._check_file(path)
                if path.stat().st_size != view.size_bytes or sha256_of(path) != (
                    view.checksum_sha256
                ):
                    status = RecordingStatus.DAMAGED
            except RecordingFileMissing:
                status = RecordingStatus.MISSING
            except RecordingFileDamaged:
                status = RecordingStatus.DAMAGED
            if status is not RecordingStatus.VERIFIED:
                log.error("recording %s is %s: %s", recording_id, status.value, path)
            repo.set_status(recording_id, status, checked_at=self.clock())
            return status

    def verify_all(self) -> dict[int, RecordingStatus]:
        """Check every live recording; returns those that are not as indexed."""
        with self.database.session() as session:
            ids = [view.id for view in RecordingRepository(session).live(limit=1_000_000)]
        problems: dict[int, RecordingStatus] = {}
        for recording_id in ids:
            status = self.verify(recording_id)
            if status is not RecordingStatus.VERIFIED:
                problems[recording_id] = status
        return problems

    def sweep_retention(self) -> list[int]:
        """Delete the files whose retention has ended; the index row stays with
        ``deleted_at`` set and an audit entry says who deleted what, when and why."""
        now = self.clock()
        deleted: list[int] = []
        with self.database.session() as session:
            repo = RecordingRepository(session)
            audit = AuditLogRepository(session)
            for view in repo.due_for_deletion(now):
                path = Path(view.path)
                existed = path.exists()
                path.unlink(missing_ok=True)
                repo.set_status(view.id, RecordingStatus.DELETED, checked_at=now, deleted_at=now)
                audit.write(
                    action=AuditAction.DELETE,
                    entity_type=AuditEntity.RECORDING,
                    entity_id=view.id,
                    actor="retention",
                    detail={
                        "reason": "retention ended",
                        "retain_until": view.retain_until.isoformat(),
                        "file_was_present": existed,
                        "checksum_sha256": view.checksum_sha256,
                    },
                    now=now,
                )
                deleted.append(view.id)
        return deleted
