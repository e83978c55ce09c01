"""Slot refill end to end through the real Asterisk: a cancellation is noticed, the
dialer phones simulated patients (dialplans/dialer-simulation.conf) who don't answer,
are busy, are a machine, decline or accept, and the store shows the right booking."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.database import Database
from crm_store.enums import (
    AppointmentStatus,
    BookingChannel,
    DialerCallResult,
    RefillStatus,
    ReminderKind,
    ReminderResult,
    WaitlistStatus,
)
from crm_store.gateway import StoreGateway
from crm_store.models import Appointment, DialerCall, ReminderCall, WaitlistEntry, utcnow
from crm_store.repositories import AppointmentRepository
from crm_store.repositories.dialer import DialerRepository, RefillView
from cti.bus import EventBus
from cti.dialer import texts
from cti.dialer.config import DialerPolicy
from cti.dialer.service import DialerService
from cti.dialer.voice import DialerPrompt
from cti.service import Hotline
from cti.settings import Language
from tests.dialer.builders import Clinic, build_clinic
from tests.fixtures.hotline import CallerSide

pytestmark = pytest.mark.asterisk

TEST_POLICY = DialerPolicy(
    enabled=True,
    channel="Local/{digits}@dialer-sim-patient",
    ring_timeout=dt.timedelta(seconds=8),
    offer_hold=dt.timedelta(seconds=60),
    poll_interval=dt.timedelta(seconds=0.5),
    parallel_offers_per_slot=2,
    total_lines=6,
    reminders=True,
    follow_up_departments=frozenset({"CARDF"}),
    calling_days=frozenset(range(1, 8)),
    calling_start=dt.time(0, 0),
    calling_end=dt.time(23, 59, 59),
)


@pytest.fixture(scope="module")
async def hotline(hotline_factory: Callable[..., Any]) -> AsyncIterator[Hotline]:
    running: Hotline = await hotline_factory(dialer=TEST_POLICY)
    yield running
    await running.stop()


class Prompts:
    def __init__(self, bus: EventBus) -> None:
        self.heard: list[DialerPrompt] = []
        bus.subscribe("test-dialer-prompts", ["dialer.prompt"], self._add)

    def _add(self, _topic: str, prompt: DialerPrompt) -> None:
        self.heard.append(prompt)

    async def of(self, offer_id: int, count: int, timeout_s: float = 30.0) -> list[str]:
        """The first ``count`` texts played on this offer call (the last one plays after
        the store has the result)."""

        async def enough() -> list[str]:
            while len(texts_ := [p.text for p in self.heard if p.call_id == offer_id]) < count:
                await asyncio.sleep(0.1)
            return texts_

        return await asyncio.wait_for(enough(), timeout_s)


async def _cancel_and_wait_for_refill(
    hotline: Hotline, clinic: Clinic, timeout_s: float = 120.0
) -> RefillView:
    await hotline.store.write(
        lambda s: AppointmentRepository(s).cancel(
            clinic.booked_reference, cancelled_by=BookingChannel.IVR
        )
    )
    assert hotline.dialer is not None
    hotline.dialer.wake()

    async def closed() -> RefillView:
        while True:
            views = await hotline.store.read(
                lambda s: DialerRepository(s).refills(slot_id=clinic.slot_id)
            )
            if views and views[0].status is not RefillStatus.OPEN:
                if all(c.result is not DialerCallResult.PENDING for c in views[0].calls):
                    return views[0]
            await asyncio.sleep(0.25)

    return await asyncio.wait_for(closed(), timeout_s)


def _booked_patients(session: Session, slot_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Appointment.patient_id).where(
                Appointment.slot_id == slot_id,
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.booked_by == BookingChannel.DIALER,
            )
        )
    )


async def test_refill_moves_past_no_answer_busy_machine_and_decline_to_a_booking(
    hotline: Hotline,
) -> None:
    # Ranked in this order (priority 1..5); the last digit is how each one behaves.
    no_answer, busy, machine, decline, accept = (
        "+8613900139003",
        "+8613900139004",
        "+8613900139005",
        "+8613900139002",
        "+8613900139001",
    )
    numbers = [no_answer, busy, machine, decline, accept]
    prompts = Prompts(hotline.bus)
    clinic = await hotline.store.write(
        lambda s: build_clinic(s, now=utcnow(), numbers=numbers, tag="E")
    )
    refill = await _cancel_and_wait_for_refill(hotline, clinic)

    assert refill.status is RefillStatus.FILLED
    results = {c.patient_id: c.result for c in refill.calls}
    assert results == {
        clinic.waitlisted[no_answer]: DialerCallResult.NO_ANSWER,
        clinic.waitlisted[busy]: DialerCallResult.BUSY,
        clinic.waitlisted[machine]: DialerCallResult.MACHINE,
        clinic.waitlisted[decline]: DialerCallResult.DECLINED,
        clinic.waitlisted[accept]: DialerCallResult.ACCEPTED,
    }

    def check(session: Session) -> None:
        assert _booked_patients(session, clinic.slot_id) == [clinic.waitlisted[accept]]
        statuses = {
            e.id: e.status
            for e in session.scalars(
                select(WaitlistEntry).where(WaitlistEntry.id.in_(clinic.entries.values()))
            )
        }
        assert statuses[clinic.entries[accept]] is WaitlistStatus.BOOKED
        for number in (no_answer, busy, machine, decline):
            assert statuses[clinic.entries[number]] is WaitlistStatus.WAITING
        declined = session.get(WaitlistEntry, clinic.entries[decline])
        assert declined is not None and declined.last_refused_at is not None

    await hotline.store.read(check)
    # The accepting patient heard the offer and their reference; the machine heard nothing.
    offer_of = {c.patient_id: c.offer_id for c in refill.calls}
    heard = await prompts.of(offer_of[clinic.waitlisted[accept]], 2)
    assert "Dr. Li, cardiology" in heard[0]
    assert heard[1].startswith("It is booked. Your reference is")
    assert not [p for p in prompts.heard if p.call_id == offer_of[clinic.waitlisted[machine]]]


async def test_two_accepts_for_the_last_place_book_once(hotline: Hotline) -> None:
    first, second = "+8613700137001", "+8613700137011"
    prompts = Prompts(hotline.bus)
    clinic = await hotline.store.write(
        lambda s: build_clinic(s, now=utcnow(), numbers=[first, second], tag="R")
    )
    refill = await _cancel_and_wait_for_refill(hotline, clinic)

    assert refill.status is RefillStatus.FILLED
    assert sorted(c.result.value for c in refill.calls) == ["accepted", "slot_taken"]
    [winner] = [c for c in refill.calls if c.result is DialerCallResult.ACCEPTED]
    [loser] = [c for c in refill.calls if c.result is DialerCallResult.SLOT_TAKEN]
    assert await hotline.store.read(lambda s: _booked_patients(s, clinic.slot_id)) == [
        winner.patient_id
    ]
    loser_heard = await prompts.of(loser.offer_id, 2)
    assert loser_heard[1] == texts.taken_text(Language.ENGLISH)
    status = await hotline.store.read(
        lambda s: s.scalar(
            select(WaitlistEntry.status).where(WaitlistEntry.patient_id == loser.patient_id)
        )
    )
    assert status is WaitlistStatus.WAITING  # still waiting for the next place


async def test_calling_hours_and_do_not_call_are_never_breached(
    database: Database, caller_ami: CallerSide
) -> None:
    """A dialer outside its calling window, or with every candidate on the do-not-call
    list, places no call at all (the simulated patients would answer if it did)."""
    now = utcnow()
    local_hour = now.astimezone(dt.timezone(dt.timedelta(hours=8))).hour
    closed_now = {  # a window that excludes the current hour, every day
        "calling_days": frozenset(range(1, 8)),
        "calling_start": dt.time((local_hour + 1) % 24 if local_hour < 22 else 0),
        "calling_end": dt.time((local_hour + 2) % 24 if local_hour < 22 else 1),
    }
    numbers = ["+8613600136001", "+8613600136011"]
    with database.session() as session:
        clinic = build_clinic(session, now=now, numbers=numbers, starts_in=dt.timedelta(days=5))
        AppointmentRepository(session).cancel(
            clinic.booked_reference, cancelled_by=BookingChannel.AGENT, now=now
        )
    store = StoreGateway(database)
    bus = EventBus()
    try:
        out_of_hours = DialerService(
            store=store,
            ami=caller_ami.ami,
            bus=bus,
            policy=TEST_POLICY.model_copy(update=closed_now),
        )
        assert await out_of_hours.tick() == []
        assert await out_of_hours.tick() == []
        await out_of_hours.close()
        blocked = DialerService(
            store=store,
            ami=caller_ami.ami,
            bus=bus,
            policy=TEST_POLICY.model_copy(update={"do_not_call": frozenset(numbers)}),
        )
        assert await blocked.tick() == []
        await blocked.close()
        with database.session() as session:
            assert session.scalars(select(DialerCall)).all() == []
            [view] = DialerRepository(session).refills()
            assert view.status is RefillStatus.EXHAUSTED  # everyone left is do-not-call
        assert not [
            e
            for e in caller_ami.log.events
            if e.name == "UserEvent"
            and e.get("UserEvent") == "HotlineSimPatient"
            and e.get("Number", "")[-4:] in ("6001", "6011")
        ]
    finally:
        await bus.close()
        store.close()


async def test_reminder_confirms_or_cancels_and_a_cancelled_place_is_refilled(
    hotline: Hotline,
) -> None:
    """Tomorrow's patients are reminded: one confirms (…1); one cancels (…2), and the
    place they free is offered to the waitlist and taken (…1)."""
    confirmer, canceller, waiting = "+8613300133001", "+8613300133002", "+8613300133011"
    prompts = Prompts(hotline.bus)
    now = utcnow()
    shanghai = dt.timezone(dt.timedelta(hours=8))
    tomorrow_noon = dt.datetime.combine(
        now.astimezone(shanghai).date() + dt.timedelta(days=1), dt.time(12), tzinfo=shanghai
    )

    def build(session: Session) -> tuple[Clinic, Clinic]:
        cancelling = build_clinic(
            session,
            now=now,
            numbers=[waiting],
            starts_in=tomorrow_noon - now,
            tag="M1",
            holder_numbers=[canceller],
        )
        confirming = build_clinic(
            session,
            now=now,
            numbers=[],
            starts_in=tomorrow_noon + dt.timedelta(hours=1) - now,
            tag="M2",
            holder_numbers=[confirmer],
        )
        return cancelling, confirming

    cancelling, confirming = await hotline.store.write(build)
    assert hotline.dialer is not None
    hotline.dialer.wake()

    async def reminded_and_refilled() -> dict[str, ReminderResult]:
        while True:

            def read(session: Session) -> tuple[dict[str, ReminderResult], list[int]]:
                calls = {
                    c.number_e164: c.result
                    for c in session.scalars(
                        select(ReminderCall).where(
                            ReminderCall.number_e164.in_([confirmer, canceller])
                        )
                    )
                }
                return calls, _booked_patients(session, cancelling.slot_id)

            calls, booked = await hotline.store.read(read)
            if ReminderResult.PENDING not in calls.values() and len(calls) == 2 and booked:
                return calls
            await asyncio.sleep(0.25)

    results = await asyncio.wait_for(reminded_and_refilled(), 120)
    assert results == {confirmer: ReminderResult.CONFIRMED, canceller: ReminderResult.CANCELLED}

    def check(session: Session) -> None:
        cancelled = session.scalar(
            select(Appointment).where(Appointment.reference == cancelling.booked_reference)
        )
        assert cancelled is not None and cancelled.status is AppointmentStatus.CANCELLED
        assert cancelled.cancelled_by is BookingChannel.DIALER
        kept = session.scalar(
            select(Appointment).where(Appointment.reference == confirming.booked_reference)
        )
        assert kept is not None and kept.status is AppointmentStatus.BOOKED
        assert _booked_patients(session, cancelling.slot_id) == [cancelling.waitlisted[waiting]]

    await hotline.store.read(check)
    reminder_texts = [p.text for p in prompts.heard if p.kind == "reminder"]
    assert any("A reminder of your appointment tomorrow" in t for t in reminder_texts)


async def test_follow_up_survey_answers_are_stored(hotline: Hotline) -> None:
    """Yesterday's attended visit in a department that wants follow-ups: the patient
    (…1, presses 1 to everything) answers the survey and the answers are stored."""
    patient_number = "+8613100131001"
    prompts = Prompts(hotline.bus)
    now = utcnow()
    shanghai = dt.timezone(dt.timedelta(hours=8))
    yesterday_noon = dt.datetime.combine(
        now.astimezone(shanghai).date() - dt.timedelta(days=1), dt.time(12), tzinfo=shanghai
    )
    booked_at = now - dt.timedelta(days=3)

    def build(session: Session) -> Clinic:
        clinic = build_clinic(
            session,
            now=booked_at,
            numbers=[],
            starts_in=yesterday_noon - booked_at,
            tag="F",
            holder_numbers=[patient_number],
        )
        AppointmentRepository(session).mark(clinic.booked_reference, AppointmentStatus.ATTENDED)
        return clinic

    await hotline.store.write(build)
    assert hotline.dialer is not None
    hotline.dialer.wake()

    async def answered() -> ReminderCall:
        while True:
            call = await hotline.store.read(
                lambda s: s.scalar(
                    select(ReminderCall).where(ReminderCall.number_e164 == patient_number)
                )
            )
            if call is not None and call.result is not ReminderResult.PENDING:
                return call
            await asyncio.sleep(0.25)

    call = await asyncio.wait_for(answered(), 120)
    assert call.kind is ReminderKind.FOLLOW_UP
    assert call.result is ReminderResult.COMPLETED
    assert call.answers == {"satisfaction": 1, "feeling_better": 1}
    heard = [p.text for p in prompts.heard if p.kind == "follow_up" and p.call_id == call.id]
    assert heard[0].startswith("Hello, this is") and "following up on your visit" in heard[0]
