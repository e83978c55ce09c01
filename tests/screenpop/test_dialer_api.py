"""The dialer's operator API: running offers, each slot's refill history and the
figures — patient lists for supervisors only, figures for administrators too, every
patient shown audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from crm_store.database import Database
from crm_store.enums import (
    AuditAction,
    AuditEntity,
    BookingChannel,
    DialerCallResult,
    ReminderKind,
)
from crm_store.models import Appointment, AuditLogEntry
from crm_store.repositories import AppointmentRepository
from crm_store.repositories.dialer import DialerRepository
from crm_store.repositories.reminders import ReminderRepository
from cti.dialer.figures import refill_figures
from tests.dialer.builders import build_clinic
from tests.screenpop.conftest import Console

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
NUMBERS = ["+8613800138101", "+8613800138102", "+8613800138103"]


@dataclass
class Refills:
    filled_slot: int
    open_slot: int
    patients: dict[str, int]
    in_flight_offer: int


def make_refills(database: Database, refills: list[Refills]) -> None:
    """Slot A: a decline, then an accept 12 minutes after the cancellation. Slot B: one
    call still ringing."""
    with database.session() as session:
        a = build_clinic(session, now=NOW - dt.timedelta(days=1), numbers=NUMBERS, tag="A")
        b = build_clinic(session, now=NOW - dt.timedelta(days=1), numbers=NUMBERS[:1], tag="B")
        for clinic in (a, b):
            AppointmentRepository(session).cancel(
                clinic.booked_reference, cancelled_by=BookingChannel.AGENT, now=NOW
            )
        repo = DialerRepository(session)
        refill_a, refill_b = repo.discover_freed(now=NOW, starting_after=NOW)
        for minutes, number, result in (
            (2, NUMBERS[0], DialerCallResult.DECLINED),
            (11, NUMBERS[1], DialerCallResult.ACCEPTED),
        ):
            at = NOW + dt.timedelta(minutes=minutes)
            offer = repo.start_call(
                refill_id=refill_a,
                entry_id=a.entries[number],
                slot_id=a.slot_id,
                patient_id=a.waitlisted[number],
                number_e164=number,
                now=at,
            )
            done = at + dt.timedelta(minutes=1)
            if result is DialerCallResult.ACCEPTED:
                repo.accept(offer, now=done)
            else:
                repo.finish_call(offer, result, now=done)
        ringing = repo.start_call(
            refill_id=refill_b,
            entry_id=b.entries[NUMBERS[0]],
            slot_id=b.slot_id,
            patient_id=b.waitlisted[NUMBERS[0]],
            number_e164=NUMBERS[0],
            now=NOW,
        )
        survey = ReminderRepository(session).start(
            appointment_id=session.scalar(select(func.min(Appointment.id))) or 0,
            patient_id=b.waitlisted[NUMBERS[0]],
            number_e164=NUMBERS[0],
            now=NOW,
            kind=ReminderKind.FOLLOW_UP,
        )
        ReminderRepository(session).record_answers(
            survey, {"satisfaction": 1, "feeling_better": 2}, complete=True, now=NOW
        )
    refills.append(
        Refills(a.slot_id, b.slot_id, {**a.waitlisted, "b": b.waitlisted[NUMBERS[0]]}, ringing)
    )


async def test_supervisor_sees_offers_history_and_figures(make_console: object) -> None:
    made: list[Refills] = []
    console: Console = await make_console(  # type: ignore[operator]
        before_start=lambda database, _patients: make_refills(database, made)
    )
    [refills] = made
    async with console.client() as client:
        await console.login(client, "supervisor")
        offers = (await client.get("/api/dialer/offers")).json()["offers"]
        assert [(o["offer_id"], o["patient_id"], o["result"]) for o in offers] == [
            (refills.in_flight_offer, refills.patients["b"], "pending")
        ]
        history = (await client.get(f"/api/dialer/refills?slot_id={refills.filled_slot}")).json()
        [refill] = history["refills"]
        assert refill["status"] == "filled" and refill["freed_by"] == "cancelled"
        assert [c["result"] for c in refill["calls"]] == ["declined", "accepted"]
        assert refill["filled_appointment_id"] is not None

        figures = (await client.get("/api/dialer/figures?days=7")).json()
        assert figures["freed"] == 2 and figures["open"] == 1
        assert figures["filled_by_dialer"] == 1 and figures["fill_rate"] == 1.0
        assert figures["median_minutes_to_fill"] == 12.0
        assert figures["calls_per_fill"] == 2.0
        assert figures["revenue_recovered"] == 50.0 and figures["currency"] == "CNY"

        reminders = (await client.get("/api/dialer/reminders?kind=follow_up")).json()
        [survey] = reminders["calls"]
        assert survey["kind"] == "follow_up" and survey["result"] == "completed"
        assert survey["answers"] == {"satisfaction": 1, "feeling_better": 2}
        assert (await client.get("/api/dialer/reminders?kind=bogus")).status_code == 422

        bad = await client.get("/api/dialer/refills?limit=0")
        assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"

    with console.database.session() as session:
        seen = sorted(
            session.scalars(
                select(AuditLogEntry.entity_id).where(
                    AuditLogEntry.action == AuditAction.VIEW,
                    AuditLogEntry.entity_type == AuditEntity.PATIENT,
                )
            )
        )
    # One row per patient per view: the offers, the history, the follow-up calls.
    assert seen == sorted(
        [refills.patients["b"], *(refills.patients[n] for n in NUMBERS[:2]), refills.patients["b"]]
    )


async def test_agents_and_strangers_are_refused(console: Console) -> None:
    for path in (
        "/api/dialer/offers",
        "/api/dialer/refills",
        "/api/dialer/figures",
        "/api/dialer/reminders",
    ):
        async with console.client() as client:
            assert (await client.get(path)).status_code == 401
            await console.login(client, "agent")
            response = await client.get(path)
            assert response.status_code == 403, path
            assert response.json()["error"] == "forbidden"
        async with console.client() as client:
            await console.login(client, "admin")
            # The lists name patients (supervisors only); the figures do not.
            expected = 200 if path == "/api/dialer/figures" else 403
            assert (await client.get(path)).status_code == expected, path


def test_figures_with_nothing_closed_yet_say_so() -> None:
    empty = refill_figures([], average_fee=80, currency="CNY")
    assert (empty.freed, empty.fill_rate, empty.median_minutes_to_fill) == (0, None, None)
    assert empty.revenue_recovered == 0
