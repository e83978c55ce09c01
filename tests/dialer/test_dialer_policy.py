"""The dialer's policy: who to phone next about a freed slot, and when (pure)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cti.dialer.config import DialerPolicy
from cti.dialer.policy import (
    CallNow,
    CallResult,
    Candidate,
    FreedSlot,
    OfferAttempt,
    StopOffering,
    StopReason,
    WaitReason,
    WaitUntil,
    decide,
    in_calling_hours,
    next_calling_start,
    rank,
)
from cti.settings import Settings

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Wednesday 2 June 2027, 10:00 in Shanghai.
NOW = dt.datetime(2027, 6, 2, 10, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
POLICY = DialerPolicy(enabled=True)
SLOT = FreedSlot(slot_id=1, starts_at=NOW + dt.timedelta(days=1), free_places=1)


def candidate(
    n: int,
    *,
    priority: int = 3,
    waited_days: int = 10,
    phone: str | None = "auto",
    consent: bool = True,
    refused_ago: dt.timedelta | None = None,
) -> Candidate:
    return Candidate(
        entry_id=n,
        patient_id=100 + n,
        clinical_priority=priority,
        waiting_since=NOW - dt.timedelta(days=waited_days),
        phone_e164=f"+86138001380{n:02d}" if phone == "auto" else phone,
        consent_to_call=consent,
        last_refused_at=None if refused_ago is None else NOW - refused_ago,
    )


def attempt(
    n: int, result: CallResult, ago: dt.timedelta = dt.timedelta(hours=1), slot_id: int = 1
) -> OfferAttempt:
    return OfferAttempt(patient_id=100 + n, slot_id=slot_id, started_at=NOW - ago, result=result)


def called(decision: object) -> list[int]:
    assert isinstance(decision, CallNow), decision
    return [c.entry_id for c in decision.candidates]


# ------------------------------------------------------------------ ranking


def test_ranked_by_priority_then_time_waiting() -> None:
    people = [
        candidate(1, priority=3, waited_days=30),
        candidate(2, priority=1, waited_days=1),
        candidate(3, priority=3, waited_days=60),
        candidate(4, priority=2, waited_days=5),
    ]
    assert [c.entry_id for c in rank(people)] == [2, 4, 3, 1]
    decision = decide(SLOT, people, [], NOW, POLICY, lines_in_use=0)
    assert called(decision) == [2, 4, 3]  # three parallel offers per slot by default


def test_without_consent_phone_or_on_do_not_call_nobody_is_phoned() -> None:
    policy = DialerPolicy(enabled=True, do_not_call=frozenset({"138 0013 8003"}))
    people = [
        candidate(1, consent=False),
        candidate(2, phone=None),
        candidate(3),  # +8613800138003, on the list in national form
        candidate(4),
    ]
    assert called(decide(SLOT, people, [], NOW, policy, lines_in_use=0)) == [4]
    alone = decide(SLOT, people[:3], [], NOW, policy, lines_in_use=0)
    assert alone == StopOffering(StopReason.EXHAUSTED)


def test_recent_refusal_waits_out_the_cooldown() -> None:
    people = [candidate(1, refused_ago=dt.timedelta(days=2)), candidate(2)]
    assert called(decide(SLOT, people, [], NOW, POLICY, lines_in_use=0)) == [2]
    old = [candidate(1, refused_ago=dt.timedelta(days=8))]
    assert called(decide(SLOT, old, [], NOW, POLICY, lines_in_use=0)) == [1]


# ------------------------------------------------------------------ the slot


def test_a_filled_slot_stops() -> None:
    full = FreedSlot(slot_id=1, starts_at=SLOT.starts_at, free_places=0)
    assert decide(full, [candidate(1)], [], NOW, POLICY, lines_in_use=0) == StopOffering(
        StopReason.FILLED
    )


def test_a_slot_starting_too_soon_stops() -> None:
    soon = FreedSlot(slot_id=1, starts_at=NOW + dt.timedelta(hours=2), free_places=1)
    assert decide(soon, [candidate(1)], [], NOW, POLICY, lines_in_use=0) == StopOffering(
        StopReason.TOO_SOON
    )
    later = FreedSlot(slot_id=1, starts_at=NOW + dt.timedelta(hours=3), free_places=1)
    assert called(decide(later, [candidate(1)], [], NOW, POLICY, lines_in_use=0)) == [1]


def test_disabled_dialer_calls_nobody() -> None:
    policy = DialerPolicy()  # off unless switched on
    assert decide(SLOT, [candidate(1)], [], NOW, policy, lines_in_use=0) == StopOffering(
        StopReason.DISABLED
    )


# ------------------------------------------------------------------ calling hours


def test_outside_calling_hours_waits_for_the_window() -> None:
    evening = dt.datetime(2027, 6, 2, 19, 0, tzinfo=SHANGHAI)  # calling_end is exclusive
    friday = FreedSlot(slot_id=1, starts_at=NOW + dt.timedelta(days=2), free_places=1)
    decision = decide(friday, [candidate(1)], [], evening, POLICY, lines_in_use=0)
    assert decision == WaitUntil(
        dt.datetime(2027, 6, 3, 9, 0, tzinfo=SHANGHAI), WaitReason.OUTSIDE_CALLING_HOURS
    )


def test_sunday_is_skipped_by_default() -> None:
    saturday_night = dt.datetime(2027, 6, 5, 20, 0, tzinfo=SHANGHAI)
    assert next_calling_start(saturday_night, POLICY) == dt.datetime(
        2027, 6, 7, 9, 0, tzinfo=SHANGHAI
    )


def test_a_slot_before_the_next_window_stops() -> None:
    night = dt.datetime(2027, 6, 2, 22, 0, tzinfo=SHANGHAI)
    slot = FreedSlot(
        slot_id=1, starts_at=dt.datetime(2027, 6, 3, 10, 0, tzinfo=SHANGHAI), free_places=1
    )
    assert decide(slot, [candidate(1)], [], night, POLICY, lines_in_use=0) == StopOffering(
        StopReason.TOO_SOON
    )


def test_calling_hours_follow_the_hospital_timezone() -> None:
    policy = DialerPolicy(enabled=True, timezone="Europe/Berlin")
    # 10:00 in Shanghai is 04:00 in Berlin (summer time): outside the window there.
    assert in_calling_hours(NOW, POLICY)
    assert not in_calling_hours(NOW, policy)


# ------------------------------------------------------------------ attempts and lines


def test_no_second_call_to_a_patient_already_on_the_phone() -> None:
    people = [candidate(1), candidate(2)]
    busy_elsewhere = [attempt(1, CallResult.PENDING, dt.timedelta(seconds=30), slot_id=9)]
    assert called(decide(SLOT, people, busy_elsewhere, NOW, POLICY, lines_in_use=1)) == [2]


def test_a_decided_patient_is_not_asked_again_about_the_same_slot() -> None:
    for result in (CallResult.DECLINED, CallResult.SLOT_TAKEN, CallResult.ACCEPTED):
        history = [attempt(1, result, dt.timedelta(days=1))]
        assert called(
            decide(SLOT, [candidate(1), candidate(2)], history, NOW, POLICY, lines_in_use=0)
        ) == [2]


def test_no_answer_is_retried_after_the_spacing() -> None:
    history = [attempt(1, CallResult.NO_ANSWER, dt.timedelta(minutes=10))]
    decision = decide(SLOT, [candidate(1)], history, NOW, POLICY, lines_in_use=0)
    assert decision == WaitUntil(NOW + dt.timedelta(minutes=20), WaitReason.SPACING)
    spaced = [attempt(1, CallResult.NO_ANSWER, dt.timedelta(minutes=31))]
    assert called(decide(SLOT, [candidate(1)], spaced, NOW, POLICY, lines_in_use=0)) == [1]


def test_attempt_cap_per_patient_across_slots() -> None:
    history = [
        attempt(1, CallResult.NO_ANSWER, dt.timedelta(hours=5), slot_id=7),
        attempt(1, CallResult.BUSY, dt.timedelta(hours=2), slot_id=8),
    ]
    decision = decide(SLOT, [candidate(1)], history, NOW, POLICY, lines_in_use=0)
    # Two calls in 24 h: the next is allowed when the older one leaves the window.
    assert decision == WaitUntil(NOW + dt.timedelta(hours=19), WaitReason.SPACING)
    soon = FreedSlot(slot_id=1, starts_at=NOW + dt.timedelta(hours=6), free_places=1)
    assert decide(soon, [candidate(1)], history, NOW, POLICY, lines_in_use=0) == StopOffering(
        StopReason.EXHAUSTED
    )


def test_a_failed_placement_does_not_use_up_the_patients_attempts() -> None:
    history = [
        attempt(1, CallResult.FAILED, dt.timedelta(minutes=5)),
        attempt(1, CallResult.FAILED, dt.timedelta(minutes=3), slot_id=8),
    ]
    assert called(decide(SLOT, [candidate(1)], history, NOW, POLICY, lines_in_use=0)) == [1]


def test_parallel_offers_and_lines_are_capped() -> None:
    people = [candidate(n) for n in range(1, 8)]
    in_flight = [attempt(1, CallResult.PENDING, dt.timedelta(seconds=20))]
    assert called(decide(SLOT, people, in_flight, NOW, POLICY, lines_in_use=1)) == [2, 3]
    assert called(decide(SLOT, people, in_flight, NOW, POLICY, lines_in_use=9)) == [2]
    assert decide(SLOT, people, in_flight, NOW, POLICY, lines_in_use=10) == WaitUntil(
        NOW + POLICY.offer_hold, WaitReason.LINES_BUSY
    )
    three = [attempt(n, CallResult.PENDING, dt.timedelta(seconds=20)) for n in (1, 2, 3)]
    assert decide(SLOT, people, three, NOW, POLICY, lines_in_use=3) == WaitUntil(
        NOW + POLICY.offer_hold, WaitReason.CALLS_IN_FLIGHT
    )


def test_everyone_asked_but_calls_in_flight_waits_for_them() -> None:
    in_flight = [attempt(1, CallResult.PENDING, dt.timedelta(seconds=20))]
    assert decide(SLOT, [candidate(1)], in_flight, NOW, POLICY, lines_in_use=1) == WaitUntil(
        NOW + POLICY.offer_hold, WaitReason.CALLS_IN_FLIGHT
    )


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide(SLOT, [], [], NOW.replace(tzinfo=None), POLICY, lines_in_use=0)


# ------------------------------------------------------------------ configuration


def test_policy_comes_from_settings_and_rejects_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DIALER__TOTAL_LINES", "4")
    monkeypatch.setenv("HOTLINE_DIALER__CALLING_START", "08:30")
    settings_ = Settings()
    assert settings_.dialer.total_lines == 4
    assert settings_.dialer.calling_start == dt.time(8, 30)
    for bad in (
        {"calling_start": dt.time(18), "calling_end": dt.time(9)},
        {"calling_days": frozenset({0})},
        {"do_not_call": frozenset({"not a number"})},
        {"timezone": "Mars/Olympus"},
        {"offer_hold": dt.timedelta(0)},
    ):
        with pytest.raises(ValidationError):
            DialerPolicy.model_validate(bad)


# ------------------------------------------------------------------ properties

moments = st.datetimes(
    min_value=dt.datetime(2027, 1, 1), max_value=dt.datetime(2028, 1, 1), timezones=st.just(dt.UTC)
)
results = st.sampled_from(list(CallResult))


@st.composite
def situations(
    draw: st.DrawFn,
) -> tuple[FreedSlot, list[Candidate], list[OfferAttempt], dt.datetime, DialerPolicy, int]:
    now = draw(moments)
    start_h = draw(st.integers(0, 22))
    policy = DialerPolicy(
        enabled=True,
        calling_days=frozenset(draw(st.sets(st.integers(1, 7), min_size=1))),
        calling_start=dt.time(start_h),
        calling_end=dt.time(draw(st.integers(start_h + 1, 23))),
        max_attempts_per_patient=draw(st.integers(1, 3)),
        parallel_offers_per_slot=draw(st.integers(1, 4)),
        total_lines=draw(st.integers(1, 6)),
        do_not_call=frozenset(draw(st.sets(st.sampled_from(["+8613800138001", "+8613800138002"])))),
    )
    count = draw(st.integers(0, 8))
    people = [
        Candidate(
            entry_id=n,
            patient_id=draw(st.integers(1, 6)),
            clinical_priority=draw(st.integers(1, 5)),
            waiting_since=now - dt.timedelta(hours=draw(st.integers(0, 2000))),
            phone_e164=draw(st.sampled_from([None, f"+86138001380{n:02d}"])),
            consent_to_call=draw(st.booleans()),
            last_refused_at=draw(
                st.sampled_from([None, now - dt.timedelta(days=2), now - dt.timedelta(days=9)])
            ),
        )
        for n in range(count)
    ]
    history = [
        OfferAttempt(
            patient_id=draw(st.integers(1, 6)),
            slot_id=draw(st.sampled_from([1, 2])),
            started_at=now - dt.timedelta(minutes=draw(st.integers(0, 3000))),
            result=draw(results),
        )
        for _ in range(draw(st.integers(0, 8)))
    ]
    slot = FreedSlot(
        slot_id=1,
        starts_at=now + dt.timedelta(minutes=draw(st.integers(0, 10_000))),
        free_places=draw(st.integers(0, 2)),
    )
    return slot, people, history, now, policy, draw(st.integers(0, 7))


@settings(max_examples=400, deadline=None)
@given(situations())
def test_never_breaches_the_rules(
    situation: tuple[
        FreedSlot, list[Candidate], list[OfferAttempt], dt.datetime, DialerPolicy, int
    ],
) -> None:
    slot, people, history, now, policy, lines = situation
    decision = decide(slot, people, history, now, policy, lines_in_use=lines)
    if isinstance(decision, WaitUntil):
        assert decision.at > now
        return
    if isinstance(decision, StopOffering):
        return
    chosen = decision.candidates
    assert chosen
    assert in_calling_hours(now, policy)
    assert slot.free_places > 0
    assert now <= slot.starts_at - policy.min_lead_time - policy.offer_hold
    in_flight_here = sum(1 for a in history if a.slot_id == 1 and a.result is CallResult.PENDING)
    assert len(chosen) <= policy.parallel_offers_per_slot - in_flight_here
    assert len(chosen) <= policy.total_lines - lines
    assert len({c.patient_id for c in chosen}) == len(chosen)
    assert list(chosen) == rank(chosen)
    for c in chosen:
        assert c.consent_to_call and c.phone_e164 is not None
        assert c.phone_e164 not in policy.do_not_call
        assert c.last_refused_at is None or now - c.last_refused_at >= policy.refusal_cooldown
        mine = [a for a in history if a.patient_id == c.patient_id]
        assert all(a.result is not CallResult.PENDING for a in mine)
        placed = [a for a in mine if a.result is not CallResult.FAILED]
        assert all(now - a.started_at >= policy.attempt_spacing for a in placed)
        window = [a for a in placed if now - a.started_at < policy.attempt_window]
        assert len(window) < policy.max_attempts_per_patient
