"""Concurrent keypad IVR calls through the real Asterisk and the whole Hotline service.

    .venv/bin/python bench/ivr_concurrency.py [--levels 100,250,500,750,1000]
        [--streaming-levels 100,200,300] [--ramp-s 10] [--late-ms 1000]

Each simulated caller (AMI-originated Local channel into [hotline-inbound]) runs the
production Mandarin flow by keypad: main menu "5" (complaint status) → a 9-digit ticket
number and "#" → "2" (no more help) → goodbye. Keys arrive on the inbound channel as
received DTMF (AMI PlayDTMF with Receive, as a trunk's keys would) as soon as the IVR says
it listens at the step (``ivr.listening`` on the bus), so every turn of every call is
timed: last key sent → the IVR listening at the next step (the keys read, action on the
store, next prompt from the cache and the GET DATA that plays it sent), less the prompts
the caller heard to their end in between (the ticket's status, read out before the next
question; ``ivr.prompt_played`` says how long each played). A turn is late beyond
--late-ms; a call is dropped when its journey does not finish within 60 s. Levels run in
order and stop at the first level with a late or dropped turn. Asterisk runs as its own
instance "ivr-bench" (ports +470).

A level's callers arrive evenly over --ramp-s (1,000 callers over 10 s is 100 new calls a
second, far above a hospital's busiest hour) and each stays on until goodbye; the level
counts only if all of them were in the IVR at once (the peak is printed).

Two kinds of phone, as DESIGN.md's target is stated for keypad callers:
- quiet (the figure ``concurrent_ivr_calls_keypad``): the phone sends no audio while its
  caller is silent, as one with silence suppression (VAD/DTX) does; keys only.
- streaming (``concurrent_ivr_calls_keypad_streaming``): the phone sends a silence frame
  every 20 ms throughout, as a trunk without silence suppression does.
Beside them, Asterisk alone (no Hotline) is measured with the same simulated phones and a
prompt playing to each: what one audio frame stream costs on this machine bounds every
figure here (``asterisk_prompt_stream_cpu_ms_per_s``).

The simulated phones (placing calls, keying answers: an AMI action per key) run in a
process of their own, as phones are not Hotline; the IVR's notices reach them over a pipe.
Each level prints the CPU it cost per call: Hotline's process, Asterisk, the phones.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from figures import Figure, at_least, machine, percentile, report

from crm_store.enums import BookingChannel, ComplaintCategory
from crm_store.repositories import ComplaintRepository
from cti.ami import AmiClient
from cti.asterisk.media import write_silence
from cti.asterisk.provisioner import AsteriskRunner
from cti.bus import EventBus
from cti.errors import AmiActionFailed
from cti.service import Hotline
from cti.settings import Environment, Settings
from cti.simulator import SimulatedCaller, originate_action
from cti.tracker import CallTracker
from ivr.call_adapter import LISTENING_TOPIC, PROMPT_PLAYED_TOPIC, Listening, PromptPlayed

OFFSET = 470
JOURNEY_S = 60.0
#: Between two keys of one answer: a key lasts 100 ms and Asterisk spaces them, so a
#: phone's keys arrive no faster than this; sent faster, they queue in Asterisk and the
#: turn's clock would start before its last key reached the IVR.
KEY_GAP_S = 0.15


@dataclass(frozen=True)
class CpuClock:
    """CPU seconds used so far by this process (Hotline + driver) and by Asterisk."""

    asterisk_pid: int | None

    def read(self) -> tuple[float, float]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        asterisk = 0.0
        if self.asterisk_pid is not None:
            # /proc/<pid>/stat: utime and stime are fields 14 and 15, in clock ticks.
            stat = Path(f"/proc/{self.asterisk_pid}/stat").read_text().rsplit(")", 1)[1].split()
            asterisk = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        return own.ru_utime + own.ru_stime, asterisk


@dataclass(frozen=True)
class LevelResult:
    carried: bool
    hotline_cpu_ms_per_call: float
    asterisk_cpu_ms_per_call: float
    call_s: float  # mean journey length of a call, placing to last key
    peak: int  # callers in the IVR at once


def peak_overlap(spans: list[tuple[float, float]]) -> int:
    """The most intervals open at one time."""
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    peak = open_now = 0
    for _at, step in edges:
        open_now += step
        peak = max(peak, open_now)
    return peak


async def loop_lag(samples: list[float], period_s: float = 0.01) -> None:
    """How late this process's event loop wakes a 10 ms sleeper, sample after sample:
    when turns are slow but the loop is punctual, the wait is outside Hotline (Asterisk,
    or the machine's other processes)."""
    while True:
        asked = time.monotonic()
        await asyncio.sleep(period_s)
        samples.append(time.monotonic() - asked - period_s)


@dataclass
class Journey:
    uniqueid: str = ""
    channel: str = ""
    events: asyncio.Queue[Notice] = field(default_factory=asyncio.Queue)


@dataclass(frozen=True)
class Notice:
    """What the IVR said of a call, forwarded to the phones' process: listening at
    ``step``, or (``step`` None) a prompt that played ``heard_s`` through to its end."""

    uniqueid: str
    step: str | None
    at: float  # time.monotonic(): one clock for both processes
    heard_s: float = 0.0
    channel: str = ""  # the call's channel name, when Hotline's tracker knows it


@dataclass
class Phones:
    """The level's callers as their phones saw it (sent back by the phones' process)."""

    turns: list[float] = field(default_factory=list)
    menu_turns: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)
    dropped: int = 0
    stuck: dict[str, int] = field(default_factory=dict)  # dropped calls by what they awaited
    cpu_s: float = 0.0


