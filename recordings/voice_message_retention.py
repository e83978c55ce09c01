"""Complaint voice messages kept no longer than configured: the housekeeping deletes the
file of every message whose complaint was opened longer ago than the retention, leaving
an audit trace on the complaint (who: "retention", why, whether the file was still
there), and re-checks the rest so a lost or damaged file is reported (logged as an
error) rather than found by a supervisor who wanted to play it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from crm_store.database import Database
from crm_store.enums import AuditAction, AuditEntity, RecordingStatus
from crm_store.repositories import AuditLogRepository, ComplaintRepository
from recordings.file_check import file_state

log = logging.getLogger(__name__)


class VoiceMessageRetention:
    def __init__(
        self,
        database: Database,
        retention: dt.timedelta,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.database = database
        self.retention = retention
        self.clock = clock

    def sweep(self) -> list[int]:
        """Delete the voice messages whose retention ended; the ids of their complaints."""
        now = self.clock()
        deleted: list[int] = []
        with self.database.session() as session:
            complaints = ComplaintRepository(session)
            audit = AuditLogRepository(session)
            for item in complaints.voice_messages_opened_before(now - self.retention):
                path = Path(item.path)
                existed = path.exists()
                path.unlink(missing_ok=True)
                complaints.forget_voice_message(item.complaint_id)
                audit.write(
                    action=AuditAction.DELETE,
                    entity_type=AuditEntity.COMPLAINT,
                    entity_id=item.complaint_id,
                    actor="retention",
                    detail={
                        "what": "voice_message",
                        "reason": "retention ended",
                        "retention_days": self.retention.days,
                        "file_was_present": existed,
                        "path": item.path,
                    },
                    now=now,
                )
                deleted.append(item.complaint_id)
        return deleted

    def check(self) -> dict[int, RecordingStatus]:
        """The voice messages whose file is missing or damaged, by complaint id."""
        with self.database.session() as session:
            found = ComplaintRepository(session).with_voice_messages(limit=100_000)
        problems: dict[int, RecordingStatus] = {}
        for item in found:
            state = file_state(Path(item.path))
            if state is not RecordingStatus.VERIFIED:
                problems[item.complaint_id] = state
        return problems
