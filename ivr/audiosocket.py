"""Speech path over Asterisk's AudioSocket: one TCP connection per call carries the
caller's audio to Hotline *and* Hotline's prompts to the caller, so a prompt can be cut
the moment the caller speaks or keys (barge-in) and recognition endpoints on the audio.

::

    AudioSocketError
    ├── AudioSocketProtocolError (ValueError)  malformed traffic from the peer: unknown
    │                                          frame kind, bad length, no UUID first, an
    │                                          unsupported audio format
    ├── UnknownCall (LookupError)              no call of that id is expected/connected
    ├── AudioNotConnected                      Asterisk did not connect in time, or
    │                                          AudioSocket() failed in the dialplan
    └── CallerHungUp                           the call's audio connection closed

Protocol (Asterisk 22 ``res_audiosocket``; see apps/app_audiosocket.c): every message is
a 3-byte header — kind (1 byte), payload length (2 bytes, big-endian) — and the payload.
Asterisk sends ``0x01`` UUID (16 bytes) first, then ``0x10`` audio (signed linear 16-bit,
8 kHz, mono; 20 ms = 320 bytes per frame) and ``0x03`` DTMF (one ASCII digit); it closes
the socket when the channel hangs up. Audio Hotline sends back (``0x10``) is written to
the channel as it arrives — Asterisk does not pace it (app_audiosocket.c: each message
read becomes an ``ast_write()`` at once) — so prompts are sent in real time, a 20 ms frame
every 20 ms, ``frame_lead`` frames ahead, from the hub's clock. ``0x00`` from Hotline
ends ``AudioSocket()`` with success and the dialplan (or the AGI ``EXEC``) continues;
so does closing the socket. Anything but hang-up or audio from Hotline makes the
application fail (returns -1: the dialplan hangs up unless it ran ``TryExec``).
``AudioSocket()`` also gives up after 2 s in which neither side sent anything, so a
caller must send frames (a phone always does).

Handoff from the FastAGI flow (:func:`audio_session`): the AGI handler asks the hub for
an id (:meth:`AudioHub.expect`), runs ``EXEC TryExec "AudioSocket(<id>,<host:port>)"``
— the AGI command blocks while the socket is up, and ``TryExec`` keeps a failure (hub
unreachable) from being taken for a hang-up — and meanwhile plays prompts and listens
through the hub. :meth:`AudioHub.release` sends ``0x00``; the EXEC returns and the AGI
session continues (transfer, HOTLINE_NEXT, …).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import logging
import struct
import time
import uuid as uuid_mod
import wave
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ivr.recognition import (
    Grammar,
    Outcome,
    Partial,
    RecognitionResult,
    RecognitionStream,
    Recognizer,
)

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit mono
FRAME_S = 0.02
#: The largest audio payload accepted: 100 ms at 16 kHz. Asterisk sends 20 ms frames.
MAX_AUDIO_PAYLOAD = 3200
UUID_TIMEOUT_S = 5.0
DTMF_DIGITS = frozenset("0123456789*#ABCD")


class Kind(enum.IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10  # slin, 8 kHz
    AUDIO_SLIN12 = 0x11
    AUDIO_SLIN16 = 0x12
    AUDIO_SLIN24 = 0x13
    AUDIO_SLIN32 = 0x14
    AUDIO_SLIN44 = 0x15
    AUDIO_SLIN48 = 0x16
    AUDIO_SLIN96 = 0x17
    AUDIO_SLIN192 = 0x18
    ERROR = 0xFF


_KINDS = frozenset(int(k) for k in Kind)
_OTHER_SLIN = frozenset(range(0x11, 0x19))


class AudioSocketError(Exception):
    """Base of the AudioSocket errors."""


class AudioSocketProtocolError(AudioSocketError, ValueError):
    """The peer sent something that is not AudioSocket as Hotline speaks it."""


class UnknownCall(AudioSocketError, LookupError):
    """No call with that id."""


class AudioNotConnected(AudioSocketError):
    """Asterisk did not connect the call's audio (in time)."""


class CallerHungUp(AudioSocketError):
    """The call's audio connection closed: the caller hung up (or the dialplan moved on)."""


# --------------------------------------------------------------------------- framing


@dataclass(frozen=True, slots=True)
class Frame:
    kind: int
    payload: bytes


def encode_frame(kind: int, payload: bytes = b"") -> bytes:
    if not 0 <= kind <= 0xFF:
        raise ValueError(f"frame kind {kind} is not a byte")
    if len(payload) > 0xFFFF:
        raise ValueError(f"AudioSocket payload of {len(payload)} bytes exceeds 65535")
    return struct.pack(">BH", kind, len(payload)) + payload


HANGUP_FRAME = encode_frame(Kind.HANGUP)


def uuid_frame(call_id: str) -> bytes:
    return encode_frame(Kind.UUID, uuid_mod.UUID(call_id).bytes)


