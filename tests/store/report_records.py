"""A known day of call records for the report tests, stored through the repositories,
and the figures computed by hand from it (see each record's comment).

Queue targets: appointments 20 s (the default), complaints 3 s.
"""

from __future__ import annotations

import datetime as dt

from crm_store.database import Database
from crm_store.enums import (
    BookingChannel,
    CallDirection,
    ComplaintCategory,
    ComplaintStatus,
    PreferredLanguage,
)
from crm_store.models import Call
from crm_store.repositories.acd import AcdRepository
from crm_store.repositories.complaints import ComplaintRepository
from crm_store.repositories.ivr import IvrRepository

QUEUE_TARGETS = {"complaints": 3.0}
DEFAULT_TARGET_S = 20.0


def seed_report_day(database: Database, start: dt.datetime) -> None:
    """Records of the day beginning at ``start`` (plus some just outside it)."""

    def at(hours: float, seconds: float = 0) -> dt.datetime:
        return start + dt.timedelta(hours=hours, seconds=seconds)

    with database.session() as session:
        acd = AcdRepository(session)

        def call(key: str, queue: str, queued: dt.datetime) -> None:
            acd.call_queued(key, queue=queue, priority="normal", patient_id=None, at=queued)

        # c1: answered by 1001 after 10 s, talked 120 s.
        call("c1", "appointments", at(9))
        acd.call_answered("c1", "1001", at(9, 10))
        acd.call_ended("c1", at(9, 130))
        # c2: answered by 1002 after exactly 20 s (within the target), talked 300 s.
        call("c2", "appointments", at(9))
        acd.call_answered("c2", "1002", at(9, 20))
        acd.call_ended("c2", at(9, 320))
        # c3: abandoned after 50 s.
        call("c3", "appointments", at(9.5))
        acd.call_abandoned("c3", at(9.5, 50))
        # c4: queued on the hour (hour 10), answered by 1001 after 5 s — over the
        # complaints queue's 3 s target — talked 60 s.
        call("c4", "complaints", at(10))
        acd.call_answered("c4", "1001", at(10, 5))
        acd.call_ended("c4", at(10, 65))
        # c5: answered by 1002 after 40 s, still talking (no handle time yet).
        call("c5", "appointments", at(10.25))
        acd.call_answered("c5", "1002", at(10.25, 40))
        # Outside the day: a second before it, and at its very end.
        call("c6", "appointments", at(0, -1))
        call("c7", "appointments", at(24))
        acd.call_answered("c7", "1001", at(24, 1))

        # Inbound calls the CTI saw: three in the day, one outbound, one the day before.
        for n, (hours, direction) in enumerate(
            [
                (9, CallDirection.INBOUND),
                (9.5, CallDirection.INBOUND),
                (10, CallDirection.INBOUND),
                (11, CallDirection.OUTBOUND),
                (-2, CallDirection.INBOUND),
            ]
        ):
            session.add(Call(linkedid=f"r{n}", direction=direction, arrived_at=at(hours)))

        ivr = IvrRepository(session)

        def session_with(n: int, hours: float, steps: list[str], outcome: str | None) -> None:
            sid = ivr.start_session(
                linkedid=f"i{n}", flow="main", language=PreferredLanguage.MANDARIN, now=at(hours)
            )
            for i, step in enumerate(steps):
                ivr.add_turn(sid, step=step, now=at(hours, 5 * i))
            if outcome is not None:
                ivr.end_session(sid, outcome=outcome, now=at(hours, 60))

        session_with(1, 8, ["main.menu", "info.hours"], "completed")  # contained
        session_with(2, 8.5, ["main.menu"], "to_agent")
        session_with(3, 9, ["main.menu", "booking.choose_slot"], "caller_hangup")
        session_with(4, 9.5, ["main.menu"], "caller_hangup")
        session_with(5, 10, [], "caller_hangup")  # hung up before the first prompt: "?"
        session_with(6, 11, ["main.menu"], None)  # still in the IVR
        session_with(7, -3, ["main.menu"], "caller_hangup")  # the day before

        complaints = ComplaintRepository(session)

        def complaint(opened: dt.datetime) -> str:
            return complaints.open(
                category=ComplaintCategory.SERVICE,
                description="waited too long",
                opened_via=BookingChannel.IVR,
                now=opened,
            )

        # Opened in the day, closed in it.
        a = complaint(at(9))
        complaints.change_status(a, ComplaintStatus.CLOSED, now=at(12))
        # Opened in the day, closed after it.
        b = complaint(at(10))
        complaints.change_status(b, ComplaintStatus.CLOSED, now=at(30))
        # Opened before, closed, reopened and closed again in the day: one closed.
        c = complaint(at(-30))
        complaints.change_status(c, ComplaintStatus.CLOSED, now=at(1))
        complaints.change_status(c, ComplaintStatus.OPEN, now=at(2))
        complaints.change_status(c, ComplaintStatus.CLOSED, now=at(3))
