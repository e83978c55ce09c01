"""The waitlist: patients to phone when a slot frees up, best fit first."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from crm_store.enums import AppointmentStatus, OfferOutcome, WaitlistStatus
from crm_store.errors import InvalidRecord, InvalidTransition, SlotNotFound, WaitlistEntryNotFound
from crm_store.models import (
    Appointment,
    Patient,
    PhoneNumber,
    Slot,
    WaitlistEntry,
    WaitlistOffer,
    utcnow,
)
from crm_store.repositories._statements import rows_changed

#: The hospital's wall clock, in which waitlist dates and times are expressed.
DEFAULT_CLINIC_TZ = "Asia/Shanghai"
#: A patient who refused an offer is not phoned again for this long.
DEFAULT_REFUSAL_COOLDOWN = dt.timedelta(days=7)


@dataclass(frozen=True)
class WaitlistCandidate:
    entry_id: int
    patient_id: int
    clinical_priority: int  # 1 most urgent
    waiting_since: dt.datetime
    preferred_language: str
    phone_e164: str | None  # the patient's own primary number, for the dialer


class WaitlistRepository:
    """Waitlist entries and slot offers."""

    def __init__(
        self,
        session: Session,
        *,
        clinic_tz: str = DEFAULT_CLINIC_TZ,
        refusal_cooldown: dt.timedelta = DEFAULT_REFUSAL_COOLDOWN,
    ) -> None:
        self.session = session
        self.clinic_tz = zoneinfo.ZoneInfo(clinic_tz)
        self.refusal_cooldown = refusal_cooldown

    def add(
        self,
        *,
        patient_id: int,
        department_id: int,
        earliest_date: dt.date,
        latest_date: dt.date,
        doctor_id: int | None = None,
        earliest_time: dt.time | None = None,
        latest_time: dt.time | None = None,
        clinical_priority: int = 3,
        consent_to_call: bool = False,
        note: str | None = None,
    ) -> int:
        """Put a patient on the waitlist; returns the entry id. Dates and times are the
        clinic's local ones."""
        if latest_date < earliest_date:
            raise InvalidRecord("latest_date", "must not be before earliest_date")
        if not 1 <= clinical_priority <= 5:
            raise InvalidRecord("clinical_priority", "must be 1 (most urgent) to 5")
        entry = WaitlistEntry(
            patient_id=patient_id,
            department_id=department_id,
            doctor_id=doctor_id,
            earliest_date=earliest_date,
            latest_date=latest_date,
            earliest_time=earliest_time,
            latest_time=latest_time,
            clinical_priority=clinical_priority,
            consent_to_call=consent_to_call,
            note=note,
        )
        self.session.add(entry)
        self.session.flush()
        return entry.id

    def candidates_for_slot(
        self, slot_id: int, *, limit: int = 20, now: dt.datetime | None = None
    ) -> list[WaitlistCandidate]:
        """Waiting patients who fit a freed slot, best first: department (and doctor,
        when they asked for one), date range and acceptable times of day match; they
        consented to be phoned; they have not refused an offer within the cooldown and
        do not already hold this slot; ranked by clinical priority, then longest wait."""
        now = now or utcnow()
        slot = self.session.get(Slot, slot_id)
        if slot is None:
            raise SlotNotFound(slot_id)
        local_start = slot.starts_at.astimezone(self.clinic_tz)
        local_end = slot.ends_at.astimezone(self.clinic_tz)
        slot_date, start_time, end_time = local_start.date(), local_start.time(), local_end.time()
        if local_end.date() != slot_date:
            end_time = dt.time.max  # a slot crossing midnight: judge by its start
        entry = WaitlistEntry
        own = aliased(PhoneNumber)
        primary_phone = (
            select(own.e164)
            .where(own.patient_id == entry.patient_id, own.relation.is_(None))
            .order_by(own.is_primary.desc(), own.id)
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(
                entry.id,
                entry.patient_id,
                entry.clinical_priority,
                entry.created_at,
                Patient.preferred_language,
                primary_phone,
            )
            .join(Patient, Patient.id == entry.patient_id)
            .where(
                entry.status == WaitlistStatus.WAITING,
                entry.consent_to_call.is_(True),
                entry.department_id == slot.department_id,
                or_(entry.doctor_id.is_(None), entry.doctor_id == slot.doctor_id),
                entry.earliest_date <= slot_date,
                entry.latest_date >= slot_date,
                or_(entry.earliest_time.is_(None), entry.earliest_time <= start_time),
                or_(entry.latest_time.is_(None), entry.latest_time >= end_time),
                or_(
                    entry.last_refused_at.is_(None),
                    entry.last_refused_at < now - self.refusal_cooldown,
                ),
                ~exists().where(
                    and_(
                        Appointment.patient_id == entry.patient_id,
                        Appointment.slot_id == slot_id,
                        Appointment.status == AppointmentStatus.BOOKED,
                    )
                ),
            )
            .order_by(entry.clinical_priority, entry.created_at, entry.id)
            .limit(limit)
        )
        return [
            WaitlistCandidate(
                entry_id=row[0],
                patient_id=row[1],
                clinical_priority=row[2],
                waiting_since=row[3],
                preferred_language=row[4].value,
                phone_e164=row[5],
            )
            for row in self.session.execute(query)
        ]

    def record_offer(
        self,
        entry_id: int,
        slot_id: int,
        *,
        call_linkedid: str | None = None,
        now: dt.datetime | None = None,
    ) -> int:
        """The dialer is offering ``slot_id`` to this entry: WAITING → OFFERED; returns
        the offer id. InvalidTransition if the entry is not waiting (someone else got it)."""
        now = now or utcnow()
        changed = rows_changed(
            self.session,
            update(WaitlistEntry)
            .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == WaitlistStatus.WAITING)
            .values(status=WaitlistStatus.OFFERED, updated_at=now)
            .execution_options(synchronize_session=False),
        )
        if changed != 1:
            raise self._transition_error(entry_id, WaitlistStatus.OFFERED)
        offer = WaitlistOffer(
            entry_id=entry_id, slot_id=slot_id, offered_at=now, call_linkedid=call_linkedid
        )
        self.session.add(offer)
        self.session.flush()
        return offer.id

    def record_outcome(
        self,
        offer_id: int,
        outcome: OfferOutcome,
        *,
        appointment_id: int | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        """Close an offer. ACCEPTED (with the appointment booked for it) → entry BOOKED;
        REFUSED → entry back to WAITING with the refusal time (cooldown); NO_ANSWER /
        FAILED → back to WAITING."""
        now = now or utcnow()
        offer = self.session.get(WaitlistOffer, offer_id)
        if offer is None or offer.outcome is not OfferOutcome.PENDING:
            raise InvalidTransition("waitlist offer", "closed or missing", outcome.value)
        if outcome is OfferOutcome.ACCEPTED and appointment_id is None:
            raise InvalidRecord("appointment_id", "an accepted offer needs its appointment")
        offer.outcome = outcome
        offer.responded_at = now
        offer.appointment_id = appointment_id
        entry = self.session.get(WaitlistEntry, offer.entry_id)
        if entry is None:  # pragma: no cover - FK guarantees it
            raise WaitlistEntryNotFound(offer.entry_id)
        if outcome is OfferOutcome.ACCEPTED:
            entry.status = WaitlistStatus.BOOKED
            entry.appointment_id = appointment_id
        else:
            entry.status = WaitlistStatus.WAITING
            if outcome is OfferOutcome.REFUSED:
                entry.last_refused_at = now
        entry.updated_at = now
        self.session.flush()

    def withdraw(self, entry_id: int) -> None:
        """The patient no longer wants to wait."""
        changed = rows_changed(
            self.session,
            update(WaitlistEntry)
            .where(
                WaitlistEntry.id == entry_id,
                WaitlistEntry.status.in_([WaitlistStatus.WAITING, WaitlistStatus.OFFERED]),
            )
            .values(status=WaitlistStatus.WITHDRAWN, updated_at=utcnow())
            .execution_options(synchronize_session=False),
        )
        if changed != 1:
            raise self._transition_error(entry_id, WaitlistStatus.WITHDRAWN)

    def _transition_error(self, entry_id: int, wanted: WaitlistStatus) -> Exception:
        current = self.session.scalar(
            select(WaitlistEntry.status).where(WaitlistEntry.id == entry_id)
        )
        if current is None:
            return WaitlistEntryNotFound(entry_id)
        return InvalidTransition("waitlist entry", current.value, wanted.value)
