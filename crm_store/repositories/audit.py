"""The audit log: who viewed or changed which patient record or recording."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crm_store.enums import AuditAction, AuditEntity
from crm_store.errors import InvalidRecord
from crm_store.models import AuditLogEntry, utcnow


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    user_id: int | None
    actor: str | None
    action: AuditAction
    entity_type: AuditEntity
    entity_id: int
    detail: dict[str, Any] | None


class AuditLogRepository:
    """Append-only: there is no update or delete."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def write(
        self,
        *,
        action: AuditAction,
        entity_type: AuditEntity,
        entity_id: int,
        user_id: int | None = None,
        actor: str | None = None,
        detail: dict[str, Any] | None = None,
        now: dt.datetime | None = None,
    ) -> int:
        """Record an access; ``user_id`` for a person, ``actor`` for a system part
        ("ivr", "dialer", "import"). ``detail`` must not hold patient identifiers."""
        if user_id is None and not actor:
            raise InvalidRecord("user_id/actor", "an audit entry needs who did it")
        return self.session.execute(
            insert(AuditLogEntry)
            .values(
                at=now or utcnow(),
                user_id=user_id,
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                detail=detail,
            )
            .returning(AuditLogEntry.id)
        ).scalar_one()

    def for_entity(
        self, entity_type: AuditEntity, entity_id: int, *, limit: int = 100
    ) -> list[AuditEntry]:
        """Who touched this record, newest first."""
        return self._read(
            select(AuditLogEntry)
            .where(AuditLogEntry.entity_type == entity_type, AuditLogEntry.entity_id == entity_id)
            .order_by(AuditLogEntry.at.desc(), AuditLogEntry.id.desc())
            .limit(limit)
        )

    def by_user(self, user_id: int, *, limit: int = 100) -> list[AuditEntry]:
        """What this user touched, newest first."""
        return self._read(
            select(AuditLogEntry)
            .where(AuditLogEntry.user_id == user_id)
            .order_by(AuditLogEntry.at.desc(), AuditLogEntry.id.desc())
            .limit(limit)
        )

    def _read(self, query: Any) -> list[AuditEntry]:
        return [
            AuditEntry(
                id=row.id,
                at=row.at,
                user_id=row.user_id,
                actor=row.actor,
                action=row.action,
                entity_type=row.entity_type,
                entity_id=row.entity_id,
                detail=row.detail,
            )
            for row in self.session.scalars(query)
        ]