@dataclass(frozen=True)
class PhonesJob:
    """One level for the phones' process: ``calls`` callers over ``ramp_s``."""

    ticket: str
    calls: int
    quiet: bool
    ramp_s: float


def phones_process(settings: Settings, jobs: Connection, notices: Connection) -> None:
    """The simulated callers' phones, in a process of their own as phones are: they
    place the calls and key the answers over their own AMI link, so Hotline's process
    (and its CPU figure) holds only Hotline. Serves level after level until told None."""
    asyncio.run(_serve_phones(settings, jobs, notices))


async def _serve_phones(settings: Settings, jobs: Connection, notices: Connection) -> None:
    # No events: each call's channel ids are chosen here (Originate's ChannelId), and
    # AMI actions name a channel by its id as well as by its name.
    ami = AmiClient.from_settings(settings, EventBus(), events="off")
    await ami.start()
    loop = asyncio.get_running_loop()
    journeys: dict[str, Journey] = {}

    def on_notices() -> None:
        while notices.poll():
            notice: Notice = notices.recv()
            journey = journeys.get(notice.uniqueid)
            if journey is not None:
                journey.events.put_nowait(notice)

    loop.add_reader(notices.fileno(), on_notices)
    try:
        while True:
            job: PhonesJob | None = await loop.run_in_executor(None, jobs.recv)
            if job is None:
                return
            cpu_before = time.process_time()
            phones = await _level(ami, job, journeys)
            phones.cpu_s = time.process_time() - cpu_before
            jobs.send(phones)
    finally:
        loop.remove_reader(notices.fileno())
        await ami.close()


