"""Benchmark: the screen pop's likely matches for an unknown caller, in the seeded hospital
of bench/store_lookup.py (1,000,000 patients, reused if already seeded).

    .venv/bin/python bench/likely_matches.py                  # SQLite, 1,000,000 patients
    .venv/bin/python bench/likely_matches.py --engines sqlite,postgresql

Callers: 40 % a known number garbled (no "+"), 30 % an unknown number next to a known one
(suggestions only for fixed lines), 30 % a name as given in the IVR. One open session,
as the pop desk's store read. Prints p50/p99 in ms (target: p99 <= 5 ms, a pop's budget).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures import Figure, at_most, machine, percentile, report  # noqa: E402
from sqlalchemy import select  # noqa: E402
from store_lookup import prepare  # noqa: E402

from crm_store.database import Database  # noqa: E402
from crm_store.models import Patient, PhoneNumber  # noqa: E402
from crm_store.repositories.likely_patients import LikelyPatientFinder  # noqa: E402


def callers(
    database: Database, count: int, rng: random.Random
) -> list[tuple[str | None, str | None]]:
    with database.session() as session:
        numbers = list(session.scalars(select(PhoneNumber.e164).limit(200_000)))
        names = list(session.scalars(select(Patient.full_name).limit(200_000)))
    cases: list[tuple[str | None, str | None]] = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.4:
            cases.append((rng.choice(numbers)[1:], None))
        elif draw < 0.7:
            cases.append((rng.choice(numbers)[:-2] + "99", None))
        else:
            cases.append((None, rng.choice(names)))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=5_000)
    parser.add_argument("--engines", default="sqlite")
    parser.add_argument(
        "--pg",
        default=os.environ.get("HOTLINE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432"),
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for engine in args.engines.split(","):
        database, _seeded = prepare(engine, args.patients, args.pg)
        try:
            cases = callers(database, args.lookups, random.Random(1))
            samples: list[float] = []
            suggested = 0
            with database.session() as session:
                finder = LikelyPatientFinder(session)
                for number, name in cases[:200]:  # warm the caches
                    finder.find(number, name)
                for number, name in cases:
                    began = time.perf_counter()
                    suggested += bool(finder.find(number, name))
                    samples.append((time.perf_counter() - began) * 1000)
        finally:
            database.dispose()
        workload = (
            f"{engine}, {args.patients:,} patients, {len(cases):,} unknown callers "
            f"({suggested:,} with suggestions)"
        )
        report(Figure("likely_matches_p50_ms", percentile(samples, 0.50), "ms", workload))
        report(
            Figure("likely_matches_p99_ms", percentile(samples, 0.99), "ms", workload, at_most(5.0))
        )


if __name__ == "__main__":
    main()
