"""Benchmark: wallboard update latency, ACD bus event → wallboard message in supervisors'
browser sockets.

    .venv/bin/python bench/wallboard.py
    .venv/bin/python bench/wallboard.py --agents 50 --boards 10 --samples 200

Pipeline measured (all real Hotline parts, one process): an AMI event as the AMI client
publishes it on the bus (``UserEvent HotlineWait``: a caller parked; ``Hangup``: the
caller gave up) → ACD service → ``acd.queued`` / ``acd.abandoned`` → the wallboard feed
(ACD snapshot, view model, compare) → every supervisor's ``/ws/wallboard`` route (JSON
sent) → websockets clients on loopback. Two figures per sample:

* *live*: the caller's arrival to the board showing them waiting (snapshot only);
* *rows*: the caller's hang-up to the board counting them abandoned — that figure comes
  from the ``acd_calls`` rows, so it includes the journal's write (SQLite) and the feed's
  re-read of today's rows.

Not measured: Asterisk and the AMI socket (bench/ami_ingest.py). Workload: ``--agents``
agents all paused (so callers wait), ``--boards`` wallboard sockets open, ``--rows`` call
rows already written today; each sample parks one caller, then hangs them up.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from figures import Figure, machine, percentile, report
from screen_pop import AcceptingAmi, ami_event, handover
from websockets.asyncio.client import ClientConnection, connect

from acd.journal import AcdJournal
from acd.model import Agent, Queue
from acd.service import AcdService
from crm_store.database import Database
from crm_store.enums import Role
from crm_store.gateway import StoreGateway
from crm_store.repositories.acd import AcdRepository
from crm_store.repositories.patients import PatientRepository
from crm_store.repositories.users import UserRepository
from cti.bus import EventBus
from cti.handover import HANDOVER_TOPIC
from cti.settings import Settings
from screenpop.app import create_app
from screenpop.server import WebServer

PASSWORD = "bench-pass-123"


def seed(database: Database, args: argparse.Namespace) -> int:
    """Supervisors, one patient, and ``--rows`` call rows from earlier today."""
    now = dt.datetime.now(dt.UTC)
    with database.session() as session:
        users = UserRepository(session)
        for i in range(args.boards):
            users.create(
                username=f"s{i}", display_name=f"Sup {i}", role=Role.SUPERVISOR, password=PASSWORD
            )
        patient = PatientRepository(session).create(
            mrn="MRN-1", full_name="病人", numbers=[("13800000001", None)]
        )
        acd = AcdRepository(session)
        for i in range(args.rows):
            queued = now - dt.timedelta(seconds=5 + i % 600)
            key = f"1700000000.{i}"
            acd.call_queued(key, queue="general", priority="normal", patient_id=None, at=queued)
            if i % 5:
                acd.call_answered(key, f"a{i % args.agents}", queued + dt.timedelta(seconds=i % 40))
            else:
                acd.call_abandoned(key, queued + dt.timedelta(seconds=30))
    return patient


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--boards", type=int, default=10)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--port", type=int, default=28991)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hotline-bench-wallboard-"))
    database = Database(f"sqlite:///{work / 'bench.db'}")
    database.migrate()
    patient = seed(database, args)
    store = StoreGateway(database)
    bus = EventBus()
    settings = Settings(state_dir=work / "state", cache_dir=work / "cache", web_port=args.port)
    server = WebServer(create_app(store=store, bus=bus, settings=settings), settings)
    queue = Queue("general", skill="general", language="zh")
    agents = [
        Agent(f"a{i}", skills={"general": 2}, languages={"zh": 5}) for i in range(args.agents)
    ]
    service = AcdService.build(
        bus=bus,
        ami=AcceptingAmi(),  # type: ignore[arg-type]
        queues=[queue, Queue("vip", skill="general", language="zh")],
        agents=agents,
        phones={a.id: f"PJSIP/{a.id}" for a in agents},
    )
    server.app.state.services.acd = service
    journal = AcdJournal(bus, store)
    journal.start()
    await service.start()
    for agent in agents:
        service.login(agent.id, paused_reason="bench")  # nobody free: callers wait
    await server.start()
    ws_url = server.url.replace("http://", "ws://") + "/ws/wallboard"

    boards: list[dict[str, Any]] = [{} for _ in range(args.boards)]
    changed = asyncio.Condition()

    async def reader(index: int, ws: ClientConnection) -> None:
        async for raw in ws:
            message = json.loads(raw)
            message["received_at"] = time.time()
            async with changed:
                boards[index] = message
                changed.notify_all()

    async def all_boards(predicate: Any) -> list[float]:
        """Wait until every board satisfies ``predicate``; their receipt times."""
        async with changed:
            await asyncio.wait_for(
                changed.wait_for(lambda: all(b and predicate(b) for b in boards)), 10
            )
            return [float(b["received_at"]) for b in boards]

    sockets: list[ClientConnection] = []
    tasks: list[asyncio.Task[None]] = []
    async with httpx.AsyncClient(base_url=server.url, follow_redirects=False) as client:
        for i in range(args.boards):
            client.cookies.clear()
            response = await client.post("/login", data={"username": f"s{i}", "password": PASSWORD})
            token = response.cookies["hotline_session"]
            ws = await connect(
                ws_url,
                additional_headers={"Origin": server.url, "Cookie": f"hotline_session={token}"},
            )
            sockets.append(ws)
            tasks.append(asyncio.create_task(reader(i, ws)))

    def general(board: dict[str, Any]) -> dict[str, Any]:
        return next(q for q in board["queues"] if q["name"] == "general")  # type: ignore[no-any-return]

    await all_boards(lambda b: general(b)["waiting"] == 0)
    abandoned = general(boards[0])["abandoned"]
    live: list[float] = []
    rows: list[float] = []
    for k in range(args.samples):
        call_id = f"1800000000.{k}"
        bus.publish(HANDOVER_TOPIC, handover(call_id, patient))
        await bus.drain()
        event = ami_event("UserEvent", UserEvent="HotlineWait", Phase="waiting", Uniqueid=call_id)
        bus.publish("ami.UserEvent", event)
        seen = await all_boards(lambda b: general(b)["waiting"] == 1)
        live += [(t - event.received_at) * 1000 for t in seen]
        gone = ami_event("Hangup", Uniqueid=call_id)
        bus.publish("ami.Hangup", gone)
        abandoned += 1
        seen = await all_boards(
            lambda b, n=abandoned: general(b)["abandoned"] == n and general(b)["waiting"] == 0
        )
        rows += [(t - gone.received_at) * 1000 for t in seen]

    workload = (
        f"{args.boards} wallboard sockets, {args.agents} agents (paused), {args.rows} call "
        f"rows today, {args.samples} callers parked then abandoned; SQLite store; AMI socket "
        "and Asterisk not included"
    )
    print(f"machine: {machine()}")
    print(f"workload: {workload}")
    for name, values in (("live (caller waiting)", live), ("rows (abandoned count)", rows)):
        print(
            f"wallboard {name}, bus event -> every board: p50 {statistics.median(values):.2f} "
            f"ms, p99 {percentile(values, 0.99):.2f} ms, max {max(values):.2f} ms"
        )
    report(Figure("wallboard_live_p50_ms", statistics.median(live), "ms", workload))
    # DESIGN.md sets no target for the wallboard: the figures are reported without one.
    report(Figure("wallboard_live_p99_ms", percentile(live, 0.99), "ms", workload))
    report(Figure("wallboard_rows_p50_ms", statistics.median(rows), "ms", workload))
    report(Figure("wallboard_rows_p99_ms", percentile(rows, 0.99), "ms", workload))

    for task in tasks:
        task.cancel()
    for ws in sockets:
        await ws.close()
    await service.close()
    await journal.close()
    await server.stop()
    await bus.close()
    store.close()
    database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