async def _level(ami: AmiClient, job: PhonesJob, journeys: dict[str, Journey]) -> Phones:
    phones = Phones()

    async def one(k: int) -> None:
        await asyncio.sleep(job.ramp_s * k / job.calls)
        caller = SimulatedCaller(
            number=f"1390000{k:04d}", hold_s=int(JOURNEY_S) + 30, quiet=job.quiet
        )
        journey = Journey(uuid.uuid4().hex)
        journeys[journey.uniqueid] = journey
        began = time.monotonic()
        awaiting = "Originate"

        async def reach(step: str) -> tuple[float, float]:
            """When the IVR listened at ``step``, and the seconds of prompts the caller
            heard through to their end before that (the ticket's status is read out in
            full before the next question: listening, not the IVR's work)."""
            heard_s = 0.0
            while True:
                notice = await journey.events.get()
                if notice.channel:
                    journey.channel = notice.channel
                if notice.step is None:
                    heard_s += notice.heard_s
                elif notice.step == step:
                    return notice.at, heard_s

        async def press(digits: str) -> float:
            """Key ``digits``; when the last key was sent (the turn's clock starts)."""
            sent = time.monotonic()
            for n, digit in enumerate(digits):
                if n:
                    await asyncio.sleep(KEY_GAP_S)
                sent = time.monotonic()
                # Received on the IVR's own channel: PlayDTMF *sending* from the caller's
                # half sleeps 100 ms per key inside Asterisk's thread for this AMI
                # session, so every caller's keys queued behind each other (50 callers x
                # 13 keys = 65 s) and the bench measured its own driver, not the IVR.
                await ami.send(
                    {
                        "Action": "PlayDTMF",
                        "Channel": journey.channel or journey.uniqueid,
                        "Digit": digit,
                        "Duration": "100",
                        "Receive": "true",
                    }
                )
            return sent

        try:
            async with asyncio.timeout(JOURNEY_S):
                await ami.send(
                    {
                        **originate_action(caller),
                        "ChannelId": journey.uniqueid,  # the ;1 half: the IVR's call
                        "OtherChannelId": journey.uniqueid + "-phone",
                    }
                )
                awaiting = "main.menu"
                await reach("main.menu")
                for keys, following in (
                    ("5", "complaints.status"),
                    (job.ticket + "#", "main.anything_else"),
                ):
                    awaiting = f"keys {keys!r}"
                    sent = await press(keys)
                    awaiting = following
                    listened, heard_s = await reach(following)
                    phones.turns.append(listened - sent - heard_s)
                    if keys == "5":
                        phones.menu_turns.append(phones.turns[-1])
                awaiting = "keys '2'"
                await press("2")
                phones.durations.append(time.monotonic() - began)
                phones.spans.append((began, time.monotonic()))
        except (TimeoutError, AmiActionFailed) as exc:
            phones.dropped += 1
            why = f"{awaiting} ({'timed out' if isinstance(exc, TimeoutError) else exc})"
            phones.stuck[why] = phones.stuck.get(why, 0) + 1
        finally:
            del journeys[journey.uniqueid]
            try:
                await ami.send({"Action": "Hangup", "Channel": journey.channel or journey.uniqueid})
            except AmiActionFailed:
                pass  # the flow already said goodbye and hung up

    await asyncio.gather(*(one(k) for k in range(job.calls)))
    return phones


class PhoneBank:
    """The phones' process and its two pipes, started once for every level."""

    def __init__(self, settings: Settings, tracker: CallTracker) -> None:
        self.tracker = tracker
        self.jobs, theirs = multiprocessing.Pipe()
        self.notices_in, self.notices = multiprocessing.Pipe(duplex=False)
        self.process = multiprocessing.get_context("spawn").Process(
            target=phones_process, args=(settings, theirs, self.notices_in), name="bench-phones"
        )
        self.process.start()

    def forward(self, _topic: str, event: Listening | PromptPlayed) -> None:
        """Bus subscriber: the IVR's notices to the phones (with the channel's name:
        Asterisk finds a channel by name in its hash, by id only by a scan of all)."""
        if isinstance(event, Listening):
            call = self.tracker.call_of_channel(event.uniqueid)
            leg = call.legs.get(event.uniqueid) if call is not None else None
            channel = leg.channel if leg is not None else ""
            self.notices.send(Notice(event.uniqueid, event.step, event.at, channel=channel))
        elif event.completed:
            self.notices.send(Notice(event.uniqueid, None, 0.0, event.samples_played / 8000))

    async def run(self, job: PhonesJob) -> Phones:
        self.jobs.send(job)
        done: asyncio.Future[Phones] = asyncio.get_running_loop().create_future()
        loop = asyncio.get_running_loop()
        loop.add_reader(
            self.jobs.fileno(), lambda: done.done() or done.set_result(self.jobs.recv())
        )
        try:
            return await done
        finally:
            loop.remove_reader(self.jobs.fileno())

    def close(self) -> None:
        self.jobs.send(None)
        self.process.join(timeout=30)


