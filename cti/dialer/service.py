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
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm_store.enums import DialerCallResult, RefillStatus
from crm_store.errors import InvalidTransition
from crm_store.gateway import StoreGateway
from crm_store.models import utcnow
from crm_store.repositories.dialer import DialerRepository, OpenRefill
from crm_store.repositories.waitlist import WaitlistRepository
from cti.ami import AmiClient
from cti.bus import EventBus
from cti.dialer.config import DialerPolicy
from cti.dialer.offer_call import CallFinished
from cti.dialer.originate import offer_originate_action, unanswered_result
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
        self._subscription = bus.subscribe("dialer", ["dialer.call_finished"], self._call_finished)

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

    def _call_finished(self, _topic: str, _finished: CallFinished) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ one pass

    async def tick(self) -> list[PlannedCall]:
        """One pass: open refills for newly freed places, close calls that never
        reported back, decide every open refill and place the calls decided on."""
        now = self.clock()
        policy = self.policy
        await self.store.write(
            lambda s: DialerRepository(s).discover_freed(
                now=now, starting_after=now + policy.min_lead_time
            )
        )
        lost_before = now - policy.ring_timeout - policy.offer_hold - ORIGINATE_GRACE
        await self.store.write(lambda s: _close_lost_calls(s, lost_before, now))
        refills = await self.store.read(lambda s: DialerRepository(s).open_refills())
        lines_in_use = await self.store.read(lambda s: DialerRepository(s).calls_in_flight())
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
        return placed

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
        task = asyncio.get_running_loop().create_task(
            self._originate(offer_id, number), name=f"dialer-offer-{offer_id}"
        )
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
        return True

    async def _originate(self, offer_id: int, number: str) -> None:
        policy = self.policy
        detail: str | None = None
        try:
            action = offer_originate_action(
                channel_template=policy.channel,
                number_e164=number,
                offer_id=offer_id,
                ring_timeout_s=policy.ring_timeout.total_seconds(),
                caller_id=policy.caller_id,
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
            return  # answered: the offer app records what the patient chose
        now = self.clock()
        closed = await self.store.write(
            lambda s: DialerRepository(s).finish_call(offer_id, result, now=now, detail=detail)
        )
        if closed:
            self.bus.publish("dialer.call_finished", CallFinished(offer_id, result))


def _close_lost_calls(session: Session, before: dt.datetime, now: dt.datetime) -> int:
    repo = DialerRepository(session)
    lost = repo.pending_started_before(before)
    for offer_id in lost:
        repo.finish_call(offer_id, DialerCallResult.FAILED, now=now, detail="no report")
    return len(lost)
