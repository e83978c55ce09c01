"""Benchmark: building a supervisor's month report from the store (SQLite).

    .venv/bin/python bench/reports.py
    .venv/bin/python bench/reports.py --calls 50000 --months-before 2 --samples 15

Workload: a migrated SQLite file holding, for the reported month, ``--calls`` queued
calls (``acd_calls``: 6 queues, 40 agents, 85 % answered after 0-60 s, talks of
1-10 min), as many inbound ``calls`` rows, an IVR session per call with 1-4 turns
(``ivr_sessions`` / ``ivr_turns``: a third finished in the IVR, some hung up at a step)
``--calls``/100 complaints, and ``--calls``/50 places freed for the dialer to refill
(``slot_refills`` with their slot, cancelled appointment and 1-3 offer calls each in
``dialer_calls``: 55 % refilled by the dialer, 5 % booked by someone else first, the
rest too soon, exhausted or still open); and the same again for each of
``--months-before`` earlier months, so the month is read out of bigger tables. Each sample times
``ReportRepository.load`` (the aggregating SQL) and ``build_report`` (figures, queues,
agents, days) for the month, in a fresh session, and then the same without the indexes
migration 0009_report_indexes added (dropped for that sample, created again after it).
Baseline, same run: the way without SQL aggregation — the month's ``acd_calls`` rows read
as ORM objects and the figures computed in Python (``screenpop.reports.compute_report``).
The brief's bar: "well under a second". ``--months-before 11`` reads the month out of a
year of history, where the indexes matter more.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import zoneinfo
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures import Figure, at_most, machine, percentile, report  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from crm_store.database import Database  # noqa: E402
from crm_store.enums import (  # noqa: E402
    AppointmentStatus,
    BookingChannel,
    CallDirection,
    ComplaintCategory,
    ComplaintStatus,
    DialerCallResult,
    FreedBy,
    OfferOutcome,
    PreferredLanguage,
    RefillStatus,
)
from crm_store.models import (  # noqa: E402
    AcdCall,
    Appointment,
    Base,
    Call,
    ClinicSession,
    Complaint,
    Department,
    DialerCall,
    Doctor,
    IvrSession,
    IvrTurn,
    Patient,
    Slot,
    SlotRefill,
    WaitlistEntry,
    WaitlistOffer,
)
from crm_store.repositories.reports import ReportRepository  # noqa: E402
from screenpop.reports import CallRecord, Report, build_report, compute_report  # noqa: E402

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
QUEUES = ["appointments", "results", "billing", "complaints", "vip", "general"]
STEPS = ["main.menu", "identity.dob", "booking.choose_slot", "booking.confirm", "info.hours"]
BATCH = 5_000
#: Added for the reports by migration 0009_report_indexes.
REPORT_INDEXES = (
    "ix_ivr_sessions_started_at",
    "ix_complaints_created_at",
    "ix_complaint_status_changes_to_status_changed_at",
)
#: Patients on the waitlist whom the dialer phones (ids 1..PATIENTS, one entry each).
PATIENTS = 500
#: How a refill ended, and how often (the rest of a month's places).
REFILL_ENDS = {
    RefillStatus.FILLED: 55,  # by the dialer
    RefillStatus.OPEN: 5,
    RefillStatus.TOO_SOON: 15,
    RefillStatus.EXHAUSTED: 20,
    None: 5,  # booked by someone else before the dialer's patient said yes
}


def month_start(year: int, month: int) -> dt.datetime:
    """The start of a month (``month`` may run below 1: months before ``year``)."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.datetime(year, month, 1, tzinfo=ZONE).astimezone(dt.UTC)


