"""The dialer's store side on SQLite and PostgreSQL: freed places are found, every call
is recorded, and two accepts for the last place book exactly once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from sqlalchemy import func, select

from crm_store.database import Database
from crm_store.enums import (
    AppointmentStatus,
    BookingChannel,
    DialerCallResult,
    FreedBy,
    OfferOutcome,
    RefillStatus,
    WaitlistStatus,
)
from crm_store.models import Appointment, Slot, WaitlistEntry, WaitlistOffer
from crm_store.repositories import AppointmentRepository
from crm_store.repositories.dialer import DialerRepository
from tests.dialer.builders import Clinic, build_clinic

NOW = dt.datetime(2030, 3, 4, 2, 0, tzinfo=dt.UTC)
NUMBERS = [f"+861380013{n:04d}" for n in range(1, 9)]


def _freed_clinic(database: Database, numbers: list[str] = NUMBERS) -> tuple[Clinic, int]:
    with database.session() as session:
        clinic = build_clinic(session, now=NOW - dt.timedelta(days=1), numbers=numbers)
        AppointmentRepository(session).cancel(
            clinic.booked_reference, cancelled_by=BookingChannel.AGENT, now=NOW
        )
        [refill] = DialerRepository(session).discover_freed(now=NOW, starting_after=NOW)
    return clinic, refill


def _call(database: Database, clinic: Clinic, refill: int, number: str) -> int:
    with database.session() as session:
        return DialerRepository(session).start_call(
            refill_id=refill,
            entry_id=clinic.entries[number],
            slot_id=clinic.slot_id,
            patient_id=clinic.waitlisted[number],
            number_e164=number,
            now=NOW,
        )


def test_a_cancellation_opens_one_refill(database: Database) -> None:
    clinic, refill = _freed_clinic(database)
    with database.session() as session:
        repo = DialerRepository(session)
        assert repo.discover_freed(now=NOW, starting_after=NOW) == []  # only once
        [open_refill] = repo.open_refills()
        assert (open_refill.refill_id, open_refill.slot_id, open_refill.free_places) == (
            refill,
            clinic.slot_id,
            1,
        )
        # A slot already in the past (or within the lead time) is not a freed place.
        assert repo.discover_freed(now=NOW, starting_after=clinic.slot_starts_at) == []


def test_an_in_time_no_show_frees_its_place(database: Database) -> None:
    with database.session() as session:
        clinic = build_clinic(session, now=NOW, numbers=NUMBERS[:1], tag="N")
        AppointmentRepository(session).mark(clinic.booked_reference, AppointmentStatus.NO_SHOW)
        [refill_id] = DialerRepository(session).discover_freed(now=NOW, starting_after=NOW)
        assert session.scalar(select(Slot.booked).where(Slot.id == clinic.slot_id)) == 0
        [view] = DialerRepository(session).refills()
        assert (view.refill_id, view.freed_by) == (refill_id, FreedBy.NO_SHOW)


def test_accept_books_and_fills(database: Database) -> None:
    clinic, refill = _freed_clinic(database)
    offer = _call(database, clinic, refill, NUMBERS[0])
    with database.session() as session:
        # The patient being called is no candidate any more, but the call still counts.
        [in_flight] = DialerRepository(session).attempts_of([], since=NOW, slot_id=clinic.slot_id)
        assert in_flight.result is DialerCallResult.PENDING
        assert in_flight.patient_id == clinic.waitlisted[NUMBERS[0]]
        outcome = DialerRepository(session).accept(offer, now=NOW)
    assert outcome.result is DialerCallResult.ACCEPTED
    with database.session() as session:
        appointment = session.get(Appointment, outcome.appointment_id)
        assert appointment is not None
        assert appointment.patient_id == clinic.waitlisted[NUMBERS[0]]
        assert appointment.booked_by is BookingChannel.DIALER
        assert appointment.reference == outcome.reference
        entry = session.get(WaitlistEntry, clinic.entries[NUMBERS[0]])
        assert entry is not None and entry.status is WaitlistStatus.BOOKED
        [view] = DialerRepository(session).refills()
        assert view.status is RefillStatus.FILLED
        assert view.filled_appointment_id == outcome.appointment_id
        assert [c.result for c in view.calls] == [DialerCallResult.ACCEPTED]


def test_decline_no_answer_and_machine_are_recorded_and_keep_patients_waiting(
    database: Database,
) -> None:
    clinic, refill = _freed_clinic(database)
    results = [DialerCallResult.DECLINED, DialerCallResult.NO_ANSWER, DialerCallResult.MACHINE]
    offers = [_call(database, clinic, refill, n) for n in NUMBERS[: len(results)]]
    with database.session() as session:
        repo = DialerRepository(session)
        assert repo.calls_in_flight() == 3
        for offer, result in zip(offers, results, strict=True):
            assert repo.finish_call(offer, result, now=NOW, detail="test")
            assert not repo.finish_call(offer, result, now=NOW)  # reported twice: once
        assert repo.calls_in_flight() == 0
    with database.session() as session:
        outcomes = dict(session.execute(select(WaitlistOffer.id, WaitlistOffer.outcome)).all())
        assert [outcomes[o] for o in offers] == [
            OfferOutcome.REFUSED,
            OfferOutcome.NO_ANSWER,
            OfferOutcome.NO_ANSWER,
        ]
        for number in NUMBERS[:3]:
            entry = session.get(WaitlistEntry, clinic.entries[number])
            assert entry is not None and entry.status is WaitlistStatus.WAITING
        refused = session.get(WaitlistEntry, clinic.entries[NUMBERS[0]])
        assert refused is not None and refused.last_refused_at == NOW
        attempts = DialerRepository(session).attempts_of(
            clinic.waitlisted.values(), since=NOW - dt.timedelta(days=1)
        )
        assert sorted(a.result.value for a in attempts) == ["declined", "machine", "no_answer"]


def test_racing_accepts_for_the_last_place_book_once(database: Database) -> None:
    clinic, refill = _freed_clinic(database)
    offers = [_call(database, clinic, refill, number) for number in NUMBERS]
    barrier = threading.Barrier(len(offers))
    results: Counter[str] = Counter()
    lock = threading.Lock()

    def accept(offer: int) -> None:
        barrier.wait()
        try:
            # Each accept in its own write transaction, as separate Hotline workers would.
            with database.session(immediate=True) as session:
                outcome = DialerRepository(session).accept(offer, now=NOW).result.value
        except Exception as exc:  # any other ending fails the test below
            outcome = f"error: {type(exc).__name__}: {exc}"
        with lock:
            results[outcome] += 1

    threads = [threading.Thread(target=accept, args=(offer,)) for offer in offers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == Counter({"accepted": 1, "slot_taken": len(offers) - 1}), results
    with database.session() as session:
        booked = session.scalar(
            select(func.count()).where(
                Appointment.slot_id == clinic.slot_id,
                Appointment.status == AppointmentStatus.BOOKED,
            )
        )
        assert booked == 1
        assert session.scalar(select(Slot.booked).where(Slot.id == clinic.slot_id)) == 1
        statuses = Counter(
            session.scalars(
                select(WaitlistEntry.status).where(WaitlistEntry.id.in_(clinic.entries.values()))
            )
        )
        # The losers stay on the waitlist, not marked as having refused.
        assert statuses == Counter({WaitlistStatus.BOOKED: 1, WaitlistStatus.WAITING: 7})
        assert (
            session.scalar(select(func.count()).where(WaitlistEntry.last_refused_at.is_not(None)))
            == 0
        )
        [view] = DialerRepository(session).refills()
        assert view.status is RefillStatus.FILLED