class FrameDecoder:
    """Splits a byte stream into frames (pure; no socket). Raises
    :class:`AudioSocketProtocolError` at the first malformed frame."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= 3:
            kind = self._buffer[0]
            length = (self._buffer[1] << 8) | self._buffer[2]
            if kind not in _KINDS:
                raise AudioSocketProtocolError(
                    f"unknown AudioSocket frame kind 0x{kind:02x} (length {length})"
                )
            if kind == Kind.AUDIO or kind in _OTHER_SLIN:
                if length == 0 or length > MAX_AUDIO_PAYLOAD or length % 2:
                    raise AudioSocketProtocolError(
                        f"audio frame of {length} bytes (must be even, 2..{MAX_AUDIO_PAYLOAD})"
                    )
            elif kind == Kind.UUID and length != 16:
                raise AudioSocketProtocolError(f"UUID frame of {length} bytes (must be 16)")
            elif kind == Kind.DTMF and length != 1:
                raise AudioSocketProtocolError(f"DTMF frame of {length} bytes (must be 1)")
            elif kind == Kind.HANGUP and length != 0:
                raise AudioSocketProtocolError(f"hang-up frame with {length} bytes of payload")
            if len(self._buffer) < 3 + length:
                break
            frames.append(Frame(kind, bytes(self._buffer[3 : 3 + length])))
            del self._buffer[: 3 + length]
        return frames

    @property
    def pending(self) -> int:
        return len(self._buffer)


# --------------------------------------------------------------------------- audio


def read_prompt(path: Path) -> bytes:
    """The PCM of a telephone WAV (8 kHz, mono, 16-bit) — what the prompt cache renders."""
    try:
        with wave.open(str(path), "rb") as wav:
            if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (8000, 1, 2):
                raise ValueError(
                    f"{path} is {wav.getframerate()} Hz, {wav.getnchannels()} channel(s), "
                    f"{8 * wav.getsampwidth()}-bit; prompts must be 8 kHz mono 16-bit"
                )
            return wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"{path} is not a PCM WAV file: {exc}") from exc


class PlaybackEnd(enum.StrEnum):
    COMPLETED = "completed"
    BARGED_IN = "barged-in"  # the caller spoke or keyed
    STOPPED = "stopped"  # Hotline stopped it
    HUNG_UP = "hung-up"


@dataclass(frozen=True, slots=True)
class PlaybackResult:
    end: PlaybackEnd
    played_s: float
    started_at: float  # time.monotonic() of the first frame written


@dataclass
class TurnTiming:
    """Wall-clock marks of the last turn (``time.monotonic()``), for the benchmarks:
    when the frame holding the end of speech arrived, when the result was ready, when
    the prompt of the turn started and whether it was cut."""

    speech_end_at: float | None = None
    result_at: float | None = None
    prompt_started_at: float | None = None
    barge_in_at: float | None = None
    #: The caller's sample (counted from the connection's first) at which the result was
    #: decided: with the caller's clock, how far recognition ran behind real time.
    decided_sample: int | None = None


@dataclass(slots=True)
class _Playback:
    """A prompt being sent: its frames go out on the hub's clock."""

    pcm: bytes
    started: float  # loop time of the first frame
    done: asyncio.Future[PlaybackEnd]
    sent: int = 0

    @property
    def frames(self) -> int:
        return -(-len(self.pcm) // FRAME_BYTES)

    def encoded(self, first: int, end: int) -> bytes:
        """AudioSocket audio messages of frames ``first``..``end`` (the last one padded)."""
        out = bytearray()
        for i in range(first, end):
            chunk = self.pcm[i * FRAME_BYTES : (i + 1) * FRAME_BYTES]
            out += encode_frame(Kind.AUDIO, chunk.ljust(FRAME_BYTES, b"\0"))
        return bytes(out)


# --------------------------------------------------------------------------- one call


class AudioCall:
    """One AudioSocket connection (one call's speech session).

    The call holds no task or timer of its own: the hub's clock (:class:`AudioHub`) feeds
    the audio that accumulated to the recogniser and sends the prompt frames that are due,
    for all calls at once."""

    def __init__(
        self,
        call_id: str,
        hub: AudioHub,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.call_id = call_id
        self.hub = hub
        self._writer = writer
        self.closed = asyncio.Event()
        self.close_reason = ""
        self.samples_received = 0
        self.timing = TurnTiming()
        self._audio = bytearray()
        self._arrivals: deque[tuple[int, float]] = deque(maxlen=1500)  # 30 s of frames
        self._stream: RecognitionStream | None = None
        self._stream_base = 0
        self._turn: asyncio.Future[RecognitionResult] | None = None
        self._arm_no_input: float | None = None
        self._feeding = False  # a feed of this call's stream is on the pool
        self._barge_in = False
        self._playback: _Playback | None = None
        self._digits: asyncio.Queue[str] = asyncio.Queue()
        # The caller's audio of the last turn, kept only when the turn asked for it
        # (a free-form answer whose recording is kept as a voice message).
        self.heard_audio = bytearray()
        self._keep_audio = False

    # -- from the reader --

    def on_audio(self, pcm: bytes) -> None:
        self.samples_received += len(pcm) // 2
        self._arrivals.append((self.samples_received, time.monotonic()))
        if self._stream is not None:
            self._audio += pcm

    def on_dtmf(self, digit: str) -> None:
        self._digits.put_nowait(digit)
        if self._stop_prompt(barge_in=True):
            self.timing.barge_in_at = time.monotonic()

    def on_closed(self, reason: str) -> None:
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        self._stop_prompt(barge_in=False)
        with contextlib.suppress(Exception):
            self._writer.close()

    # -- recognition (driven by the hub's clock) --

    def _take_audio(self) -> tuple[RecognitionStream, bytes] | None:
        """The audio to feed now, if the call has a live turn and anything to feed."""
        stream, turn = self._stream, self._turn
        if stream is None or turn is None or turn.done() or self._feeding:
            return None
        if self._arm_no_input is not None:
            stream.arm_no_input(self._arm_no_input)
            self._arm_no_input = None
        if not self._audio:
            return None
        chunk = bytes(self._audio)
        self._audio.clear()
        if self._keep_audio:
            self.heard_audio += chunk
        return stream, chunk

    def _fed(self, stream: RecognitionStream, outcome: Partial | BaseException | None) -> None:
        """Back on the loop after the pool fed ``stream``: barge-in, the turn's result."""
        self._feeding = False
        turn = self._turn
        if stream is not self._stream or turn is None or turn.done():
            return  # the turn moved on while the feed ran
        if isinstance(outcome, BaseException):  # a recogniser failure ends the turn
            log.error("recognition failed on call %s", self.call_id, exc_info=outcome)
            turn.set_exception(outcome)
            return
        if outcome is not None and outcome.voiced and self._barge_in:
            if self._stop_prompt(barge_in=True):
                self.timing.barge_in_at = time.monotonic()
        if stream.done:
            result = stream.result()
            self.timing.result_at = time.monotonic()
            self.timing.decided_sample = self._stream_base + int(result.decided_s * SAMPLE_RATE)
            if result.speech_end_s is not None:
                self.timing.speech_end_at = self._arrival_of(
                    self._stream_base + int(result.speech_end_s * SAMPLE_RATE)
                )
            turn.set_result(result)

    def _arrival_of(self, sample: int) -> float | None:
        for received, at in self._arrivals:
            if received >= sample:
                return at
        return None

    # -- output --

    def send(self, data: bytes) -> None:
        if self.closed.is_set() or self._writer.is_closing():
            raise CallerHungUp(f"call {self.call_id}: audio connection closed")
        self._writer.write(data)

    def _stop_prompt(self, *, barge_in: bool) -> bool:
        playback = self._playback
        if playback is None or playback.done.done():
            return False
        if barge_in and not self._barge_in:
            return False
        if self.closed.is_set():
            end = PlaybackEnd.HUNG_UP
        else:
            end = PlaybackEnd.BARGED_IN if barge_in else PlaybackEnd.STOPPED
        playback.done.set_result(end)
        return True

    def _send_due(self, now: float) -> None:
        """Send the prompt frames due by ``now`` (plus the hub's lead), in one write;
        complete the playback once its last frame has played out."""
        playback = self._playback
        if playback is None or playback.done.done():
            return
        due = min(
            playback.frames, int((now - playback.started) / FRAME_S) + 1 + self.hub.frame_lead
        )
        if due > playback.sent:
            try:
                self.send(playback.encoded(playback.sent, due))
            except CallerHungUp:
                playback.done.set_result(PlaybackEnd.HUNG_UP)
                return
            playback.sent = due
        # Frames were sent ahead: the prompt has played when its last frame's time is over.
        if playback.sent == playback.frames and now >= playback.started + playback.frames * FRAME_S:
            playback.done.set_result(PlaybackEnd.COMPLETED)

    async def play(self, pcm: bytes, *, barge_in: bool = False) -> PlaybackResult:
        """Send ``pcm`` (8 kHz slin) in real time: the hub's clock sends the frames that
        are due (``frame_lead`` frames ahead). Returns how it ended."""
        if self._playback is not None and not self._playback.done.done():
            raise RuntimeError(f"call {self.call_id} is already playing a prompt")
        loop = asyncio.get_running_loop()
        playback = _Playback(pcm, loop.time(), loop.create_future())
        self._playback = playback
        self._barge_in = barge_in
        started_at = time.monotonic()
        self.timing.prompt_started_at = started_at
        if self.closed.is_set():
            playback.done.set_result(PlaybackEnd.HUNG_UP)
        else:
            self._send_due(playback.started)  # the first frames now, not at the next tick
            self.hub._playing(self)
        try:
            end = await asyncio.shield(playback.done)
        finally:
            if not playback.done.done():  # the caller of play() was cancelled
                playback.done.set_result(PlaybackEnd.STOPPED)
            self._barge_in = False
        if end is PlaybackEnd.STOPPED and self.closed.is_set():
            end = PlaybackEnd.HUNG_UP
        return PlaybackResult(end, playback.sent * FRAME_S, started_at)

    def _attach(self, grammar: Grammar, no_input_s: float | None) -> RecognitionStream:
        """Open a recognition stream on the audio from now on."""
        loop = asyncio.get_running_loop()
        stream = self.hub.recognizer.open(grammar, SAMPLE_RATE, no_input_s=no_input_s)
        self._audio.clear()
        self._stream_base = self.samples_received
        self._arm_no_input = None
        self._stream, self._turn = stream, loop.create_future()
        self.hub._listening(self)
        return stream

    async def listen(
        self,
        grammar: Grammar | Iterable[str] | None,
        timeout_s: float = 5.0,
        *,
        prompt: bytes | None = None,
        barge_in: bool = True,
        max_digits: int = 1,
        digit_timeout_s: float = 3.0,
        hard_timeout_s: float = 60.0,
        keep_audio: bool = False,
    ) -> RecognitionResult:
        """See :meth:`AudioHub.listen`. Without barge-in the caller's audio during the
        prompt is not listened to; with it, noise during the prompt (sound that never
        became voiced) does not end the turn. ``keep_audio``: keep the audio the turn
        recognised in :attr:`heard_audio`."""
        if self.closed.is_set():
            raise CallerHungUp(f"call {self.call_id}: audio connection closed")
        self.heard_audio = bytearray()
        self._keep_audio = keep_audio
        loop = asyncio.get_running_loop()
        g = grammar if isinstance(grammar, Grammar) else Grammar.of(grammar)
        while not self._digits.empty():  # keys from an earlier turn are stale
            self._digits.get_nowait()
        self.timing = TurnTiming()
        stream: RecognitionStream | None = None
        if not prompt:
            stream = self._attach(g, timeout_s)
        elif barge_in:
            stream = self._attach(g, None)
        playback = asyncio.create_task(self.play(prompt, barge_in=barge_in)) if prompt else None
        digit_task = asyncio.create_task(self._digits.get())
        closed_task = asyncio.create_task(self.closed.wait())
        deadline = loop.time() + hard_timeout_s
        try:
            while True:
                waits: set[asyncio.Future[Any]] = {digit_task, closed_task}
                if playback is not None:
                    waits.add(playback)
                if self._turn is not None:
                    waits.add(self._turn)
                done, _ = await asyncio.wait(
                    waits,
                    timeout=max(0.0, deadline - loop.time()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not done:
                    if stream is None:
                        return RecognitionResult(outcome=Outcome.NO_INPUT)
                    return await loop.run_in_executor(self.hub.recognizer.executor, stream.finish)
                if closed_task in done:
                    raise CallerHungUp(f"call {self.call_id}: {self.close_reason}")
                if digit_task in done:
                    digits = await self._collect_digits(
                        digit_task.result(), max_digits, digit_timeout_s
                    )
                    return RecognitionResult(
                        outcome=Outcome.KEYS,
                        digits=digits,
                        decided_s=stream.position_s if stream is not None else 0.0,
                        barged_in=self.timing.barge_in_at is not None,
                    )
                if playback is not None and playback in done:
                    ended = playback.result().end
                    playback = None
                    if ended is PlaybackEnd.HUNG_UP:
                        raise CallerHungUp(f"call {self.call_id}: {self.close_reason}")
                    if stream is None:
                        stream = self._attach(g, timeout_s)
                    elif ended is PlaybackEnd.COMPLETED:
                        self._arm_no_input = timeout_s  # at the hub's next feed
                    continue
                turn = self._turn
                if turn is not None and turn in done:
                    result = turn.result()
                    if playback is not None and self.timing.barge_in_at is None:
                        # Sound during the prompt that never became speech: listen on.
                        assert stream is not None
                        stream = self._attach(g, None)
                        continue
                    if self.timing.barge_in_at is not None:
                        result = dataclasses.replace(result, barged_in=True)
                    return result
        finally:
            self._stream = None
            self._turn = None
            self._keep_audio = False
            for task in (digit_task, closed_task):
                task.cancel()
            if playback is not None:
                self._stop_prompt(barge_in=False)
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await playback

    async def _collect_digits(self, first: str, max_digits: int, timeout_s: float) -> str:
        digits = first
        while len(digits) < max_digits and not digits.endswith("#"):
            try:
                digits += await asyncio.wait_for(self._digits.get(), timeout_s)
            except TimeoutError:
                break
        return digits.rstrip("#") if max_digits > 1 else digits

    async def release(self) -> None:
        """End ``AudioSocket()`` with success: the dialplan / AGI continues."""
        if not self.closed.is_set():
            with contextlib.suppress(Exception):
                self._writer.write(HANGUP_FRAME)
                await self._writer.drain()
        self.on_closed("released by Hotline")


# --------------------------------------------------------------------------- the hub


def _feed_streams(
    items: list[tuple[RecognitionStream, bytes]],
    urgent: Callable[[int, Partial | BaseException | None], None],
) -> list[Partial | BaseException | None]:
    """On a recogniser worker: feed each stream its chunk. A turn's end or the caller
    starting to speak goes to ``urgent`` at once (it must not wait for the other calls'
    feeds: it is the caller's latency); the rest is returned in bulk, with ``_HANDLED``
    where ``urgent`` took it. A failure is returned, so one call's failure does not
    cost the others their feed."""
    out: list[Partial | BaseException | None] = []
    for i, (stream, chunk) in enumerate(items):
        try:
            outcome: Partial | BaseException | None = stream.feed(chunk)
        except Exception as exc:
            outcome = exc
        if stream.done or isinstance(outcome, BaseException) or (outcome and outcome.voiced):
            urgent(i, outcome)
            outcome = _HANDLED
        out.append(outcome)
    return out


#: A feed outcome already delivered by ``urgent`` (see :func:`_feed_streams`).
_HANDLED = Partial(speaking=False, voiced=False, text="<handled>")


@dataclass
class HubStats:
    connections: int = 0
    protocol_errors: int = 0
    unknown_calls: int = 0
    errors: list[str] = field(default_factory=list)


class AudioHub:
    """The AudioSocket server: Asterisk connects per call, Hotline plays and listens.

    ``await hub.listen(call_id, grammar, timeout_s, prompt=wav)`` plays the prompt down
    the socket while the caller's audio is recognised; the caller speaking (voiced, not
    just noise) or keying stops the prompt.

    One clock for all calls: every ``tick_s`` it sends each playing call the prompt
    frames that are due (``frame_lead`` frames ahead: AudioSocket() writes what it
    receives to the channel at once, it does not pace), and, once the last feed is done
    and ``feed_interval_s`` is over, it feeds each listening call's accumulated audio to
    the recogniser: the calls split into one pool job per recogniser worker, a turn's end
    or barge-in handed back as soon as that call is fed. Per call and frame there is no
    task, timer or thread hand-off. The interval (40 ms) trades the per-feed cost of every
    listening call (at 60 ms the speaking-callers bench took ~108 ms of this process's CPU
    a call, at 20 ms ~130) against the caller's wait for the next prompt (it adds up to
    one interval; the turn figures on the shared machine were too noisy to rank 20, 40
    and 60 ms beyond that)."""

    def __init__(
        self,
        recognizer: Recognizer,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        connect_timeout_s: float = 5.0,
        frame_lead: int = 2,
        tick_s: float = FRAME_S,
        feed_interval_s: float = 0.04,
    ) -> None:
        self.recognizer = recognizer
        self.host = host
        self.port = port
        self.connect_timeout_s = connect_timeout_s
        self.frame_lead = frame_lead
        self.tick_s = tick_s
        self.feed_interval_s = feed_interval_s
        self.stats = HubStats()
        self._listeners: set[AudioCall] = set()
        self._players: set[AudioCall] = set()
        self._clock: asyncio.Task[None] | None = None
        self._feeding: asyncio.Task[None] | None = None
        self._server: asyncio.Server | None = None
        self._expected: dict[str, asyncio.Future[AudioCall]] = {}
        self._calls: dict[str, AudioCall] = {}
        self._prompts: dict[Path, tuple[float, bytes]] = {}

    @property
    def address(self) -> str:
        """``host:port`` as AudioSocket() takes it."""
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("AudioSocket server listening on %s", self.address)

    async def close(self) -> None:
        for call in list(self._calls.values()):
            await call.release()
        for task in (self._clock, self._feeding):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    # -- the clock --

    def _listening(self, call: AudioCall) -> None:
        self._listeners.add(call)
        self._start_clock()

    def _playing(self, call: AudioCall) -> None:
        self._players.add(call)
        self._start_clock()

    def _start_clock(self) -> None:
        if self._clock is None or self._clock.done():
            self._clock = asyncio.create_task(self._run_clock(), name="audiosocket-clock")

    async def _run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        last_feed = -1e9
        while self._listeners or self._players:
            next_tick += self.tick_s
            delay = next_tick - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                next_tick = loop.time()  # late: frames due are sent below, no burst of ticks
            now = loop.time()
            for call in list(self._players):
                call._send_due(now)
                if call._playback is None or call._playback.done.done():
                    self._players.discard(call)
            # The next feed once the last is done and the interval is over (not at a fixed
            # phase: a feed that ran long must not cost a whole extra interval).
            if now - last_feed >= self.feed_interval_s - self.tick_s / 2 and (
                self._feeding is None or self._feeding.done()
            ):
                last_feed = now
                self._feeding = asyncio.create_task(self._feed(), name="audiosocket-feed")

    async def _feed(self) -> None:
        """Feed what every listening call accumulated, one pool job per worker."""
        batch: list[tuple[AudioCall, RecognitionStream, bytes]] = []
        for call in list(self._listeners):
            if call._stream is None or call.closed.is_set():
                self._listeners.discard(call)
                continue
            taken = call._take_audio()
            if taken is not None:
                call._feeding = True
                batch.append((call, *taken))
        if not batch:
            return
        loop = asyncio.get_running_loop()
        workers = min(self.recognizer.workers, len(batch))
        groups = [batch[i::workers] for i in range(workers)]

        def urgent_for(
            group: list[tuple[AudioCall, RecognitionStream, bytes]],
        ) -> Callable[[int, Partial | BaseException | None], None]:
            def urgent(i: int, outcome: Partial | BaseException | None) -> None:
                call, stream, _ = group[i]
                loop.call_soon_threadsafe(call._fed, stream, outcome)

            return urgent

        try:
            outcomes = await asyncio.gather(
                *(
                    loop.run_in_executor(
                        self.recognizer.executor,
                        _feed_streams,
                        [(s, c) for _, s, c in group],
                        urgent_for(group),
                    )
                    for group in groups
                )
            )
        except Exception as exc:  # the pool is gone (recogniser closed): end the turns
            log.exception("feeding the recogniser failed")
            for call, stream, _ in batch:
                call._fed(stream, exc)
            return
        except BaseException:
            for call, _, _ in batch:
                call._feeding = False
            raise
        for group, results in zip(groups, outcomes, strict=True):
            for (call, stream, _), outcome in zip(group, results, strict=True):
                if outcome is not _HANDLED:
                    call._fed(stream, outcome)

    # -- calls --

    def expect(self, call_id: str | None = None) -> str:
        """Register a call id (a UUID) that Asterisk will present; returns it."""
        cid = str(uuid_mod.UUID(call_id)) if call_id else str(uuid_mod.uuid4())
        self._expected[cid] = asyncio.get_running_loop().create_future()
        return cid

    def forget(self, call_id: str) -> None:
        fut = self._expected.pop(call_id, None)
        if fut is not None and not fut.done():
            fut.cancel()

    async def connected(self, call_id: str, timeout_s: float | None = None) -> AudioCall:
        """The call's audio connection, once Asterisk has made it."""
        call = self._calls.get(call_id)
        if call is not None:
            return call
        fut = self._expected.get(call_id)
        if fut is None:
            raise UnknownCall(f"no call {call_id} is expected on the AudioSocket server")
        try:
            return await asyncio.wait_for(
                asyncio.shield(fut), timeout_s if timeout_s is not None else self.connect_timeout_s
            )
        except TimeoutError:
            raise AudioNotConnected(
                f"Asterisk did not connect call {call_id} to {self.address} in time"
            ) from None

    def call(self, call_id: str) -> AudioCall:
        try:
            return self._calls[call_id]
        except KeyError:
            raise UnknownCall(f"call {call_id} has no audio connection") from None

    async def listen(
        self,
        call_id: str,
        grammar: Grammar | Iterable[str] | None,
        timeout_s: float = 5.0,
        *,
        prompt: Path | bytes | None = None,
        barge_in: bool = True,
        max_digits: int = 1,
        digit_timeout_s: float = 3.0,
        keep_audio: bool = False,
    ) -> RecognitionResult:
        """One turn: play ``prompt`` (if any; interruptible when ``barge_in``), then wait
        up to ``timeout_s`` after it for speech; return what was said or keyed.
        ``keep_audio``: keep what was recognised in the call's ``heard_audio``.
        Raises :class:`CallerHungUp` if the call's audio goes away."""
        call = await self.connected(call_id)
        pcm = await self._pcm(prompt)
        return await call.listen(
            grammar,
            timeout_s,
            prompt=pcm,
            barge_in=barge_in,
            max_digits=max_digits,
            digit_timeout_s=digit_timeout_s,
            keep_audio=keep_audio,
        )

    async def play(
        self, call_id: str, prompt: Path | bytes, *, barge_in: bool = False
    ) -> PlaybackResult:
        call = await self.connected(call_id)
        pcm = await self._pcm(prompt)
        assert pcm is not None
        return await call.play(pcm, barge_in=barge_in)

    async def release(self, call_id: str) -> None:
        """Hand the call back to the dialplan (AudioSocket() returns success)."""
        self.forget(call_id)
        call = self._calls.pop(call_id, None)
        if call is not None:
            await call.release()

    async def _pcm(self, prompt: Path | bytes | None) -> bytes | None:
        if prompt is None or isinstance(prompt, bytes):
            return prompt
        path = Path(prompt)
        mtime = (await asyncio.to_thread(path.stat)).st_mtime
        cached = self._prompts.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        pcm = await asyncio.to_thread(read_prompt, path)
        if len(self._prompts) > 512:
            self._prompts.clear()
        self._prompts[path] = (mtime, pcm)
        return pcm

    # -- connections --

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        peer = writer.get_extra_info("peername")
        decoder = FrameDecoder()
        call: AudioCall | None = None
        reason = "closed by Asterisk (hang-up or AudioSocket ended)"
        try:
            frames: list[Frame] = []
            deadline = asyncio.get_running_loop().time() + UUID_TIMEOUT_S
            while not frames:
                left = deadline - asyncio.get_running_loop().time()
                data = await asyncio.wait_for(reader.read(4096), max(left, 0.001))
                if not data:
                    return
                frames = decoder.feed(data)
            first = frames.pop(0)
            if first.kind != Kind.UUID:
                raise AudioSocketProtocolError(
                    f"first frame is kind 0x{first.kind:02x}; AudioSocket starts with the UUID"
                )
            call_id = str(uuid_mod.UUID(bytes=first.payload))
            fut = self._expected.pop(call_id, None)
            if fut is None or fut.done():
                self.stats.unknown_calls += 1
                log.warning("AudioSocket connection from %s for unexpected call %s", peer, call_id)
                return
            call = AudioCall(call_id, self, writer)
            self._calls[call_id] = call
            fut.set_result(call)
            while True:
                for frame in frames:
                    if frame.kind == Kind.AUDIO:
                        call.on_audio(frame.payload)
                    elif frame.kind == Kind.DTMF:
                        digit = frame.payload.decode("ascii", "replace")
                        if digit in DTMF_DIGITS:
                            call.on_dtmf(digit)
                        else:
                            raise AudioSocketProtocolError(f"DTMF frame with {frame.payload!r}")
                    elif frame.kind == Kind.HANGUP:
                        reason = "Asterisk sent hang-up"
                        return
                    elif frame.kind == Kind.ERROR:
                        reason = f"Asterisk reported an error ({frame.payload.hex() or 'no code'})"
                        log.warning("AudioSocket call %s: %s", call_id, reason)
                        return
                    elif frame.kind == Kind.UUID:
                        raise AudioSocketProtocolError("a second UUID frame on one connection")
                    else:
                        raise AudioSocketProtocolError(
                            f"audio of kind 0x{frame.kind:02x} (not 8 kHz slin, kind 0x10); "
                            "connect with the AudioSocket() application, which sends 8 kHz"
                        )
                data = await reader.read(65536)
                if not data:
                    return
                frames = decoder.feed(data)
        except AudioSocketProtocolError as exc:
            self.stats.protocol_errors += 1
            reason = f"protocol error: {exc}"
            self.stats.errors.append(reason)
            log.error("AudioSocket connection from %s: %s; closing it", peer, exc)
        except TimeoutError:
            reason = "no UUID frame in time"
            log.warning("AudioSocket connection from %s sent no UUID in %s s", peer, UUID_TIMEOUT_S)
        except (ConnectionError, OSError) as exc:
            reason = f"connection error: {exc}"
        finally:
            if call is not None:
                call.on_closed(reason)
                if self._calls.get(call.call_id) is call:
                    del self._calls[call.call_id]
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


# --------------------------------------------------------------------------- AGI handoff


class AgiCommander(Protocol):
    """What :func:`audio_session` needs of an AGI session (cti.fastagi.AgiSession)."""

    async def command(self, verb: str, *args: str | int, check: bool = True) -> Any: ...

    async def get_variable(self, name: str) -> str | None: ...


@contextlib.asynccontextmanager
async def audio_session(
    agi: AgiCommander, hub: AudioHub, *, connect_timeout_s: float | None = None
) -> AsyncIterator[AudioCall]:
    """Connect the AGI channel's audio to the hub for a speech dialogue::

        async with audio_session(agi, hub) as call:
            result = await hub.listen(call.call_id, ["예약", "문의"], prompt=wav)
        # back in AGI: set HOTLINE_NEXT, transfer, ...

    Raises :class:`AudioNotConnected` if ``AudioSocket()`` failed or did not connect
    (the caller is still on the line: fall back to keypad prompts over AGI)."""
    call_id = hub.expect()
    exec_task = asyncio.create_task(
        agi.command("EXEC", "TryExec", f"AudioSocket({call_id},{hub.address})")
    )
    try:
        waiter = asyncio.ensure_future(hub.connected(call_id, connect_timeout_s))
        done, _ = await asyncio.wait({waiter, exec_task}, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            status = await agi.get_variable("TRYSTATUS")
            raise AudioNotConnected(f"AudioSocket() ended before connecting (TRYSTATUS={status})")
        call = waiter.result()
        yield call
    finally:
        await hub.release(call_id)
        if not exec_task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(exec_task), 5.0)
        if exec_task.done() and not exec_task.cancelled():
            exec_task.exception()  # retrieved; the AGI session reports hang-ups itself


# --------------------------------------------------------------------------- simulation


def trim_trailing_quiet(pcm: bytes, level_dbfs: float = -45.0) -> bytes:
    """``pcm`` up to the end of its last 20 ms frame louder than ``level_dbfs``."""
    import numpy as np

    whole = len(pcm) - len(pcm) % FRAME_BYTES
    if not whole:
        return pcm
    frames = np.frombuffer(pcm[:whole], dtype="<i2").astype(np.float64).reshape(-1, 160)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    loud = np.nonzero(20 * np.log10(rms / 32768 + 1e-9) > level_dbfs)[0]
    return pcm[: (int(loud[-1]) + 1) * FRAME_BYTES] if len(loud) else b""


@dataclass
class CallerScript:
    """What a simulated caller says (PCM chunks, or pauses in seconds) and what it heard.

    ``spoke_until``: ``time.monotonic()`` when the last frame of each speech chunk was
    sent; ``heard``: arrival time of every audio frame the caller received."""

    call_id: str
    script: list[bytes | float]
    spoke_until: list[float] = field(default_factory=list)
    heard: list[float] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class SimulatedCallerLine:
    """The caller's end of a simulated call (tests, benchmarks): an AudioSocket server
    that the ``[speech-caller-sim]`` context connects to. It speaks its script paced in
    real time (20 ms frames, silence frames between and after, as a phone sends) and
    records when it hears audio, so the time from "caller stops speaking" to "caller
    hears the next prompt" is measured at the caller, across the real Asterisk.

    One clock sends the due frames of every caller (a task and a timer per caller and
    frame would make the simulator cost more CPU than the hub it drives)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._scripts: dict[str, CallerScript] = {}
        self._talkers: list[_Talker] = []
        self._clock: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock

    def expect(self, script: Iterable[bytes | float], call_id: str | None = None) -> CallerScript:
        """Register a caller (``call_id``: a UUID chosen by the caller of this, else a new
        one). Speech chunks are trimmed of trailing quiet (so ``spoke_until`` is when the
        voice stops, not when a file's tail of silence ends)."""
        items = [trim_trailing_quiet(i) if isinstance(i, bytes) else i for i in script]
        call = CallerScript(str(uuid_mod.UUID(call_id or str(uuid_mod.uuid4()))), items)
        self._scripts[call.call_id] = call
        return call

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = FrameDecoder()
        first = await reader.readexactly(19)
        frames = decoder.feed(first)
        script = self._scripts.pop(str(uuid_mod.UUID(bytes=frames[0].payload)), None)
        if script is None:
            writer.close()
            return
        script.connected.set()
        loop = asyncio.get_running_loop()
        self._talkers.append(_Talker(script, writer, _script_frames(script.script), loop.time()))
        if self._clock is None or self._clock.done():
            self._clock = asyncio.create_task(self._run_clock(), name="caller-line-clock")
        try:
            while data := await reader.read(65536):
                now = time.monotonic()
                for frame in decoder.feed(data):
                    if frame.kind == Kind.AUDIO:
                        script.heard.append(now)
        except (ConnectionError, AudioSocketProtocolError):
            pass
        finally:
            script.finished.set()
            writer.close()

    async def _run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while self._talkers:
            now = loop.time()
            for talker in list(self._talkers):
                if talker.writer.is_closing():
                    self._talkers.remove(talker)
                    continue
                due = int((now - talker.start) / FRAME_S) + 1
                while talker.sent < due:  # late ticks catch up: the caller's audio is real time
                    frame, ends_speech = next(talker.frames)
                    talker.writer.write(frame)
                    talker.sent += 1
                    if ends_speech:
                        talker.script.spoke_until.append(time.monotonic())
            next_tick = max(next_tick + FRAME_S, loop.time())
            await asyncio.sleep(next_tick - loop.time())


@dataclass(slots=True)
class _Talker:
    script: CallerScript
    writer: asyncio.StreamWriter
    frames: Iterator[tuple[bytes, bool]]
    start: float
    sent: int = 0


def _script_frames(script: list[bytes | float]) -> Iterator[tuple[bytes, bool]]:
    """The caller's AudioSocket audio messages, one per 20 ms, each with whether it is the
    last frame of a speech chunk; silence for ever after the script."""
    silence = encode_frame(Kind.AUDIO, bytes(FRAME_BYTES))
    for item in script:
        if isinstance(item, bytes):
            for offset in range(0, len(item), FRAME_BYTES):
                chunk = item[offset : offset + FRAME_BYTES].ljust(FRAME_BYTES, b"\0")
                yield encode_frame(Kind.AUDIO, chunk), offset + FRAME_BYTES >= len(item)
        else:
            for _ in range(round(float(item) / FRAME_S)):
                yield silence, False
    while True:
        yield silence, False
