"""Who to phone next about a freed slot, and when — a pure decision over plain data.

Given the freed slot, the waitlisted candidates who fit it, the offers made so far (to
these patients, for any slot), the clock and the :class:`DialerPolicy`, :func:`decide`
returns one of:

* :class:`CallNow` — these candidates, best first, may be phoned now;
* :class:`WaitUntil` — nobody may be phoned now; look again at ``at`` (calling window
  opens, a patient's spacing ends, or calls in flight report back);
* :class:`StopOffering` — the slot is done: filled, starting too soon, or nobody left.

Nothing here touches a socket, a session or the system clock, so every rule is unit
tested and the benchmark replays a month of cancellations through the same code.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from crm_store.enums import DialerCallResult as CallResult
from cti.dialer.config import DialerPolicy

__all__ = [
    "RETRYABLE",
    "CallNow",
    "CallResult",
    "Candidate",
    "Decision",
    "FreedSlot",
    "OfferAttempt",
    "StopOffering",
    "StopReason",
    "WaitReason",
    "WaitUntil",
    "decide",
    "in_calling_hours",
    "last_moment_to_call",
    "next_calling_start",
    "rank",
]

#: Results after which the patient may be phoned again about the same slot.
RETRYABLE = frozenset(
    {
        CallResult.NO_ANSWER,
        CallResult.BUSY,
        CallResult.MACHINE,
        CallResult.NO_INPUT,
        CallResult.FAILED,
    }
)


class StopReason(str, enum.Enum):
    FILLED = "filled"
    TOO_SOON = "too_soon"  # starts within min_lead_time (or no calling window before that)
    EXHAUSTED = "exhausted"  # nobody left to phone
    DISABLED = "disabled"


class WaitReason(str, enum.Enum):
    OUTSIDE_CALLING_HOURS = "outside_calling_hours"
    CALLS_IN_FLIGHT = "calls_in_flight"  # the slot's parallel offers are all out
    LINES_BUSY = "lines_busy"  # every outbound line is in use
    SPACING = "spacing"  # the next candidates were phoned too recently


@dataclass(frozen=True)
class FreedSlot:
    slot_id: int
    starts_at: dt.datetime  # aware
    free_places: int  # capacity minus live bookings, now


@dataclass(frozen=True)
class Candidate:
    """A waitlisted patient who fits the slot (department, doctor, dates, times)."""

    entry_id: int
    patient_id: int
    clinical_priority: int  # 1 most urgent
    waiting_since: dt.datetime
    phone_e164: str | None
    consent_to_call: bool = True
    last_refused_at: dt.datetime | None = None


@dataclass(frozen=True)
class OfferAttempt:
    """One call already made (or in flight) to a patient, for any slot."""

    patient_id: int
    slot_id: int
    started_at: dt.datetime
    result: CallResult


@dataclass(frozen=True)
class CallNow:
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class WaitUntil:
    at: dt.datetime
    reason: WaitReason


@dataclass(frozen=True)
class StopOffering:
    reason: StopReason


Decision = CallNow | WaitUntil | StopOffering


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Most urgent first, then longest on the waitlist, then the older entry."""
    return sorted(candidates, key=lambda c: (c.clinical_priority, c.waiting_since, c.entry_id))


def in_calling_hours(moment: dt.datetime, policy: DialerPolicy) -> bool:
    local = moment.astimezone(policy.zone)
    return (
        local.isoweekday() in policy.calling_days
        and policy.calling_start <= local.time() < policy.calling_end
    )


def next_calling_start(moment: dt.datetime, policy: DialerPolicy) -> dt.datetime:
    """``moment`` itself when inside the calling window, else when the window next opens."""
    if in_calling_hours(moment, policy):
        return moment
    local = moment.astimezone(policy.zone)
    for days_ahead in range(8):
        day = local.date() + dt.timedelta(days=days_ahead)
        if day.isoweekday() not in policy.calling_days:
            continue
        opens = dt.datetime.combine(day, policy.calling_start, tzinfo=policy.zone)
        if opens > local:
            return opens.astimezone(dt.UTC)
    raise AssertionError("calling_days is never empty")  # pragma: no cover - validated


def last_moment_to_call(slot: FreedSlot, policy: DialerPolicy) -> dt.datetime:
    """An offer must be over (answered and decided) before the slot's lead time begins."""
    return slot.starts_at - policy.min_lead_time - policy.offer_hold


