"""The dialer at work: finds freed places, asks the policy whom to phone, places the
calls through AMI and records how they end.

Thin on purpose: every choice is :func:`cti.dialer.policy.decide`'s; this module only
reads the store, calls it, and carries out its answer. One pass is :meth:`tick`; the
service runs it every ``poll_interval`` and whenever an offer call ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from crm_store.enums import (
    AppointmentStatus,
    DialerCallResult,
    RefillStatus,
    ReminderKind,
    ReminderResult,
)
from crm_store.errors import InvalidTransition
from crm_store.gateway import StoreGateway
from crm_store.models import utcnow
from crm_store.repositories.dialer import DialerRepository, OpenRefill
from crm_store.repositories.reminders import DueAppointment, ReminderRepository
from crm_store.repositories.waitlist import WaitlistRepository
from cti.ami import AmiClient
from cti.bus import EventBus
from cti.dialer.config import DialerPolicy
from cti.dialer.offer_call import CallFinished
from cti.dialer.originate import (
    FOLLOW_UP_CONTEXT,
    OFFER_CONTEXT,
    REMINDER_CONTEXT,
    dialer_originate_action,
    unanswered_result,
)
from cti.dialer.policy import (
    CallNow,
    Candidate,
    Decision,
    FreedSlot,
    OfferAttempt,
    StopOffering,
    StopReason,
    WaitReason,
    WaitUntil,
    decide,
)
from cti.dialer.reminder_call import ReminderFinished
from cti.dialer.reminders import follow_up_window, reminder_window, reminders_to_place
from cti.errors import AmiError

log = logging.getLogger(__name__)

#: How many waitlist candidates are read per slot and pass.
CANDIDATES_PER_PASS = 50
#: Extra time Asterisk gets to report an unanswered call beyond its ring timeout.
ORIGINATE_GRACE = dt.timedelta(seconds=15)

_STOP_STATUS = {
    StopReason.FILLED: RefillStatus.FILLED,
    StopReason.TOO_SOON: RefillStatus.TOO_SOON,
    StopReason.EXHAUSTED: RefillStatus.EXHAUSTED,
    StopReason.DISABLED: RefillStatus.DISABLED,
}
# Waits that only the clock ends; the others end when a call does (and wake the loop).
_TIMED_WAITS = frozenset({WaitReason.OUTSIDE_CALLING_HOURS, WaitReason.SPACING})


@dataclass(frozen=True)
class PlannedCall:
    refill_id: int
    slot_id: int
    candidate: Candidate


class DialerService:
    def __init__(
        self,
        *,
        store: StoreGateway,
        ami: AmiClient,
        bus: EventBus,
        policy: DialerPolicy,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.store = store
        self.ami = ami
        self.bus = bus
        self.policy = policy
        self.clock = clock
        self._asleep_until: dict[int, dt.datetime] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._calls: set[asyncio.Task[None]] = set()
        self._subscription = bus.subscribe(
            "dialer", ["dialer.call_finished", "dialer.reminder_finished"], self._call_finished
        )

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="dialer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for call in list(self._calls):
            call.cancel()
        await asyncio.gather(*self._calls, return_exceptions=True)
        await self.bus.unsubscribe(self._subscription, drain=False)

    def wake(self) -> None:
        self._wake.set()

    async def wait_for_calls(self) -> None:
        """Until every Originate this service sent has been answered or has failed."""
        while self._calls:
            await asyncio.gather(*list(self._calls), return_exceptions=True)

    async def _run(self) -> None:
        interval = self.policy.poll_interval.total_seconds()
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except Exception:  # a bad pass must not stop the dialer; the next one retries
                log.exception("dialer pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)

    def _call_finished(self, _topic: str, _finished: CallFinished | ReminderFinished) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ one pass

    async def tick(self) -> list[PlannedCall]:
        """One pass: open refills for newly freed places, close calls that never
        reported back, decide every open refill and place the calls decided on."""
        now = self.clock()
        policy = self.policy
        # Every freed place of a future slot gets a refill record, also one too close to
        # offer (the policy closes it as too soon), so the figures count every place.
        await self.store.write(
            lambda s: DialerRepository(s).discover_freed(now=now, starting_after=now)
        )
        lost_before = now - policy.ring_timeout - policy.offer_hold - ORIGINATE_GRACE
        await self.store.write(lambda s: _close_lost_calls(s, lost_before, now))
        refills = await self.store.read(lambda s: DialerRepository(s).open_refills())
        lines_in_use = await self.store.read(_lines_in_use)
        placed: list[PlannedCall] = []
        for refill in refills:
            if self._asleep_until.get(refill.refill_id, now) > now:
                continue
            self._asleep_until.pop(refill.refill_id, None)
            decision = await self.store.read(
                lambda s, r=refill, lines=lines_in_use: self._decide(s, r, now, lines)  # type: ignore[misc]
            )
            if isinstance(decision, StopOffering):
                status = _STOP_STATUS[decision.reason]
                await self.store.write(
                    lambda s, r=refill.refill_id, st=status: DialerRepository(s).close_refill(  # type: ignore[misc]
                        r, st, now=now
                    )
                )
                log.info("refill %s closed: %s", refill.refill_id, status.value)
            elif isinstance(decision, WaitUntil):
                if decision.reason in _TIMED_WAITS:
                    self._asleep_until[refill.refill_id] = decision.at
            elif isinstance(decision, CallNow):
                for candidate in decision.candidates:
                    planned = PlannedCall(refill.refill_id, refill.slot_id, candidate)
                    if await self._place(planned, now):
                        placed.append(planned)
                        lines_in_use += 1
        # Reminders get the lines the offers left (a freed place is more urgent).
        await self._remind(now, lines_in_use)
        return placed

    async def _remind(self, now: dt.datetime, lines_in_use: int) -> list[DueAppointment]:
        """Place the day-before reminders and post-visit follow-ups that are due."""
        policy = self.policy
        placed: list[DueAppointment] = []
        if policy.reminders:
            start, end = reminder_window(now, policy)
            placed += await self._place_reminders(
                ReminderKind.REMINDER, start, end, now, lines_in_use
            )
        if policy.follow_up_departments:
            start, end = follow_up_window(now, policy)
            placed += await self._place_reminders(
                ReminderKind.FOLLOW_UP, start, end, now, lines_in_use + len(placed)
            )
        return placed

    async def _place_reminders(
        self,
        kind: ReminderKind,
        start: dt.datetime,
        end: dt.datetime,
        now: dt.datetime,
        lines_in_use: int,
    ) -> list[DueAppointment]:
        policy = self.policy
        follow_up = kind is ReminderKind.FOLLOW_UP

        def due(session: Session) -> list[DueAppointment]:
            repo = ReminderRepository(session)
            appointments = repo.due_between(
                start,
                end,
                status=AppointmentStatus.ATTENDED if follow_up else AppointmentStatus.BOOKED,
                department_codes=policy.follow_up_departments if follow_up else None,
            )
            attempts = repo.attempts_for((a.appointment_id for a in appointments), kind)
            return reminders_to_place(
                appointments, attempts, now, policy, lines_in_use=lines_in_use
            )

        chosen = await self.store.read(due)
        context = FOLLOW_UP_CONTEXT if follow_up else REMINDER_CONTEXT
        for appointment in chosen:
            number = appointment.phone_e164
            assert number is not None  # reminders_to_place never chooses one without
            call_id = await self.store.write(
                lambda s, a=appointment, n=number: ReminderRepository(s).start(  # type: ignore[misc]
                    appointment_id=a.appointment_id,
                    patient_id=a.patient_id,
                    number_e164=n,
                    now=now,
                    kind=kind,
                )
            )
            self._spawn(self._originate(call_id, number, context), f"{kind.value}-{call_id}")
        return chosen

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=f"dialer-{name}")
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    def _decide(
        self, session: Session, refill: OpenRefill, now: dt.datetime, lines: int
    ) -> Decision:
        policy = self.policy
        waitlist = WaitlistRepository(
            session, clinic_tz=policy.timezone, refusal_cooldown=policy.refusal_cooldown
        )
        candidates = [
            # candidates_for_slot already requires consent and no refusal in the cooldown.
            Candidate(
                entry_id=c.entry_id,
                patient_id=c.patient_id,
                clinical_priority=c.clinical_priority,
                waiting_since=c.waiting_since,
                phone_e164=c.phone_e164,
            )
            for c in waitlist.candidates_for_slot(
                refill.slot_id, limit=CANDIDATES_PER_PASS, now=now
            )
        ]
        attempts = [
            OfferAttempt(a.patient_id, a.slot_id, a.started_at, a.result)
            for a in DialerRepository(session).attempts_of(
                [c.patient_id for c in candidates],
                since=now - policy.attempt_window,
                slot_id=refill.slot_id,
            )
        ]
        slot = FreedSlot(refill.slot_id, refill.starts_at, refill.free_places)
        return decide(slot, candidates, attempts, now, policy, lines_in_use=lines)

    async def _place(self, planned: PlannedCall, now: dt.datetime) -> bool:
        number = planned.candidate.phone_e164
        assert number is not None  # the policy never chooses a candidate without one
        try:
            offer_id = await self.store.write(
                lambda s: DialerRepository(s).start_call(
                    refill_id=planned.refill_id,
                    entry_id=planned.candidate.entry_id,
                    slot_id=planned.slot_id,
                    patient_id=planned.candidate.patient_id,
                    number_e164=number,
                    now=now,
                )
            )
        except InvalidTransition:
            return False  # the entry changed since we read it (offered elsewhere, withdrawn)
        self._spawn(self._originate(offer_id, number, OFFER_CONTEXT), f"offer-{offer_id}")
        return True

    async def _originate(self, call_id: int, number: str, context: str) -> None:
        """Place an offer or reminder call; record it here if it was never answered (the
        call's FastAGI app records what happens once it is)."""
        policy = self.policy
        detail: str | None = None
        try:
            action = dialer_originate_action(
                channel_template=policy.channel,
                number_e164=number,
                call_id=call_id,
                ring_timeout_s=policy.ring_timeout.total_seconds(),
                caller_id=policy.caller_id,
                context=context,
            )
            timeout = (policy.ring_timeout + ORIGINATE_GRACE).total_seconds()
            events = await self.ami.send_list(action, timeout_s=timeout)
        except (AmiError, ValueError) as exc:
            result: DialerCallResult | None = DialerCallResult.FAILED
            detail = f"{type(exc).__name__}: {exc}"
        else:
            responses = [e for e in events if e.get("Event") == "OriginateResponse"]
            if not responses:
                result, detail = DialerCallResult.FAILED, "no OriginateResponse"
            else:
                result = unanswered_result(responses[0])
                detail = f"reason {responses[0].get('Reason', '')}"
        if result is None:
            return  # answered: the call's app records what the patient chose
        now = self.clock()
        if context in (REMINDER_CONTEXT, FOLLOW_UP_CONTEXT):
            reminder_result = ReminderResult(result.value)
            closed = await self.store.write(
                lambda s: ReminderRepository(s).finish(
                    call_id, reminder_result, now=now, detail=detail
                )
            )
            if closed:
                self.bus.publish(
                    "dialer.reminder_finished", ReminderFinished(call_id, reminder_result)
                )
            return
        closed = await self.store.write(
            lambda s: DialerRepository(s).finish_call(call_id, result, now=now, detail=detail)
        )
        if closed:
            self.bus.publish("dialer.call_finished", CallFinished(call_id, result))


def _lines_in_use(session: Session) -> int:
    return (
        DialerRepository(session).calls_in_flight() + ReminderRepository(session).calls_in_flight()
    )


def _close_lost_calls(session: Session, before: dt.datetime, now: dt.datetime) -> int:
    repo = DialerRepository(session)
    lost = repo.pending_started_before(before)
    for offer_id in lost:
        repo.finish_call(offer_id, DialerCallResult.FAILED, now=now, detail="no report")
    return len(lost)