def insert_rows(database: Database, tables: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    with database.session() as session:
        for model, rows in tables:
            for i in range(0, len(rows), BATCH):
                session.execute(insert(model), rows[i : i + BATCH])


def seed_schedule(database: Database, year: int) -> None:
    """A department, a doctor and PATIENTS waitlisted patients for the dialer to phone."""
    patients = [
        {"id": n, "mrn": f"B{n:07d}", "full_name": f"Patient {n}"} for n in range(1, PATIENTS + 1)
    ]
    entries = [
        {
            "id": n,
            "patient_id": n,
            "department_id": 1,
            "earliest_date": dt.date(year, 1, 1),
            "latest_date": dt.date(year, 12, 31),
            "consent_to_call": True,
        }
        for n in range(1, PATIENTS + 1)
    ]
    insert_rows(
        database,
        [
            (Department, [{"id": 1, "code": "BENCH", "name_zh": "门诊", "name_en": "Clinic"}]),
            (Doctor, [{"id": 1, "department_id": 1, "name_zh": "医生", "name_en": "Doctor"}]),
            (Patient, patients),
            (WaitlistEntry, entries),
        ],
    )


def seed_refills(
    database: Database, start: dt.datetime, end: dt.datetime, places: int, first_id: int
) -> None:
    """``places`` places freed over ``[start, end)``, each in its own slot (a day or two
    later), with the cancelled appointment, the offer calls made and the outcome."""
    rng = random.Random(-first_id)
    span = (end - start).total_seconds()
    sessions: list[dict[str, Any]] = []
    slots: list[dict[str, Any]] = []
    appointments: list[dict[str, Any]] = []
    refills: list[dict[str, Any]] = []
    offers: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    ends = rng.choices(list(REFILL_ENDS), list(REFILL_ENDS.values()), k=places)
    for n, ending in enumerate(ends):
        key = first_id + n
        freed = start + dt.timedelta(seconds=rng.random() * (span - 3600))
        # Whole minutes plus the key in seconds keep (doctor, starts_at) unique.
        starts = freed.replace(second=0, microsecond=0) + dt.timedelta(
            days=1 + rng.random(), seconds=key % 60
        )
        starts += dt.timedelta(microseconds=key % 1_000_000)
        sessions.append(
            {
                "id": key,
                "doctor_id": 1,
                "department_id": 1,
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(hours=4),
            }
        )
        slots.append(
            {
                "id": key,
                "session_id": key,
                "department_id": 1,
                "doctor_id": 1,
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(minutes=15),
            }
        )
        appointments.append(
            {
                "id": 2 * key,
                "reference": f"{2 * key % 10**9:09d}",
                "patient_id": rng.randint(1, PATIENTS),
                "slot_id": key,
                "status": AppointmentStatus.CANCELLED,
                "booked_by": BookingChannel.IVR,
                "booked_at": freed - dt.timedelta(days=7),
                "cancelled_at": freed,
                "cancelled_by": BookingChannel.IVR,
            }
        )
        n_calls = 1 if ending is None else rng.randint(1, 3)
        at = freed + dt.timedelta(seconds=30)
        for c in range(n_calls):
            last = c == n_calls - 1
            accepted = last and ending is RefillStatus.FILLED
            patient = rng.randint(1, PATIENTS)
            offer_id = key * 4 + c
            result = (
                DialerCallResult.ACCEPTED
                if accepted
                else rng.choice(
                    [
                        DialerCallResult.NO_ANSWER,
                        DialerCallResult.DECLINED,
                        DialerCallResult.MACHINE,
                    ]
                )
            )
            ended = at + dt.timedelta(seconds=rng.uniform(20, 90))
            offers.append(
                {
                    "id": offer_id,
                    "entry_id": patient,
                    "slot_id": key,
                    "offered_at": at,
                    "outcome": OfferOutcome.ACCEPTED if accepted else OfferOutcome.REFUSED,
                    "responded_at": ended,
                    "appointment_id": 2 * key + 1 if accepted else None,
                }
            )
            calls.append(
                {
                    "refill_id": key,
                    "offer_id": offer_id,
                    "patient_id": patient,
                    "number_e164": f"+8613800{patient:06d}",
                    "started_at": at,
                    "answered_at": at + dt.timedelta(seconds=10),
                    "ended_at": ended,
                    "result": result,
                }
            )
            at = ended + dt.timedelta(minutes=rng.uniform(1, 20))
        filled = ending is RefillStatus.FILLED
        if filled:
            appointments.append(
                {
                    "id": 2 * key + 1,
                    "reference": f"{(2 * key + 1) % 10**9:09d}",
                    "patient_id": calls[-1]["patient_id"],
                    "slot_id": key,
                    "status": AppointmentStatus.BOOKED,
                    "booked_by": BookingChannel.DIALER,
                    "booked_at": at,
                }
            )
        refills.append(
            {
                "id": key,
                "slot_id": key,
                "freed_appointment_id": 2 * key,
                "freed_by": FreedBy.CANCELLED,
                "freed_at": freed,
                "status": RefillStatus.FILLED if ending is None else ending,
                "closed_at": None if ending is RefillStatus.OPEN else at,
                "filled_appointment_id": 2 * key + 1 if filled else None,
            }
        )
    insert_rows(
        database,
        [
            (ClinicSession, sessions),
            (Slot, slots),
            (Appointment, appointments),
            (SlotRefill, refills),
            (WaitlistOffer, offers),
            (DialerCall, calls),
        ],
    )


def seed_month(
    database: Database, start: dt.datetime, end: dt.datetime, calls: int, first_id: int
) -> None:
    """``calls`` calls spread over ``[start, end)`` with their IVR sessions and turns."""
    rng = random.Random(first_id)
    span = (end - start).total_seconds()
    acd: list[dict[str, Any]] = []
    inbound: list[dict[str, Any]] = []
    sessions: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    complaints: list[dict[str, Any]] = []
    for n in range(calls):
        key = f"{first_id + n}"
        arrived = start + dt.timedelta(seconds=rng.random() * (span - 3600))
        inbound.append({"linkedid": key, "direction": CallDirection.INBOUND, "arrived_at": arrived})
        session_id = first_id + n
        steps = rng.randint(1, 4)
        outcome = rng.choices(["completed", "to_agent", "caller_hangup"], [33, 57, 10])[0]
        sessions.append(
            {
                "id": session_id,
                "linkedid": key,
                "flow": "main",
                "language": PreferredLanguage.MANDARIN,
                "started_at": arrived,
                "ended_at": arrived + dt.timedelta(seconds=20 * steps),
                "outcome": outcome,
                "identity_verified": False,
            }
        )
        turns += [
            {
                "session_id": session_id,
                "seq": i + 1,
                "step": STEPS[min(i, len(STEPS) - 1)] if i else "main.menu",
                "started_at": arrived + dt.timedelta(seconds=20 * i),
            }
            for i in range(steps)
        ]
        queued = arrived + dt.timedelta(seconds=20 * steps)
        row: dict[str, Any] = {
            "call_key": key,
            "queue": rng.choice(QUEUES),
            "priority": "normal",
            "queued_at": queued,
            "offers": 1,
            "abandoned": False,
        }
        wait = rng.uniform(0, 60)
        if rng.random() < 0.85:
            answered = queued + dt.timedelta(seconds=wait)
            row.update(
                answered_by=f"{1000 + rng.randrange(40)}",
                answered_at=answered,
                wait_s=wait,
                ended_at=answered + dt.timedelta(seconds=rng.uniform(60, 600)),
            )
        else:
            row.update(abandoned=True, wait_s=wait, ended_at=queued + dt.timedelta(seconds=wait))
        acd.append(row)
        if n % 100 == 0:
            closed = rng.random() < 0.6
            complaints.append(
                {
                    "ticket_number": f"{(first_id + n) % 10**9:09d}",
                    "category": ComplaintCategory.SERVICE,
                    "opened_via": BookingChannel.IVR,
                    "description": "bench",
                    "status": ComplaintStatus.CLOSED if closed else ComplaintStatus.OPEN,
                    "created_at": arrived,
                    "updated_at": arrived,
                }
            )
    insert_rows(
        database,
        [
            (AcdCall, acd),
            (Call, inbound),
            (IvrSession, sessions),
            (IvrTurn, turns),
            (Complaint, complaints),
        ],
    )
    seed_refills(database, start, end, calls // 50, first_id)


def orm_baseline(database: Database, start: dt.datetime, end: dt.datetime) -> float:
    """Milliseconds to read the month's rows as objects and compute in Python."""
    began = time.perf_counter()
    with database.session() as session:
        rows = session.scalars(
            select(AcdCall).where(AcdCall.queued_at >= start, AcdCall.queued_at < end)
        ).all()
        records = [
            CallRecord(
                arrived_at=r.queued_at,
                ended_at=r.ended_at,
                queue=r.queue,
                queued_at=r.queued_at,
                agent=r.answered_by,
                answered_at=r.answered_at,
            )
            for r in rows
        ]
    compute_report(records, [], start=start, end=end, zone=ZONE)
    return (time.perf_counter() - began) * 1000


def timed_report(database: Database, start: dt.datetime, end: dt.datetime) -> tuple[float, Report]:
    """Milliseconds to load and build the month's report in a fresh session."""
    began = time.perf_counter()
    with database.session() as session:
        data = ReportRepository(session).load(start=start, end=end, target_s=20.0)
    result = build_report(data, zone=ZONE)
    return (time.perf_counter() - began) * 1000, result


def report_indexes(create: bool, database: Database) -> None:
    """Create or drop the indexes migration 0009_report_indexes added."""
    indexes = [
        i for t in Base.metadata.tables.values() for i in t.indexes if i.name in REPORT_INDEXES
    ]
    assert len(indexes) == len(REPORT_INDEXES)
    with database.engine.begin() as connection:
        for index in indexes:
            (index.create if create else index.drop)(connection)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=50_000, help="calls in the month")
    parser.add_argument("--months-before", type=int, default=2)
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    start, end = month_start(2030, 3), month_start(2030, 4)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-reports-") as tmp:
        database = Database(f"sqlite:///{tmp}/bench.db")
        database.migrate()
        began = time.perf_counter()
        seed_schedule(database, 2030)
        seed_month(database, start, end, args.calls, 1)
        for m in range(args.months_before):
            earlier = month_start(2030, 2 - m)
            later = month_start(2030, 3 - m)
            seed_month(database, earlier, later, args.calls, (m + 1) * 10_000_000)
        total = args.calls * (1 + args.months_before)
        print(f"seeded {total:,} calls (with IVR sessions and turns) and "
              f"{total // 50:,} refills in "
              f"{time.perf_counter() - began:.1f} s")  # fmt: skip

        # With and without the report indexes in turn, so that the machine's load (shared
        # cores) weighs on both alike.
        samples: list[float] = []
        before: list[float] = []
        for _ in range(args.samples):
            elapsed, result = timed_report(database, start, end)
            samples.append(elapsed)
            report_indexes(False, database)
            before.append(timed_report(database, start, end)[0])
            report_indexes(True, database)
        baseline = [orm_baseline(database, start, end) for _ in range(max(3, args.samples // 5))]
        database.dispose()
    print(
        f"month: {result.total.offered:,} offered, service level "
        f"{(result.total.service_level or 0) * 100:.1f} %, {len(result.agents)} agents, "
        f"{len(result.buckets)} days, IVR containment {(result.ivr_containment or 0) * 100:.1f} %"
    )
    dialer = result.dialer
    assert dialer is not None
    print(
        f"dialer: {dialer.freed:,} places freed, {dialer.filled_by_dialer:,} refilled "
        f"(fill rate {(dialer.fill_rate or 0) * 100:.1f} %), {dialer.calls:,} offer calls"
    )
    median = statistics.median(samples)
    print(
        f"report: median {median:.0f} ms, p95 {percentile(samples, 0.95):.0f} ms "
        f"over {len(samples)} samples; without the report indexes (0009): median "
        f"{statistics.median(before):.0f} ms, p95 {percentile(before, 0.95):.0f} ms; "
        f"ORM rows + Python: median {statistics.median(baseline):.0f} ms"
    )
    report(
        Figure(
            name="report_month_ms",
            value=round(median, 1),
            unit="ms",
            workload=(
                f"month report (ReportRepository.load + build_report) over "
                f"{args.calls:,} calls with IVR sessions and {args.calls // 50:,} dialer "
                f"refills, in a SQLite store of {total:,} calls; median of {len(samples)}"
            ),
            target=at_most(1000),
            baseline=(
                f"same run without the report indexes of 0009: median "
                f"{statistics.median(before):.0f} ms; the month read as ORM rows and "
                f"computed in Python: median {statistics.median(baseline):.0f} ms"
            ),
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
