"""Benchmark: screen-pop latency, AMI event → pop message in the agent's browser socket,
with 100 calls in progress.

    .venv/bin/python bench/screen_pop.py
    .venv/bin/python bench/screen_pop.py --agents 100 --samples 500

Pipeline measured (all real Hotline parts, one process): the AMI event that makes a call
routable (``UserEvent HotlineWait``: the caller is parked) published on the event bus as
the AMI client publishes it → ACD service (routing decision, agent state machine, ring
action) → ``acd.offered`` → pop desk (the patient's history from SQLite in one round
trip) → the agent's WebSocket route (audit row written, JSON sent) → a websockets client
on loopback. Clock: the event's receipt time (``AmiEvent.received_at``, as the AMI client
stamps it) to the client's receipt.

Not measured: Asterisk itself and the AMI socket (the AMI client's parse-and-publish is
measured in bench/ami_ingest.py); the ring action goes to a stand-in AMI that accepts it.

Workload: ``--agents`` agents (each a console user with an open socket), every one of them
holding a ringing call (100 calls in progress); each sample hangs up one agent's caller and
parks a new caller, a known patient, who is then offered to that agent.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from figures import Figure, at_most, machine, percentile, report  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from acd.model import Agent, Queue  # noqa: E402
from acd.service import AcdService  # noqa: E402
from crm_store.database import Database  # noqa: E402
from crm_store.enums import Role  # noqa: E402
from crm_store.gateway import StoreGateway  # noqa: E402
from crm_store.repositories.patients import PatientRepository  # noqa: E402
from crm_store.repositories.users import UserRepository  # noqa: E402
from cti.ami import AmiEvent  # noqa: E402
from cti.bus import EventBus  # noqa: E402
from cti.handover import HANDOVER_TOPIC, Handover  # noqa: E402
from cti.settings import Settings  # noqa: E402
from ivr.flows import Findings, Identity  # noqa: E402
from screenpop.app import create_app  # noqa: E402
from screenpop.server import WebServer  # noqa: E402

PASSWORD = "bench-pass-123"


class AcceptingAmi:
    """Stands in for the AMI link: accepts every action (Originate, Hangup)."""

    connected = True

    def __init__(self) -> None:
        self.sent = 0

    def on_login(self, _hook: Any) -> None:
        """The link never drops here: nothing to resynchronise."""

    async def send(self, _action: Any) -> None:
        self.sent += 1


def handover(call_id: str, patient_id: int) -> Handover:
    findings = Findings(
        reason="caller_asked",
        language="zh",
        identity=Identity.VERIFIED,
        patient_id=str(patient_id),
        patient_name=None,
        intent="book",
        intents=("book",),
        step="agent",
        slots={},
        turns=2,
        last_heard="预约",
    )
    now = dt.datetime.now(dt.UTC)
    channel = f"PJSIP/trunk-{call_id}"
    return Handover(call_id, channel, "general", "caller_asked", None, "zh", findings, now)


def ami_event(name: str, **fields: str) -> AmiEvent:
    return AmiEvent(name, {"Event": name, **fields}, time.time())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--port", type=int, default=28990)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hotline-bench-pop-"))
    database = Database(f"sqlite:///{work / 'bench.db'}")
    database.migrate()
    with database.session() as session:
        users = UserRepository(session)
        patients = PatientRepository(session)
        for i in range(args.agents):
            users.create(
                username=f"a{i}", display_name=f"Agent {i}", role=Role.AGENT, password=PASSWORD
            )
        patient_ids = [
            patients.create(
                mrn=f"MRN-{i}", full_name=f"病人{i}", numbers=[(f"1380000{i:04d}", None)]
            )
            for i in range(args.agents)
        ]
    store = StoreGateway(database)
    bus = EventBus()
    settings = Settings(state_dir=work / "state", cache_dir=work / "cache", web_port=args.port)
    server = WebServer(create_app(store=store, bus=bus, settings=settings), settings)
    await server.start()
    ws_url = server.url.replace("http://", "ws://") + "/ws/pops"

    queue = Queue("general", skill="general", language="zh", ring_timeout_s=3600)
    agents = [
        Agent(f"a{i}", skills={"general": 2}, languages={"zh": 5}) for i in range(args.agents)
    ]
    phones = {a.id: f"PJSIP/{a.id}" for a in agents}
    service = AcdService.build(
        bus=bus,
        ami=AcceptingAmi(),
        queues=[queue],
        agents=agents,
        phones=phones,  # type: ignore[arg-type]
    )
    await service.start()

    arrivals: dict[str, float] = {}
    latencies: list[float] = []
    got: dict[str, asyncio.Event] = {}

    async def reader(ws: ClientConnection) -> None:
        async for raw in ws:
            now = time.time()
            message = json.loads(raw)
            if message["type"] == "pop":
                call_id = message["pop"]["call_id"]
                if call_id in arrivals:
                    latencies.append((now - arrivals[call_id]) * 1000)
                got.setdefault(call_id, asyncio.Event()).set()

    sockets: list[ClientConnection] = []
    tasks: list[asyncio.Task[None]] = []
    async with httpx.AsyncClient(base_url=server.url, follow_redirects=False) as client:
        for agent in agents:
            client.cookies.clear()
            response = await client.post(
                "/login", data={"username": agent.id, "password": PASSWORD}
            )
            token = response.cookies["hotline_session"]
            ws = await connect(
                ws_url,
                additional_headers={"Origin": server.url, "Cookie": f"hotline_session={token}"},
            )
            sockets.append(ws)
            tasks.append(asyncio.create_task(reader(ws)))
    for agent in agents:
        service.login(agent.id)

    serial = 0

    async def park(agent_index: int, measure: bool) -> str:
        nonlocal serial
        serial += 1
        call_id = f"1800000000.{serial}"
        bus.publish(HANDOVER_TOPIC, handover(call_id, patient_ids[agent_index]))
        await bus.drain()
        event = ami_event("UserEvent", UserEvent="HotlineWait", Phase="waiting", Uniqueid=call_id)
        if measure:
            arrivals[call_id] = event.received_at
        got.setdefault(call_id, asyncio.Event())
        bus.publish("ami.UserEvent", event)
        await asyncio.wait_for(got[call_id].wait(), 10)
        return call_id

    # Fill: every agent rings for one call (the calls in progress).
    held: dict[str, str] = {}
    for i, agent in enumerate(agents):
        held[agent.id] = await park(i, measure=False)
    in_progress = len(service.held)

    for k in range(args.samples):
        i = k % len(agents)
        agent_id = agents[i].id
        bus.publish("ami.Hangup", ami_event("Hangup", Uniqueid=held[agent_id]))
        await bus.drain()
        held[agent_id] = await park(i, measure=True)

    workload = (
        f"{args.agents} agents with open sockets, {in_progress} calls in progress (ringing), "
        f"{len(latencies)} pops measured, SQLite store, audit on; AMI socket and Asterisk "
        "not included (bench/ami_ingest.py measures the AMI side)"
    )
    print(f"machine: {machine()}")
    print(f"workload: {workload}")
    print(
        "screen pop, AMI event (bus) -> agent socket: "
        f"p50 {statistics.median(latencies):.2f} ms, p99 {percentile(latencies, 0.99):.2f} ms, "
        f"max {max(latencies):.2f} ms"
    )
    report(Figure("screen_pop_p50_ms", statistics.median(latencies), "ms", workload))
    report(Figure("screen_pop_p99_ms", percentile(latencies, 0.99), "ms", workload, at_most(50)))

    for task in tasks:
        task.cancel()
    for ws in sockets:
        await ws.close()
    await service.close()
    await server.stop()
    await bus.close()
    store.close()
    database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
