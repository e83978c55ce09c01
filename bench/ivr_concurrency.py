"""Concurrent keypad IVR calls through the real Asterisk and the whole Hotline service.

    .venv/bin/python bench/ivr_concurrency.py [--levels 10,25,50] [--late-ms 1000]

Each simulated caller (AMI-originated Local channel into [hotline-inbound]) runs the
production Mandarin flow by keypad: main menu "5" (complaint status) → a 9-digit ticket
number and "#" → "2" (no more help) → goodbye. Keys are played on the caller's half of
the channel (AMI PlayDTMF) as soon as the IVR says it listens at the step
(``ivr.listening`` on the bus), so every turn of every call is timed: last key sent → the IVR
listening at the next step (AGI digit read, action on the store, next prompt from the
cache and its STREAM FILE started). A turn is late beyond --late-ms; a call is dropped
when its journey does not finish within 60 s. Levels run in order and the run stops at
the first level with a late or dropped turn. Asterisk runs as its own instance
"ivr-bench" (ports +470).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from figures import Figure, at_least, machine, percentile, report

from crm_store.enums import BookingChannel, ComplaintCategory
from crm_store.repositories import ComplaintRepository
from cti.asterisk.provisioner import AsteriskRunner
from cti.errors import AmiActionFailed
from cti.service import Hotline
from cti.settings import Environment, Settings
from cti.simulator import SimulatedCaller, place_call
from ivr.call_adapter import LISTENING_TOPIC, Listening

OFFSET = 470
JOURNEY_S = 60.0


@dataclass
class Journey:
    uniqueid: str = ""
    channel: str = ""
    events: asyncio.Queue[Listening] = field(default_factory=asyncio.Queue)


async def run_level(hotline: Hotline, ticket: str, calls: int, late_s: float) -> bool:
    journeys: dict[str, Journey] = {}

    def on_listen(_topic: str, event: Listening) -> None:
        journey = journeys.get(event.uniqueid)
        if journey is not None:
            journey.events.put_nowait(event)

    sub = hotline.bus.subscribe(f"bench-listen-{calls}", [LISTENING_TOPIC], on_listen)
    turns: list[float] = []
    menu_turns: list[float] = []
    dropped = 0

    async def one(k: int) -> None:
        nonlocal dropped
        caller = SimulatedCaller(number=f"1390000{k:04d}", hold_s=int(JOURNEY_S) + 30)
        placed = await place_call(hotline.ami, caller)
        journey = Journey(placed.uniqueid, placed.channel)
        journeys[placed.uniqueid] = journey
        caller_half = placed.channel[:-1] + "2"

        async def reach(step: str) -> None:
            while (await journey.events.get()).step != step:
                pass

        async def press(digits: str) -> float:
            """Key ``digits``; when the last key was sent (the turn's clock starts)."""
            for digit in digits:
                await hotline.ami.send(
                    {"Action": "PlayDTMF", "Channel": caller_half, "Digit": digit, "Duration": "80"}
                )
            return time.monotonic()

        try:
            async with asyncio.timeout(JOURNEY_S):
                await reach("main.menu")
                for keys, following in (
                    ("5", "complaints.status"),
                    (ticket + "#", "main.anything_else"),
                ):
                    sent = await press(keys)
                    await reach(following)
                    turns.append(time.monotonic() - sent)
                    if keys == "5":
                        menu_turns.append(turns[-1])
                await press("2")
        except (TimeoutError, AmiActionFailed):
            dropped += 1
        finally:
            try:
                await hotline.ami.send({"Action": "Hangup", "Channel": placed.channel})
            except AmiActionFailed:
                pass  # the flow already said goodbye and hung up

    started = time.monotonic()
    await asyncio.gather(*(one(k) for k in range(calls)))
    elapsed = time.monotonic() - started
    await asyncio.sleep(2.0)  # let the IVR finish writing the ended sessions
    await hotline.bus.unsubscribe(sub)
    late = sum(1 for t in turns if t > late_s)
    if turns:
        print(
            f"  {calls:4d} concurrent calls: {len(turns)} timed turns, last key → next listening "
            f"p50 {statistics.median(turns) * 1000:6.0f} ms, "
            f"p99 {percentile(turns, 0.99) * 1000:6.0f} ms, "
            f"max {max(turns) * 1000:6.0f} ms; late {late}, dropped calls {dropped} "
            f"(level took {elapsed:.1f} s)"
        )
        print(
            f"        menu key → next step listening (no prompt in between): p50 "
            f"{statistics.median(menu_turns) * 1000:.0f} ms, "
            f"p99 {percentile(menu_turns, 0.99) * 1000:.0f} ms"
        )
    else:
        print(f"  {calls:4d} concurrent calls: no turn completed; dropped calls {dropped}")
    return late == 0 and dropped == 0


def bench_settings(root: Path) -> Settings:
    shared = Settings().effective_chroot_dir
    return Settings(
        environment=Environment.DEVELOPMENT,
        state_dir=root / "state",
        cache_dir=root / "cache",
        database_url=f"sqlite:///{root / 'bench.db'}",
        asterisk_chroot_dir=shared,
        asterisk_instance_name="ivr-bench",
        ami_host="127.0.0.1",
        agi_host="127.0.0.1",
        web_host="127.0.0.1",
        ami_port=25038 + OFFSET,
        agi_port=24573 + OFFSET,
        asterisk_sip_port=25060 + OFFSET,
        web_port=28080 + OFFSET,
        audiosocket_port=14575 + OFFSET,
    )


async def bench(
    runner: AsteriskRunner, settings: Settings, levels: list[int], late_s: float
) -> None:
    hotline = await Hotline.start(settings, runner.layout)
    try:
        ticket = await hotline.store.write(
            lambda s: ComplaintRepository(s).open(
                category=ComplaintCategory.OTHER,
                description="bench",
                opened_via=BookingChannel.AGENT,
            )
        )
        # One call first: renders the journey's prompts into the cache (as
        # `hotline prompts render` does before service), so levels measure serving.
        await run_level(hotline, ticket, 1, float("inf"))
        print(f"levels (late: a turn over {late_s * 1000:.0f} ms):")
        carried = 0
        for calls in levels:
            if not await run_level(hotline, ticket, calls, late_s):
                print(f"  stopped: {calls} concurrent keypad calls had a late or dropped turn")
                break
            carried = calls
        report(
            Figure(
                "concurrent_ivr_calls_keypad",
                carried,
                "calls",
                f"production zh flow by keypad, 3 keyed turns a call, levels {levels} tried; "
                f"carried = highest level with no turn over {late_s * 1000:.0f} ms and no call "
                "dropped; real Asterisk, SQLite, one process",
                at_least(1000),
            )
        )
    finally:
        await hotline.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", default="10,25,50")
    parser.add_argument("--late-ms", type=float, default=1000.0)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    print(f"machine: {machine()}")
    print(
        "workload: production zh flow by keypad, 3 keyed turns a call (menu, ticket "
        "number, anything else), Hotline in one process with SQLite, real Asterisk 22"
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(Path(tmp))
        runner = AsteriskRunner(settings, stop_at_exit=True)
        runner.down()
        runner.up(timeout_s=120)
        try:
            asyncio.run(bench(runner, settings, levels, args.late_ms / 1000))
        finally:
            runner.down()


if __name__ == "__main__":
    main()
