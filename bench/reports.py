"""Benchmark: building a supervisor's month report from the store (SQLite).

    .venv/bin/python bench/reports.py
    .venv/bin/python bench/reports.py --calls 50000 --months-before 2 --samples 15

Workload: a migrated SQLite file holding, for the reported month, ``--calls`` queued
calls (``acd_calls``: 6 queues, 40 agents, 85 % answered after 0-60 s, talks of
1-10 min), as many inbound ``calls`` rows, an IVR session per call with 1-4 turns
(``ivr_sessions`` / ``ivr_turns``: a third finished in the IVR, some hung up at a step)
and ``--calls``/100 complaints; and the same again for each of ``--months-before``
earlier months, so the month is read out of a bigger table. Each sample times
``ReportRepository.load`` (the aggregating SQL) and ``build_report`` (figures, queues,
agents, days) for the month, in a fresh session. Baseline, same run: the way without SQL
aggregation — the month's ``acd_calls`` rows read as ORM objects and the figures computed
in Python (``screenpop.reports.compute_report``). The brief's bar: "well under a second".
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
    BookingChannel,
    CallDirection,
    ComplaintCategory,
    ComplaintStatus,
    PreferredLanguage,
)
from crm_store.models import (  # noqa: E402
    AcdCall,
    Call,
    Complaint,
    IvrSession,
    IvrTurn,
)
from crm_store.repositories.reports import ReportRepository  # noqa: E402
from screenpop.reports import CallRecord, build_report, compute_report  # noqa: E402

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
QUEUES = ["appointments", "results", "billing", "complaints", "vip", "general"]
STEPS = ["main.menu", "identity.dob", "booking.choose_slot", "booking.confirm", "info.hours"]
BATCH = 5_000


def month_start(year: int, month: int) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=ZONE).astimezone(dt.UTC)


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
    with database.session() as session:
        for model, rows in (
            (AcdCall, acd),
            (Call, inbound),
            (IvrSession, sessions),
            (IvrTurn, turns),
            (Complaint, complaints),
        ):
            for i in range(0, len(rows), BATCH):
                session.execute(insert(model), rows[i : i + BATCH])


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
        seed_month(database, start, end, args.calls, 1)
        for m in range(args.months_before):
            earlier = month_start(2030, 2 - m)
            later = month_start(2030, 3 - m)
            seed_month(database, earlier, later, args.calls, (m + 1) * 10_000_000)
        total = args.calls * (1 + args.months_before)
        print(f"seeded {total:,} calls (with IVR sessions and turns) in "
              f"{time.perf_counter() - began:.1f} s")  # fmt: skip

        samples: list[float] = []
        result = None
        for _ in range(args.samples):
            began = time.perf_counter()
            with database.session() as session:
                data = ReportRepository(session).load(start=start, end=end, target_s=20.0)
            result = build_report(data, zone=ZONE)
            samples.append((time.perf_counter() - began) * 1000)
        baseline = [orm_baseline(database, start, end) for _ in range(max(3, args.samples // 5))]
        database.dispose()
    assert result is not None
    print(
        f"month: {result.total.offered:,} offered, service level "
        f"{(result.total.service_level or 0) * 100:.1f} %, {len(result.agents)} agents, "
        f"{len(result.buckets)} days, IVR containment {(result.ivr_containment or 0) * 100:.1f} %"
    )
    median = statistics.median(samples)
    print(
        f"report: median {median:.0f} ms, p95 {percentile(samples, 0.95):.0f} ms "
        f"over {len(samples)} samples; ORM rows + Python: median "
        f"{statistics.median(baseline):.0f} ms"
    )
    report(
        Figure(
            name="report_month_ms",
            value=round(median, 1),
            unit="ms",
            workload=(
                f"month report (ReportRepository.load + build_report) over "
                f"{args.calls:,} calls with IVR sessions, in a SQLite store of "
                f"{total:,} calls; median of {len(samples)}"
            ),
            target=at_most(1000),
            baseline=(
                f"same month read as ORM rows and computed in Python: median "
                f"{statistics.median(baseline):.0f} ms"
            ),
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
