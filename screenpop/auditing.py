"""Audit of what the consoles show: every page or socket message that shows patient
names is preceded by one audit row per patient (who, which patient, which view).
If the row cannot be written, the data is not shown (:class:`AuditUnavailable`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.orm import Session

from crm_store.enums import AuditAction, AuditEntity
from crm_store.gateway import StoreGateway
from crm_store.repositories.audit import AuditLogRepository
from screenpop.errors import AuditUnavailable

log = logging.getLogger(__name__)


def audit_patients_listed(
    session: Session, patient_ids: Iterable[int | None], *, user_id: int, view: str, via: str
) -> None:
    """In the caller's transaction: one VIEW row per patient named (none for ``None``)."""
    audit = AuditLogRepository(session)
    for patient_id in sorted({p for p in patient_ids if p}):
        audit.write(
            action=AuditAction.VIEW,
            entity_type=AuditEntity.PATIENT,
            entity_id=patient_id,
            user_id=user_id,
            detail={"view": view, "via": via},
        )


class AccessAudit:
    def __init__(self, store: StoreGateway) -> None:
        self.store = store

    async def patients_viewed(
        self, *, user_id: int, patient_ids: Iterable[int], view: str, via: str
    ) -> None:
        """Record that ``user_id`` saw these patients in ``view`` (e.g. "live_calls")
        through ``via`` ("page", "api", "websocket")."""
        ids = sorted(set(patient_ids))
        if not ids:
            return

        def work(session: Session) -> None:
            audit_patients_listed(session, ids, user_id=user_id, view=view, via=via)

        try:
            await self.store.write(work)
        except Exception as exc:
            log.error("audit write failed (%d patients, user %d): %s", len(ids), user_id, exc)
            raise AuditUnavailable() from exc
