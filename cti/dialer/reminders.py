"""Day-before appointment reminders and post-visit follow-ups: which to place now (pure).

The same rules as slot offers (``DialerPolicy``): calling hours and days, do-not-call,
attempts per patient and their spacing, outbound lines. A reminder is done once the
patient confirmed or cancelled; unanswered, busy, machine, no choice or a failed
placement are tried again, up to ``max_attempts_per_patient`` calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from crm_store.enums import ReminderResult
from crm_store.repositories.reminders import DueAppointment, ReminderAttempt
from cti.dialer.config import DialerPolicy
from cti.dialer.policy import in_calling_hours

#: A reminder is over once one of these is recorded.
DONE = frozenset({ReminderResult.CONFIRMED, ReminderResult.CANCELLED, ReminderResult.COMPLETED})


def reminder_window(now: dt.datetime, policy: DialerPolicy) -> tuple[dt.datetime, dt.datetime]:
    """Appointments starting on the hospital's next calendar day are due today."""
    tomorrow = now.astimezone(policy.zone).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time(), tzinfo=policy.zone)
    end = dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time(), tzinfo=policy.zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def follow_up_window(now: dt.datetime, policy: DialerPolicy) -> tuple[dt.datetime, dt.datetime]:
    """Visits of the hospital's previous calendar day are followed up today."""
    today = now.astimezone(policy.zone).date()
    start = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(), tzinfo=policy.zone)
    end = dt.datetime.combine(today, dt.time(), tzinfo=policy.zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def reminders_to_place(
    due: Sequence[DueAppointment],
    attempts: Sequence[ReminderAttempt],
    now: dt.datetime,
    policy: DialerPolicy,
    *,
    lines_in_use: int,
) -> list[DueAppointment]:
    """The reminder (or follow-up) calls to place now, earliest appointment first.
    ``due`` holds only appointments of a switched-on kind (the caller's choice)."""
    if not policy.enabled or not in_calling_hours(now, policy):
        return []
    room = policy.total_lines - lines_in_use
    by_appointment: dict[int, list[ReminderAttempt]] = {}
    for attempt in attempts:
        by_appointment.setdefault(attempt.appointment_id, []).append(attempt)
    chosen: list[DueAppointment] = []
    patients: set[int] = set()
    for appointment in sorted(due, key=lambda a: (a.starts_at, a.appointment_id)):
        if len(chosen) >= room:
            break
        if appointment.phone_e164 is None or appointment.phone_e164 in policy.do_not_call:
            continue
        if appointment.patient_id in patients:
            continue  # one call per patient at a time (two appointments: next pass)
        history = by_appointment.get(appointment.appointment_id, [])
        if any(a.result in DONE or a.result is ReminderResult.PENDING for a in history):
            continue
        placed = [a for a in history if a.result is not ReminderResult.FAILED]
        if len(placed) >= policy.max_attempts_per_patient:
            continue
        if placed and now - max(a.started_at for a in placed) < policy.attempt_spacing:
            continue
        chosen.append(appointment)
        patients.add(appointment.patient_id)
    return chosen
