"""Benchmark: caller-ID → patient lookup and the screen-pop history query with a
seeded hospital of 1,000,000 patients, on SQLite and PostgreSQL.

    .venv/bin/python bench/store_lookup.py                # 1,000,000 patients, both engines
    .venv/bin/python bench/store_lookup.py --patients 100000 --engines sqlite

The seeded databases are kept and reused (SQLite: bench/out/store_<N>.db; PostgreSQL:
database hotline_bench_<N>), recognised by a marker file bench/out/store_<engine>_<N>.json
holding the seeding report, and checked by counting patients. Prints p50/p99 latency in
ms over ``--lookups`` random numbers (90 % known, 10 % unknown), measured three ways: the
query alone in an open session; a whole ``Database.read_session()`` per lookup, which is
what the service runs (``CallerIdentifier`` → ``StoreGateway.lookup``); and, for
comparison, a whole read-write ``Database.session()`` per lookup (BEGIN … COMMIT). On
PostgreSQL it also prints the server's own execution time of the lookup (EXPLAIN
(ANALYZE, BUFFERS) over ``--explain`` of the numbers) and one plan. Process CPU per
lookup is printed next to the wall figures: the machine may be shared, and CPU time is
what a change moves. Target (DESIGN.md): lookup p99 ≤ 1 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from figures import Figure, at_most, machine, percentile, report  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from crm_store.database import Database  # noqa: E402
from crm_store.models import Patient, PhoneNumber  # noqa: E402
from crm_store.repositories import PatientRepository  # noqa: E402
from crm_store.repositories.patients import _FIND_BY_PHONE  # noqa: E402
from crm_store.seed import seed_database  # noqa: E402

OUT = ROOT / "bench" / "out"


def prepare(engine: str, patients: int, pg_base: str) -> tuple[Database, dict[str, object]]:
    OUT.mkdir(parents=True, exist_ok=True)
    marker = OUT / f"store_{engine}_{patients}.json"
    if engine == "sqlite":
        path = OUT / f"store_{patients}.db"
        url = f"sqlite:///{path}"
    else:
        name = f"hotline_bench_{patients}"
        url = f"{pg_base.rstrip('/')}/{name}"
    database = Database(url)
    if marker.exists():
        try:
            with database.session() as session:
                count = session.scalar(select(func.count()).select_from(Patient))
            if count == patients:
                return database, {**json.loads(marker.read_text()), "reused": True}
        except Exception:
            pass
    database.dispose()
    if engine == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        admin = pg_base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    database = Database(url)
    database.migrate()
    print(f"[{engine}] seeding {patients:,} patients ...", flush=True)
    report = seed_database(database, patients=patients, seed=42)
    if engine == "postgresql":
        with psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as raw:
            raw.execute("VACUUM ANALYZE")
    else:
        with database.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    info = {
        "patients": report.patients,
        "phone_numbers": report.phone_numbers,
        "appointments": report.appointments,
        "calls": report.calls,
        "seconds": round(report.seconds, 1),
        "patients_per_second": round(report.patients_per_second),
        "phases": {k: round(v, 1) for k, v in report.phases.items()},
    }
    marker.write_text(json.dumps(info, indent=2))
    return database, {**info, "reused": False}


def server_times(database: Database, numbers: list[str]) -> tuple[list[float], str]:
    """The lookup's execution time inside PostgreSQL (EXPLAIN ANALYZE), per number, and
    the plan of the first known number, with buffers."""
    compiled = _FIND_BY_PHONE.compile(dialect=database.engine.dialect)
    sql = str(compiled)
    times: list[float] = []
    plan = ""
    with database.engine.connect() as conn:
        for number in numbers:
            params = {**compiled.params, "e164": number}
            rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).all()
            lines = [row[0] for row in rows]
            times.extend(
                float(line.split(":")[1].split()[0])
                for line in lines
                if line.startswith("Execution Time")
            )
            if not plan and any("rows=1 " in line and "actual" in line for line in lines):
                plan = "\n".join(f"    {line}" for line in lines)
    return times, plan


def measure(database: Database, lookups: int, rng: random.Random) -> dict[str, float]:
    with database.session() as session:
        max_id = session.scalar(select(func.max(PhoneNumber.id)))
        assert max_id is not None, "the store has no phone numbers"
        ids = [rng.randrange(1, max_id + 1) for _ in range(lookups)]
        known = dict(
            session.execute(
                select(PhoneNumber.id, PhoneNumber.e164).where(PhoneNumber.id.in_(ids[:lookups]))
            ).all()
        )
    numbers = []
    for index, number_id in enumerate(ids):
        if index % 10 == 9 or number_id not in known:
            numbers.append(f"+86170{rng.randrange(10**8):08d}")  # nobody's number
        else:
            numbers.append(known[number_id])
    warm = numbers[:500]
    results: dict[str, float] = {}

    # 1. The query alone, in an open session (what a batch or a pinned worker sees).
    with database.session() as session:
        repo = PatientRepository(session)
        for number in warm:
            repo.find_by_phone(number)
        samples = []
        patient_ids = []
        cpu = time.thread_time()
        for number in numbers:
            began = time.perf_counter()
            matches = repo.find_by_phone(number)
            samples.append((time.perf_counter() - began) * 1000)
            if matches:
                patient_ids.append(matches[0].patient_id)
        results["lookup_cpu_us"] = (time.thread_time() - cpu) / len(numbers) * 1e6
    results["lookup_p50"] = percentile(samples, 0.50)
    results["lookup_p99"] = percentile(samples, 0.99)
    results["lookup_mean"] = statistics.fmean(samples)

    # 2. A whole read session per lookup, as the service runs it (StoreGateway.lookup),
    # and 2b. a whole read-write session per lookup (BEGIN … COMMIT), for comparison.
    for key, opened in (("lookup_session", database.read_session), ("lookup_rw", database.session)):
        for number in warm:
            with opened() as session:
                PatientRepository(session).find_by_phone(number)
        samples = []
        cpu = time.thread_time()
        for number in numbers:
            began = time.perf_counter()
            with opened() as session:
                PatientRepository(session).find_by_phone(number)
            samples.append((time.perf_counter() - began) * 1000)
        results[f"{key}_cpu_us"] = (time.thread_time() - cpu) / len(numbers) * 1e6
        results[f"{key}_p50"] = percentile(samples, 0.50)
        results[f"{key}_p99"] = percentile(samples, 0.99)

    # 3. Screen-pop history (one statement) for the matched patients.
    samples = []
    with database.session() as session:
        repo = PatientRepository(session)
        for patient_id in patient_ids[:200]:
            repo.history(patient_id)
        for patient_id in patient_ids:
            began = time.perf_counter()
            repo.history(patient_id)
            samples.append((time.perf_counter() - began) * 1000)
    results["history_p50"] = percentile(samples, 0.50)
    results["history_p99"] = percentile(samples, 0.99)
    results["matched"] = len(patient_ids)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--explain", type=int, default=1000, help="numbers to EXPLAIN ANALYZE on PostgreSQL"
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("HOTLINE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without database name",
    )
    args = parser.parse_args()

    print(f"machine: {machine()}")
    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"psycopg {psycopg.__version__}"
    )
    for engine in args.engines.split(","):
        database, seeded = prepare(engine, args.patients, args.pg)
        try:
            if engine == "postgresql":
                with database.engine.connect() as conn:
                    version = conn.exec_driver_sql("SHOW server_version").scalar()
                label = f"PostgreSQL {version} (127.0.0.1, TCP)"
            else:
                label = f"SQLite {sqlite3.sqlite_version} (WAL, file)"
            figures = measure(database, args.lookups, random.Random(1))
            if engine == "postgresql" and args.explain:
                rng = random.Random(2)
                with database.session() as session:
                    sample = [
                        str(n)
                        for n in session.scalars(
                            select(PhoneNumber.e164).where(
                                PhoneNumber.id.in_(
                                    [rng.randrange(1, args.patients) for _ in range(args.explain)]
                                )
                            )
                        )
                    ]
                server, plan = server_times(database, sample)
            else:
                server, plan = [], ""
        finally:
            database.dispose()
        how = "reused, seeded earlier" if seeded["reused"] else "seeded now"
        print(
            f"\n== {label}: {seeded['patients']:,} patients, "
            f"{seeded['phone_numbers']:,} numbers, {seeded['appointments']:,} appointments, "
            f"{seeded['calls']:,} calls ({how})"
        )
        print(
            f"seeding: {seeded['seconds']} s, {seeded['patients_per_second']:,} patients/s "
            f"(whole hospital; phases {seeded['phases']})"
        )
        print(
            f"caller-ID lookup, query in open session ({args.lookups:,} numbers): "
            f"p50 {figures['lookup_p50']:.3f} ms, p99 {figures['lookup_p99']:.3f} ms, "
            f"mean {figures['lookup_mean']:.3f} ms, "
            f"client CPU {figures['lookup_cpu_us']:.0f} us/lookup"
        )
        print(
            f"caller-ID lookup, read session per lookup (the service's): "
            f"p50 {figures['lookup_session_p50']:.3f} ms, "
            f"p99 {figures['lookup_session_p99']:.3f} ms, "
            f"client CPU {figures['lookup_session_cpu_us']:.0f} us/lookup   [target p99 <= 1 ms]"
        )
        print(
            f"caller-ID lookup, read-write session per lookup (BEGIN..COMMIT): "
            f"p50 {figures['lookup_rw_p50']:.3f} ms, p99 {figures['lookup_rw_p99']:.3f} ms, "
            f"client CPU {figures['lookup_rw_cpu_us']:.0f} us/lookup"
        )
        if server:
            print(
                f"caller-ID lookup inside PostgreSQL (EXPLAIN ANALYZE, {len(server):,} numbers): "
                f"p50 {percentile(server, 0.50):.3f} ms, p99 {percentile(server, 0.99):.3f} ms"
                f"\n  plan of one lookup:\n{plan}"
            )
        workload = f"{seeded['patients']:,} patients, {args.lookups:,} random numbers (10% unknown)"
        report(
            Figure(
                f"lookup_p99_ms_{engine}",
                figures["lookup_session_p99"],
                "ms",
                f"{workload}; a whole read session per lookup, as the service runs it",
                at_most(1.0),
                f"query alone in an open session: p99 {figures['lookup_p99']:.3f} ms",
            )
        )
        report(
            Figure(
                f"history_p99_ms_{engine}",
                figures["history_p99"],
                "ms",
                f"screen-pop history in one statement, {seeded['patients']:,} patients",
            )
        )
        report(
            Figure(
                f"seed_patients_per_s_{engine}",
                float(seeded["patients_per_second"]),  # type: ignore[arg-type]
                "patients/s",
                f"the whole sample hospital of {seeded['patients']:,} patients ({how})",
            )
        )
        print(
            f"screen-pop history, one statement ({figures['matched']:,} patients):    "
            f"p50 {figures['history_p50']:.3f} ms, p99 {figures['history_p99']:.3f} ms"
        )


if __name__ == "__main__":
    main()
