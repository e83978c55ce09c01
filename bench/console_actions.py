"""Benchmark: the agent console's actions, browser request → response, through the real
web server, store and audit.

    .venv/bin/python bench/console_actions.py
    .venv/bin/python bench/console_actions.py --patients 5000 --samples 300

Workload: a SQLite store with ``--patients`` patients (each with a number) and one
department whose doctors have a free single-place slot every 15 minutes for the next weeks
(capacity ≥ the samples). Each sample offers a new call, for another patient, to the signed
-in agent on the bus (``acd.offered``, as the ACD publishes it; the pop desk reads the
patient's history), then times, as an httpx client on loopback sees them: the free slots of
the department (``GET …/slots``), booking the first one (``POST …/appointments``: the
atomic booking and its audit row in one transaction) and the pop read again
(``GET …/pop``: history + audit row). No target in DESIGN.md; the pop itself is measured
in bench/screen_pop.py.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from figures import Figure, machine, percentile, report  # noqa: E402

from acd.model import PriorityClass  # noqa: E402
from acd.service import CallOffered  # noqa: E402
from crm_store.database import Database  # noqa: E402
from crm_store.enums import Role  # noqa: E402
from crm_store.gateway import StoreGateway  # noqa: E402
from crm_store.repositories.patients import PatientRepository  # noqa: E402
from crm_store.repositories.schedule import ScheduleRepository  # noqa: E402
from crm_store.repositories.users import UserRepository  # noqa: E402
from cti.bus import EventBus  # noqa: E402
from cti.handover import Handover  # noqa: E402
from cti.settings import Settings  # noqa: E402
from ivr.flows import Findings, Identity  # noqa: E402
from screenpop.app import create_app  # noqa: E402
from screenpop.server import WebServer  # noqa: E402

PASSWORD = "bench-pass-123"


def seed(database: Database, patients: int, slots_needed: int) -> tuple[list[int], int]:
    with database.session() as session:
        UserRepository(session).create(
            username="agent", display_name="Agent", role=Role.AGENT, password=PASSWORD
        )
        repo = PatientRepository(session)
        ids = [
            repo.create(
                mrn=f"B{i:07d}",
                full_name=f"Patient {i}",
                numbers=[(f"1380{i:07d}", None)],
                chronic=i % 7 == 0,
            )
            for i in range(patients)
        ]
        schedule = ScheduleRepository(session)
        department = schedule.add_department(code="CARD", name_zh="心内科", name_en="Cardiology")
        start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        made = 0
        day = 1
        while made < slots_needed:
            for n in range(4):
                doctor = schedule.add_doctor(
                    department_id=department, name_zh=f"医生{day}-{n}", name_en=f"Dr. {day}-{n}"
                )
                begins = start + dt.timedelta(days=day, hours=n)
                made += len(
                    schedule.add_session(
                        doctor_id=doctor, starts_at=begins, ends_at=begins + dt.timedelta(hours=8)
                    )
                )
            day += 1
    return ids, department


def offered(call_id: str, patient_id: int) -> CallOffered:
    findings = Findings(
        reason="caller_asked", language="zh", identity=Identity.VERIFIED,
        patient_id=str(patient_id), patient_name=None, intent="book", intents=("book",),
        step="agent", slots={}, turns=2, last_heard="预约",
    )  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    handover = Handover(call_id, f"PJSIP/t-{call_id}", "general", "caller_asked", None, "zh",
                        findings, now)  # fmt: skip
    return CallOffered(call_id, "agent", "general", PriorityClass.NORMAL, False, 5.0, handover, now)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{tmp}/bench.db")
        database.migrate()
        t0 = time.perf_counter()
        patients, department = seed(database, args.patients, args.samples + 50)
        print(f"seeded {args.patients} patients in {time.perf_counter() - t0:.1f} s")
        store, bus = StoreGateway(database), EventBus()
        settings = Settings(state_dir=Path(tmp) / "s", cache_dir=Path(tmp) / "c", web_port=28791)
        app = create_app(store=store, bus=bus, settings=settings)
        server = WebServer(app, settings, graceful_shutdown_s=2)
        await server.start()
        timings: dict[str, list[float]] = {"slots": [], "book": [], "pop": []}
        try:
            async with httpx.AsyncClient(
                base_url=server.url, headers={"Accept": "application/json"}, timeout=10
            ) as client:
                login = await client.post(
                    "/login", data={"username": "agent", "password": PASSWORD}
                )
                assert login.status_code == 303, login.text
                for i in range(args.samples):
                    call_id = f"1800000000.{i + 1}"
                    bus.publish("acd.offered", offered(call_id, patients[i % len(patients)]))
                    # The pop desk offers no event to await; poll until it holds the call.
                    while app.state.services.pops.held_by("agent", call_id) is None:  # noqa: ASYNC110
                        await asyncio.sleep(0.001)
                    base = f"/api/console/calls/{call_id}"
                    t = time.perf_counter()
                    slots = await client.get(f"{base}/slots", params={"department_id": department})
                    timings["slots"].append(time.perf_counter() - t)
                    slot_id = slots.json()["slots"][0]["slot_id"]
                    t = time.perf_counter()
                    booked = await client.post(f"{base}/appointments", json={"slot_id": slot_id})
                    timings["book"].append(time.perf_counter() - t)
                    assert booked.status_code == 201, booked.text
                    t = time.perf_counter()
                    pop = await client.get(f"{base}/pop")
                    timings["pop"].append(time.perf_counter() - t)
                    assert pop.status_code == 200
        finally:
            await server.stop()
            await bus.close()
            store.close()
            database.dispose()
    workload = (
        f"SQLite, {args.patients} patients, {args.samples} calls offered one after another, "
        "httpx client on loopback"
    )
    print(f"machine: {machine()}")
    print(f"workload: {workload}")
    for name, what in (
        ("slots", "free slots listed"),
        ("book", "appointment booked (with audit row)"),
        ("pop", "pop read again (with audit row)"),
    ):
        samples = [s * 1000 for s in timings[name]]
        p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
        print(f"{what}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        report(Figure(f"console_{name}_p99_ms", p99, "ms", f"{what}; {workload}"))


if __name__ == "__main__":
    asyncio.run(main())
