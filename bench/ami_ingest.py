"""AMI event ingest of the CTI core, full pipeline, against a bare panoramisk loop.

Feeds the same byte stream of Asterisk-shaped channel events (5 calls' worth of events
per 20 ms frame of socket data, like a busy link) through:

* baseline: panoramisk's own protocol and Manager with a no-op event callback;
* Hotline: the hardened framing/parsing, the event bus, the call tracker, patient
  lookup and the call journal writing to SQLite (a file in a temporary directory).

Prints events/s for both, with the machine and the workload. One core (asyncio).
Run: .venv/bin/python bench/ami_ingest.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from figures import Figure, at_least, machine, report
from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol

from crm_store.database import Database
from crm_store.gateway import StoreGateway
from cti.ami import AmiClient, _HardenedProtocol
from cti.bus import EventBus
from cti.call_tracking import CallJournal, CallTrackingService
from cti.caller_identification import CallerIdentifier
from cti.tracker import CallTracker

SNAPSHOT = (
    "Channel: {channel}\r\nChannelState: {state}\r\nChannelStateDesc: {desc}\r\n"
    "CallerIDNum: {num}\r\nCallerIDName: <unknown>\r\nConnectedLineNum: <unknown>\r\n"
    "ConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\n"
    "Context: hotline-inbound\r\nExten: s\r\nPriority: 1\r\nUniqueid: {uid}\r\n"
    "Linkedid: {linked}\r\n"
)


def call_events(n: int, t0: float) -> list[str]:
    """The channel events of one simulated inbound call with an agent leg."""
    linked = f"{int(t0)}.{2 * n}"
    agent = f"{int(t0)}.{2 * n + 1}"
    num = f"1380013{n % 10000:04d}"
    caller = {"channel": f"PJSIP/trunk-{n:08x}", "uid": linked, "linked": linked, "num": num}
    leg = {"channel": f"PJSIP/1001-{n:08x}", "uid": agent, "linked": linked, "num": "1001"}

    def event(name: str, at: float, fields: dict[str, str], state: str, extra: str = "") -> str:
        desc = {"4": "Ring", "5": "Ringing", "6": "Up"}[state]
        return (
            f"Event: {name}\r\nPrivilege: call,all\r\nTimestamp: {at:.6f}\r\n"
            + SNAPSHOT.format(state=state, desc=desc, **fields)
            + extra
            + "\r\n"
        )

    return [
        event("Newchannel", t0, caller, "4"),
        event(
            "UserEvent", t0 + 0.01, caller, "4", "UserEvent: HotlineCall\r\nDirection: inbound\r\n"
        ),
        event("Newstate", t0 + 0.02, caller, "6"),
        event("Newchannel", t0 + 5, leg, "4"),
        event("Newstate", t0 + 6, leg, "5"),
        event("Newstate", t0 + 8, leg, "6"),
        event("Hangup", t0 + 60, leg, "6", "Cause: 16\r\nCause-txt: Normal Clearing\r\n"),
        event("Hangup", t0 + 60.1, caller, "6", "Cause: 16\r\nCause-txt: Normal Clearing\r\n"),
    ]


def stream(calls: int) -> tuple[list[bytes], int]:
    t0 = time.time()
    events = [e for n in range(calls) for e in call_events(n, t0 + n * 0.001)]
    chunks = [
        "".join(events[i : i + 40]).encode()  # 5 calls' events per socket read
        for i in range(0, len(events), 40)
    ]
    return chunks, len(events)


async def baseline(chunks: list[bytes], total: int) -> float:
    manager = Manager(loop=asyncio.get_running_loop())
    seen = 0

    def count(_manager: Manager, _event: object) -> None:
        nonlocal seen
        seen += 1

    manager.register_event("*", count)
    protocol = AMIProtocol()
    protocol.connection_made(transport=None)
    protocol.factory = manager
    started = time.perf_counter()
    for chunk in chunks:
        protocol.data_received(chunk)
    elapsed = time.perf_counter() - started
    assert seen == total, (seen, total)
    return total / elapsed


async def hotline(chunks: list[bytes], total: int, db_path: Path) -> tuple[float, int]:
    database = Database(f"sqlite:///{db_path}")
    database.migrate()
    store = StoreGateway(database)
    bus = EventBus()
    ami = AmiClient(host="127.0.0.1", port=1, username="x", secret="x", bus=bus)
    tracker = CallTracker(region="CN")
    journal = CallJournal(store)
    journal.start()
    tracking = CallTrackingService(
        bus=bus,
        ami=ami,
        tracker=tracker,
        journal=journal,
        identifier=CallerIdentifier(store, region="CN"),
    )
    await tracking.start()
    protocol = _HardenedProtocol()
    protocol.connection_made(transport=None)
    protocol.factory = ami._manager
    protocol.event_sink = ami._publish_event  # as _BackoffManager.connection_made wires it
    started = time.perf_counter()
    for i, chunk in enumerate(chunks):
        protocol.data_received(chunk)
        if i % 25 == 0:
            await asyncio.sleep(0)  # the socket reader yields between reads
    await bus.drain()
    await asyncio.gather(*tracking._lookups)
    await bus.drain()
    await journal.flush()
    elapsed = time.perf_counter() - started
    written = journal.written
    await tracking.close()
    await journal.close()
    await bus.close()
    store.close()
    database.dispose()
    return total / elapsed, written


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    chunks, total = stream(args.calls)
    base = await baseline(chunks, total)
    with tempfile.TemporaryDirectory() as tmp:
        rate, written = await hotline(chunks, total, Path(tmp) / "bench.db")
    workload = f"{args.calls} calls, {total} AMI events (8 per call, 2 legs), 40 per read"
    print(f"machine: {machine()}")
    print(f"workload: {workload}")
    print(f"baseline panoramisk, no-op callback : {base:>9,.0f} events/s")
    print(f"Hotline full pipeline (SQLite)      : {rate:>9,.0f} events/s  (target >= 20,000)")
    print(f"call snapshots written to the store : {written:,} (coalesced per batch)")
    report(
        Figure(
            "ami_ingest_events_per_s",
            rate,
            "events/s",
            f"{workload}; parse, bus, tracker, lookup, SQLite journal; one core",
            at_least(20_000),
            f"bare panoramisk with a no-op callback: {base:,.0f} events/s",
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