def decide(
    slot: FreedSlot,
    candidates: Sequence[Candidate],
    attempts: Sequence[OfferAttempt],
    now: dt.datetime,
    policy: DialerPolicy,
    *,
    lines_in_use: int,
) -> Decision:
    """The next step for one freed slot. ``attempts`` are the calls made to these
    candidates (any slot, including ones in flight); ``lines_in_use`` counts every offer
    call in flight on every slot."""
    if now.tzinfo is None:
        raise ValueError("decide() needs an aware datetime")
    if not policy.enabled:
        return StopOffering(StopReason.DISABLED)
    if slot.free_places <= 0:
        return StopOffering(StopReason.FILLED)
    deadline = last_moment_to_call(slot, policy)
    if now > deadline:
        return StopOffering(StopReason.TOO_SOON)
    in_flight_here = sum(
        1 for a in attempts if a.slot_id == slot.slot_id and a.result is CallResult.PENDING
    )
    eligible, later = _eligible(slot, candidates, attempts, now, policy)
    if not eligible and later is None:
        if in_flight_here:
            return WaitUntil(now + policy.offer_hold, WaitReason.CALLS_IN_FLIGHT)
        return StopOffering(StopReason.EXHAUSTED)
    opens = next_calling_start(now, policy)
    if opens > now:
        if opens > deadline:
            return StopOffering(StopReason.TOO_SOON)
        return WaitUntil(opens, WaitReason.OUTSIDE_CALLING_HOURS)
    if not eligible:
        assert later is not None
        if later > deadline:
            if in_flight_here:
                return WaitUntil(now + policy.offer_hold, WaitReason.CALLS_IN_FLIGHT)
            return StopOffering(StopReason.EXHAUSTED)
        return WaitUntil(later, WaitReason.SPACING)
    # No more calls out for a slot than it has places times the parallel allowance.
    room_here = policy.parallel_offers_per_slot - in_flight_here
    if room_here <= 0:
        return WaitUntil(now + policy.offer_hold, WaitReason.CALLS_IN_FLIGHT)
    room_lines = policy.total_lines - lines_in_use
    if room_lines <= 0:
        return WaitUntil(now + policy.offer_hold, WaitReason.LINES_BUSY)
    return CallNow(tuple(eligible[: min(room_here, room_lines)]))


def _eligible(
    slot: FreedSlot,
    candidates: Sequence[Candidate],
    attempts: Sequence[OfferAttempt],
    now: dt.datetime,
    policy: DialerPolicy,
) -> tuple[list[Candidate], dt.datetime | None]:
    """Candidates who may be phoned now (ranked), and the earliest moment at which one
    who may not be phoned now (spacing, attempt cap) becomes phoneable, if any."""
    by_patient: dict[int, list[OfferAttempt]] = {}
    for attempt in attempts:
        by_patient.setdefault(attempt.patient_id, []).append(attempt)
    ready: list[Candidate] = []
    later: dt.datetime | None = None
    seen: set[int] = set()
    for candidate in rank(candidates):
        if candidate.patient_id in seen:
            continue  # two entries of one patient: one call is enough
        seen.add(candidate.patient_id)
        if not candidate.consent_to_call or candidate.phone_e164 is None:
            continue
        if candidate.phone_e164 in policy.do_not_call:
            continue
        if (
            candidate.last_refused_at is not None
            and now - candidate.last_refused_at < policy.refusal_cooldown
        ):
            continue
        history = by_patient.get(candidate.patient_id, [])
        if any(a.result is CallResult.PENDING for a in history):
            continue  # on the phone with us already (this slot or another)
        if any(a.slot_id == slot.slot_id and a.result not in RETRYABLE for a in history):
            continue  # already decided about this slot (declined, accepted, just taken)
        # A call that never reached the network (our fault) does not use up an attempt.
        recent = [
            a.started_at
            for a in history
            if a.result is not CallResult.FAILED and now - a.started_at < policy.attempt_window
        ]
        free_at = now
        if len(recent) >= policy.max_attempts_per_patient:
            # The cap frees up when the oldest calls in the window age out of it.
            recent.sort()
            free_at = recent[len(recent) - policy.max_attempts_per_patient] + policy.attempt_window
        if recent:
            free_at = max(free_at, max(recent) + policy.attempt_spacing)
        if free_at <= now:
            ready.append(candidate)
        elif later is None or free_at < later:
            later = free_at
    return ready, later