async def run_level(
    hotline: Hotline,
    bank: PhoneBank,
    ticket: str,
    calls: int,
    late_s: float,
    clock: CpuClock,
    *,
    quiet: bool,
    ramp_s: float,
) -> LevelResult:
    sub = hotline.bus.subscribe(
        f"bench-listen-{calls}", [LISTENING_TOPIC, PROMPT_PLAYED_TOPIC], bank.forward
    )
    started = time.monotonic()
    own_before, asterisk_before = clock.read()
    lags: list[float] = []
    ticker = asyncio.create_task(loop_lag(lags))
    phones = await bank.run(PhonesJob(ticket, calls, quiet, ramp_s))
    elapsed = time.monotonic() - started
    ticker.cancel()
    await asyncio.sleep(2.0)  # let the IVR finish writing the ended sessions
    own_after, asterisk_after = clock.read()
    own_ms = (own_after - own_before) * 1000 / calls
    asterisk_ms = (asterisk_after - asterisk_before) * 1000 / calls
    phones_ms = phones.cpu_s * 1000 / calls
    turns, menu_turns, dropped = phones.turns, phones.menu_turns, phones.dropped
    call_s = statistics.mean(phones.durations) if phones.durations else 0.0
    await hotline.bus.unsubscribe(sub)
    late = sum(1 for t in turns if t > late_s)
    peak = peak_overlap(phones.spans)
    if turns:
        print(
            f"  {calls:4d} concurrent calls: {len(turns)} timed turns, last key → next listening "
            f"p50 {statistics.median(turns) * 1000:6.0f} ms, "
            f"p99 {percentile(turns, 0.99) * 1000:6.0f} ms, "
            f"max {max(turns) * 1000:6.0f} ms; late {late}, dropped calls {dropped}; "
            f"{peak} in the IVR at once (level took {elapsed:.1f} s)"
        )
        print(
            f"        menu key → next step listening (no prompt in between): p50 "
            f"{statistics.median(menu_turns) * 1000:.0f} ms, "
            f"p99 {percentile(menu_turns, 0.99) * 1000:.0f} ms"
        )
    else:
        print(f"  {calls:4d} concurrent calls: no turn completed; dropped calls {dropped}")
    for why, count in sorted(phones.stuck.items(), key=lambda item: -item[1]):
        print(f"        dropped while awaiting {why}: {count}")
    if lags:
        print(
            f"        Hotline's event loop late by p50 {statistics.median(lags) * 1000:.0f} ms, "
            f"p99 {percentile(lags, 0.99) * 1000:.0f} ms (a 10 ms sleeper, {len(lags)} samples)"
        )
    if call_s:
        # A call keeps (CPU per call / its length) of a core busy; two cores carry the rest.
        per_call = (own_ms + asterisk_ms + phones_ms) / 1000
        print(
            f"        CPU per call: Hotline {own_ms:.0f} ms, Asterisk {asterisk_ms:.0f} ms, the "
            f"simulated phones {phones_ms:.0f} ms; a call lasts {call_s:.1f} s, so two cores "
            f"would carry ~{2 * call_s / per_call:,.0f} such calls at once"
        )
    carried = late == 0 and dropped == 0 and peak == calls
    return LevelResult(carried, own_ms, asterisk_ms, call_s, peak)


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


async def climb(
    hotline: Hotline,
    bank: PhoneBank,
    ticket: str,
    clock: CpuClock,
    levels: list[int],
    late_s: float,
    *,
    quiet: bool,
    ramp_s: float,
) -> tuple[int, LevelResult | None]:
    """Run the levels in order; the highest carried and its result."""
    kind = "quiet phones" if quiet else "phones streaming silence"
    print(
        f"\n{kind}, callers arriving over {ramp_s:.0f} s (late: a turn over "
        f"{late_s * 1000:.0f} ms):"
    )
    carried = 0
    last: LevelResult | None = None
    for calls in levels:
        result = await run_level(
            hotline, bank, ticket, calls, late_s, clock, quiet=quiet, ramp_s=ramp_s
        )
        if not result.carried:
            print(f"  stopped: {calls} concurrent keypad calls ({kind}) were not all carried")
            break
        carried, last = calls, result
    return carried, last


async def asterisk_alone(
    hotline: Hotline, runner: AsteriskRunner, clock: CpuClock, prompt: Path, calls: int
) -> dict[bool, float]:
    """Asterisk's CPU per call-second with a prompt playing to each simulated phone and
    no Hotline in the call (Originate runs Playback itself): quiet and streaming phones."""
    cost: dict[bool, float] = {}
    name = str(runner.layout.to_asterisk(prompt).with_suffix(""))
    for quiet in (True, False):
        for k in range(calls):
            action = originate_action(
                SimulatedCaller(number=f"1380000{k:04d}", hold_s=25, quiet=quiet)
            )
            for key in ("Context", "Exten", "Priority"):
                action.pop(key)
            await hotline.ami.send({**action, "Application": "Playback", "Data": name})
        await asyncio.sleep(3.0)  # every call up and playing
        _own0, asterisk0 = clock.read()
        started = time.monotonic()
        await asyncio.sleep(8.0)
        _own1, asterisk1 = clock.read()
        cost[quiet] = (asterisk1 - asterisk0) * 1000 / (time.monotonic() - started) / calls
        await hangup_all(hotline)
    return cost


