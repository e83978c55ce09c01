"""The dialer service when telephony fails it, on SQLite and PostgreSQL: an AMI link that
is down records the call as failed and keeps the patient waiting; a call that never
reports back is closed after the offer hold."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from crm_store.database import Database
from crm_store.enums import BookingChannel, DialerCallResult, RefillStatus, WaitlistStatus
from crm_store.gateway import StoreGateway
from crm_store.models import WaitlistEntry, utcnow
from crm_store.repositories import AppointmentRepository
from crm_store.repositories.dialer import DialerRepository
from cti.ami import AmiClient
from cti.bus import EventBus
from cti.dialer.config import DialerPolicy
from cti.dialer.service import DialerService
from tests.dialer.builders import build_clinic

POLICY = DialerPolicy(
    enabled=True,
    calling_days=frozenset(range(1, 8)),
    calling_start=dt.time(0, 0),
    calling_end=dt.time(23, 59, 59),
    parallel_offers_per_slot=1,
)
NUMBER = "+8613500135001"


def _freed(database: Database, now: dt.datetime) -> int:
    with database.session() as session:
        clinic = build_clinic(session, now=now, numbers=[NUMBER], starts_in=dt.timedelta(days=3))
        AppointmentRepository(session).cancel(
            clinic.booked_reference, cancelled_by=BookingChannel.IMPORT, now=now
        )
        return clinic.entries[NUMBER]


async def test_ami_down_fails_the_call_and_keeps_the_patient_waiting(database: Database) -> None:
    entry = _freed(database, utcnow())
    store, bus = StoreGateway(database), EventBus()
    # Never started: every action is refused with AmiNotConnected.
    ami = AmiClient(host="127.0.0.1", port=1, username="x", secret="x", bus=bus)
    service = DialerService(store=store, ami=ami, bus=bus, policy=POLICY)
    try:
        [planned] = await service.tick()
        assert planned.candidate.entry_id == entry
        await service.wait_for_calls()
        with database.session() as session:
            [view] = DialerRepository(session).refills()
            [call] = view.calls
            assert call.result is DialerCallResult.FAILED
            assert call.detail is not None and "AmiNotConnected" in call.detail
            waiting = session.scalar(select(WaitlistEntry.status).where(WaitlistEntry.id == entry))
            assert waiting is WaitlistStatus.WAITING
        # Our failure does not use up the patient's attempts: the next pass calls again.
        assert [p.candidate.entry_id for p in await service.tick()] == [entry]
        await service.wait_for_calls()
    finally:
        await service.close()
        await ami.close()
        await bus.close()
        store.close()


async def test_a_call_that_never_reports_back_is_closed(database: Database) -> None:
    start = utcnow()
    _freed(database, start)
    clock = [start]
    store, bus = StoreGateway(database), EventBus()
    ami = AmiClient(host="127.0.0.1", port=1, username="x", secret="x", bus=bus)
    service = DialerService(store=store, ami=ami, bus=bus, policy=POLICY, clock=lambda: clock[0])
    try:
        with database.session() as session:
            [refill] = DialerRepository(session).discover_freed(now=start, starting_after=start)
            entry_id, patient_id = session.execute(
                select(WaitlistEntry.id, WaitlistEntry.patient_id)
            ).one()
            [open_refill] = DialerRepository(session).open_refills()
            # A call placed by a worker that died before hearing back.
            DialerRepository(session).start_call(
                refill_id=refill,
                entry_id=entry_id,
                slot_id=open_refill.slot_id,
                patient_id=patient_id,
                number_e164=NUMBER,
                now=start,
            )
        assert await service.tick() == []  # in flight: wait for it
        clock[0] = start + POLICY.ring_timeout + POLICY.offer_hold + dt.timedelta(minutes=1)
        planned = await service.tick()  # lost → closed as failed, and the patient is free
        await service.wait_for_calls()
        with database.session() as session:
            [view] = DialerRepository(session).refills()
            assert view.status is RefillStatus.OPEN
            lost = view.calls[0]
            assert (lost.result, lost.detail) == (DialerCallResult.FAILED, "no report")
        assert [p.candidate.entry_id for p in planned] == [entry_id]
    finally:
        await service.close()
        await ami.close()
        await bus.close()
        store.close()


async def test_a_place_freed_too_close_to_its_slot_is_recorded_but_not_offered(
    database: Database,
) -> None:
    now = utcnow()
    with database.session() as session:
        clinic = build_clinic(
            session, now=now, numbers=[NUMBER], starts_in=dt.timedelta(minutes=90), tag="S"
        )
        AppointmentRepository(session).cancel(
            clinic.booked_reference, cancelled_by=BookingChannel.IVR, now=now
        )
    store, bus = StoreGateway(database), EventBus()
    ami = AmiClient(host="127.0.0.1", port=1, username="x", secret="x", bus=bus)
    service = DialerService(store=store, ami=ami, bus=bus, policy=POLICY)
    try:
        assert await service.tick() == []
        with database.session() as session:
            [view] = DialerRepository(session).refills()
            assert (view.status, view.calls) == (RefillStatus.TOO_SOON, ())
    finally:
        await service.close()
        await ami.close()
        await bus.close()
        store.close()
