"""AMI event ingest of the CTI core, full pipeline, against a bare panoramisk loop.

Replays a real AMI stream, captured from the project's Asterisk while the demo's calls
ran (``hotline demo --capture-ami bench/data/ami-demo-calls.txt.gz``: IVR greeting, caller
ID lookups, hand-over to the queue, hostile caller ID), many times over as new calls (new
ids, channel names and caller numbers), cut into 8 KB socket reads, through:

* baseline: panoramisk's own protocol and Manager with a no-op event callback;
* Hotline: the hardened framing/parsing, the event bus, the call tracker, patient
  lookup and the call journal writing to SQLite (a file in a temporary directory).

Prints events/s for both, with the machine and the workload. One core (asyncio).
Run: .venv/bin/python bench/ami_ingest.py [--copies 500] [--capture FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from pathlib import Path

from figures import Figure, at_least, machine, report
from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol

from crm_store.database import Database
from crm_store.gateway import StoreGateway
from cti.ami import AmiClient, _HardenedProtocol
from cti.ami_recorder import load_capture
from cti.bus import EventBus
from cti.call_tracking import CallJournal, CallTrackingService
from cti.caller_identification import CallerIdentifier
from cti.tracker import CallTracker

CAPTURE = Path(__file__).resolve().parent / "data" / "ami-demo-calls.txt.gz"
_ID = re.compile(r"(?m)^(\w*(?:Uniqueid|Linkedid)): ([^\r]+)\r$")
_CHANNEL = re.compile(r"-([0-9a-f]{8})(?=[;\r,])")
_NUMBER = re.compile(r"(?m)^(\w*CallerIDNum): (\+?\d{3,}?)(\d{4})\r$")


def copy_of(capture: str, k: int) -> str:
    """The captured calls again as new calls: other ids, channel names, caller numbers."""
    text = _ID.sub(lambda m: f"{m[1]}: {k}-{m[2]}\r", capture)
    text = _CHANNEL.sub(lambda m: f"-{(int(m[1], 16) + (k << 16)) & 0xFFFFFFFF:08x}", text)
    return _NUMBER.sub(lambda m: f"{m[1]}: {m[2]}{(int(m[3]) + k) % 10_000:04d}\r", text)


def stream(capture_path: Path, copies: int, read_size: int) -> tuple[list[bytes], int, int]:
    """``copies`` replays of a capture, cut into socket reads of ``read_size`` bytes
    (frames split across reads, as TCP delivers them). Returns reads, events, calls."""
    capture = load_capture(capture_path).decode()
    data = "".join(copy_of(capture, k) for k in range(copies)).encode()
    events = data.count(b"\r\nEvent: ") + data.startswith(b"Event: ")
    calls = capture.count("UserEvent: HotlineCall\r\n")
    reads = [data[i : i + read_size] for i in range(0, len(data), read_size)]
    return reads, events, calls * copies


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
    # as _BackoffManager.connection_made wires them
    protocol.event_sink = ami._publish_event
    protocol.event_wanted = ami._event_wanted
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
    parser.add_argument("--copies", type=int, default=500, help="replays of the capture")
    parser.add_argument("--capture", type=Path, default=CAPTURE)
    parser.add_argument("--read-size", type=int, default=8192)
    args = parser.parse_args()
    chunks, total, calls = stream(args.capture, args.copies, args.read_size)
    base = await baseline(chunks, total)
    with tempfile.TemporaryDirectory() as tmp:
        rate, written = await hotline(chunks, total, Path(tmp) / "bench.db")
    workload = (
        f"{args.capture.name} replayed {args.copies} times: {calls:,} calls, {total:,} AMI "
        f"events, {args.read_size} B reads"
    )
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