async def hangup_all(hotline: Hotline) -> None:
    """End every channel (the simulated calls of a measurement) and let Asterisk settle."""
    for event in await hotline.ami.send_list({"Action": "CoreShowChannels"}):
        channel = event.get("Channel")
        if event.get("Event") == "CoreShowChannel" and channel:
            with contextlib.suppress(AmiActionFailed):
                await hotline.ami.send({"Action": "Hangup", "Channel": channel})
    await asyncio.sleep(3.0)


async def bench(
    runner: AsteriskRunner,
    settings: Settings,
    levels: list[int],
    streaming_levels: list[int],
    late_s: float,
    ramp_s: float,
) -> None:
    hotline = await Hotline.start(settings, runner.layout)
    clock = CpuClock(runner.status().pid)
    bank = PhoneBank(settings, hotline.tracker)
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
        await run_level(hotline, bank, ticket, 1, float("inf"), clock, quiet=True, ramp_s=0)

        prompt = runner.layout.share_host / "sim" / "bench-prompt-30s.wav"
        write_silence(prompt, 30.0)
        alone_calls = 200
        cost = await asterisk_alone(hotline, runner, clock, prompt, alone_calls)
        print(
            f"\nAsterisk alone, {alone_calls} simulated calls each hearing a prompt (no "
            f"Hotline): {cost[True]:.2f} ms CPU per call-second with quiet phones, "
            f"{cost[False]:.2f} ms with phones streaming silence; so one core plays prompts "
            f"to ~{1000 / cost[True]:,.0f} quiet or ~{1000 / cost[False]:,.0f} streaming "
            "phones at most"
        )
        report(
            Figure(
                "asterisk_prompt_stream_cpu_ms_per_s",
                cost[True],
                "ms",
                f"Asterisk alone: CPU per call-second of {alone_calls} simulated calls each "
                "hearing a prompt (Local channel, quiet phone); the machine's price of one "
                "20 ms audio frame stream",
                baseline=f"with phones streaming silence: {cost[False]:.2f} ms",
            )
        )

        carried, last = await climb(
            hotline, bank, ticket, clock, levels, late_s, quiet=True, ramp_s=ramp_s
        )
        detail = (
            f"production zh flow by keypad, 3 keyed turns a call, callers arriving over "
            f"{ramp_s:.0f} s a level; carried = highest level of {{levels}} with all callers "
            f"in the IVR at once, no turn over {late_s * 1000:.0f} ms and no call dropped; "
            "real Asterisk, SQLite, one process"
        )
        report(
            Figure(
                "concurrent_ivr_calls_keypad",
                carried,
                "calls",
                "quiet phones (silence suppression); " + detail.format(levels=levels),
                at_least(1000),
            )
        )
        if last is not None:
            report(
                Figure(
                    "ivr_keypad_call_cpu_ms",
                    last.hotline_cpu_ms_per_call,
                    "ms",
                    f"CPU of the Hotline process per keypad call "
                    f"at {carried} concurrent calls, 3 keyed turns; Asterisk used "
                    f"{last.asterisk_cpu_ms_per_call:.0f} ms more per call",
                )
            )
        if streaming_levels:
            streamed, _ = await climb(
                hotline, bank, ticket, clock, streaming_levels, late_s, quiet=False, ramp_s=ramp_s
            )
            report(
                Figure(
                    "concurrent_ivr_calls_keypad_streaming",
                    streamed,
                    "calls",
                    "phones streaming silence throughout; "
                    + detail.format(levels=streaming_levels),
                )
            )
    finally:
        bank.close()
        await hotline.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", default="100,250,500,750,1000")
    parser.add_argument("--streaming-levels", default="100,200,300,400,500")
    parser.add_argument("--ramp-s", type=float, default=10.0)
    parser.add_argument("--late-ms", type=float, default=1000.0)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    streaming = [int(x) for x in args.streaming_levels.split(",") if x]
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
            asyncio.run(
                bench(runner, settings, levels, streaming, args.late_ms / 1000, args.ramp_s)
            )
        finally:
            runner.down()


if __name__ == "__main__":
    main()
