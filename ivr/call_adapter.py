"""The IVR on live calls: the FastAGI app behind ``AGI(agi://…/inbound)``.

One :class:`~ivr.flows.FlowEngine` session per call. The app answers, identifies the
caller by caller ID (greeting by name only the number's single owner, never a withheld
or tampered caller ID), then feeds the engine events and carries out its effects:

- ``Play``: the prompt cache's 8 kHz file (a sensitive prompt — a date of birth read
  back — is rendered to a transient file and deleted after playing);
- ``Listen``: keys over AGI (``GET DATA`` plays the question and reads the answer in
  one command: see :class:`KeypadMedia`), or speech and keys over AudioSocket when a
  speech hub is configured and the call's audio connects; every prompt of the turn
  before it may be cut short by the answer (barge-in). At a free-form step a keypad
  caller, who cannot be transcribed, leaves a voice message after a tone instead
  (``RECORD FILE``; kept by :class:`~ivr.voice_messages.VoiceMessageStore` and deleted
  again unless a complaint is filed with it);
- ``RunAction``: :class:`~ivr.action_executor.ActionExecutor` (never raises);
- ``RecordTurn``: a row in the store's IVR session;
- ``Transfer``: one :class:`~cti.handover.Handover` on the bus, and ``HOTLINE_NEXT`` set
  to the context the composition root chose;
- ``Hangup``: the goodbye was said; ``HOTLINE_NEXT`` sends the call to hang up.

However the session ends, its findings (who, verified or not, intent, slots, why) are
stored on it. A caller who hangs up mid-flow ends the session (outcome
``caller_hangup``); booking
actions only run after the caller's "yes", and each is one transaction, so nothing is
left half-made. Should the adapter itself fail, the AGI ends without ``HOTLINE_NEXT``
and the dialplan's fallback queue takes the caller (dialplans/hotline.conf); so it does when
Hotline stops with callers in the IVR (their sessions end as ``hotline_stopped``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from crm_store.repositories.ivr import TurnRow
from cti.asterisk.provisioner import InstanceLayout
from cti.bus import EventBus
from cti.caller_identification import CallerIdentifier
from cti.errors import AgiHangup
from cti.fastagi import AgiEnvironment, AgiSession
from cti.handover import HANDOVER_TOPIC, Handover
from cti.settings import Language
from ivr import speech_text
from ivr.action_executor import ActionExecutor
from ivr.audiosocket import (
    AudioCall,
    AudioHub,
    AudioNotConnected,
    CallerHungUp,
    PlaybackEnd,
    audio_session,
    read_prompt,
)
from ivr.flows import (
    Alternative,
    CallerHangup,
    CallStarted,
    DtmfInput,
    Effect,
    Event,
    Findings,
    FlowEngine,
    Hangup,
    Identity,
    Listen,
    NoInput,
    Play,
    RecordTurn,
    RunAction,
    SpeechResult,
    Transfer,
    VoiceMessage,
)
from ivr.prompts import PromptCache, PromptFile, PromptRenderer, PromptRenderError
from ivr.recognition import Grammar, Outcome, RecognitionResult
from ivr.session_journal import IvrJournal, JournalledSession
from ivr.voice_messages import VoiceMessageStore

log = logging.getLogger(__name__)

#: The outcome of a session Hotline stopped during (the dialplan's fallback took the call).
HOTLINE_STOPPED = "hotline_stopped"
#: Where the dialplan sends a caller the flow said goodbye to.
AFTER_GOODBYE = "hotline-hangup,s,1"
#: Keys that may cut a prompt short.
ESCAPE_DIGITS = "0123456789*#"
#: The key that ends a voice message the caller is done with.
_END_MESSAGE = "#"
#: The key that ends a digit entry early (Asterisk's GET DATA stops on it alone).
_END_ENTRY = "#"
#: Longest wait between two keys of a multi-digit answer.
INTER_DIGIT_MS = 3000
#: How long a full multi-digit answer waits for its terminator key.
TERMINATOR_GRACE_MS = 600


@dataclass(frozen=True, slots=True)
class PromptPlayed:
    """Published on the bus as ``ivr.prompt_played`` for every prompt a caller hears."""

    uniqueid: str
    text: str
    language: str
    asterisk_file: str
    interrupted_by: str  # the key that cut it short, "" if none
    completed: bool  # False when the caller hung up during it (or cut it short)
    samples_played: int = 0  # 8000 a second


#: The bus topic of :class:`PromptPlayed`.
PROMPT_PLAYED_TOPIC = "ivr.prompt_played"


@dataclass(frozen=True, slots=True)
class Listening:
    """Published as ``ivr.listening`` when a call starts taking an answer at ``step``
    (while its prompt plays, when the caller may cut it short)."""

    uniqueid: str
    step: str
    at: float  # time.monotonic()


#: The bus topic of :class:`Listening`.
LISTENING_TOPIC = "ivr.listening"


def presentation_restricted(env: AgiEnvironment) -> bool:
    """Whether the caller asked for their number to be withheld (AST_PRES_RESTRICTED)."""
    try:
        return int(env.get("agi_callingpres", "0")) & 0x60 == 0x20
    except ValueError:
        return False


class CallGone(Exception):
    """The caller hung up (AGI or AudioSocket said so)."""


class Media(Protocol):
    """How prompts reach the caller and answers come back."""

    async def play(self, play: Play, prompt: PromptFile) -> str:
        """Play ``prompt``; return the key that cut it short ("" if none)."""
        ...

    async def listen(self, listen: Listen, prompts: Prompts, typed: str) -> Event:
        """Play ``prompts`` (the caller may cut them short) and collect the answer
        (``typed``: keys already pressed during earlier prompts)."""
        ...


Report = Callable[[PromptPlayed | Listening], None]
#: The prompts of a turn that its answer may cut short, each with its audio file.
Prompts = list[tuple[Play, PromptFile]]
#: One file playing a turn's prompts back to back (:meth:`PromptCache.joined`).
JoinPrompts = Callable[[Sequence[PromptFile]], Awaitable[PromptFile]]


class KeypadMedia:
    """Prompts and keys over AGI alone: no speech.

    A turn's answer is collected by the same ``GET DATA`` that plays its question: while
    Asterisk waits for the next AGI command it reads the caller's audio and throws it
    away, DTMF included, so a key pressed between two commands — after the one that
    returned a barge-in key, before the one that reads the rest of the number — would
    be lost (under load that gap is the IVR's turnaround, hundreds of ms). A turn of
    several prompts is played as one joined file for the same reason. ``GET DATA`` has
    one timeout, so the step's ``timeout_ms`` is both the wait for the first key after
    the question and the longest pause between two keys.
    """

    def __init__(
        self,
        session: AgiSession,
        layout: InstanceLayout,
        report: Report,
        voice_messages: VoiceMessageStore,
        join: JoinPrompts,
    ) -> None:
        self.session = session
        self.layout = layout
        self.report = report
        self.voice_messages = voice_messages
        self.join = join
        self.ahead = ""  # a key pressed after a full answer: the next answer's first

    def _asterisk_name(self, file: Path) -> str:
        return str(self.layout.to_asterisk(file).with_suffix(""))

    async def play(self, play: Play, prompt: PromptFile, escape: str | None = None) -> str:
        """Play a prompt; ``escape``: the keys that cut it short (default: any key when
        the prompt allows barge-in)."""
        if escape is None:
            escape = ESCAPE_DIGITS if play.barge_in else ""
        name = self._asterisk_name(prompt.path)
        uniqueid = self.session.env.uniqueid
        try:
            playback = await self.session.stream_file(name, escape)
        except AgiHangup:
            self.report(PromptPlayed(uniqueid, play.text, play.language, name, "", False))
            raise
        done = not playback.digit
        self.report(
            PromptPlayed(
                uniqueid, play.text, play.language, name, playback.digit, done, playback.samples
            )
        )
        return playback.digit

    async def _digit(self, timeout_ms: int) -> str:
        response = await self.session.command("WAIT FOR DIGIT", timeout_ms)
        code = response.result_int
        return chr(code) if code > 0 else ""

    async def _get_data(
        self, name: str, timeout_ms: int, count: int, terminator: str | None, *, first: bool
    ) -> str:
        """Play ``name`` ("" for none) and read up to ``count`` keys, each within
        ``timeout_ms``. Asterisk ends the entry on ``#`` without returning the key; it is
        put back when ``#`` is the step's terminator (the flow loader allows no other),
        or when it is the answer's ``first`` key (it may be a choice's key)."""
        response = await self.session.command("GET DATA", name, timeout_ms, count)
        keys = response.result
        if response.data == "timeout" or len(keys) >= count:
            return keys
        if terminator == _END_ENTRY or (first and not keys):
            keys += _END_ENTRY
        return keys

    def _listening(self, listen: Listen) -> None:
        """Say the call takes its answer now: right before the command that reads it."""
        self.report(Listening(self.session.env.uniqueid, listen.step, time.monotonic()))

    async def _question(self, prompts: Prompts) -> tuple[Prompts, PromptFile | None, str]:
        """The one file that asks the turn's question: its prompts joined. Should joining
        fail (a full disk), all but the last prompt play one by one first, as a caller
        had better hear the question with that gap than not at all; a key that cut one
        short is returned as the answer's first (with the prompts left to ask: none)."""
        if len(prompts) <= 1:
            return prompts, prompts[0][1] if prompts else None, ""
        try:
            return prompts, await self.join([prompt for _play, prompt in prompts]), ""
        except PromptRenderError as exc:
            log.warning(
                "IVR %s: cannot join the turn's prompts (%s); playing them one by one",
                self.session.env.uniqueid,
                exc,
            )
        for play, prompt in prompts[:-1]:
            key = await self.play(play, prompt)
            if key:
                return [], None, key
        return prompts[-1:], prompts[-1][1], ""

    async def _ask(self, listen: Listen, prompts: Prompts, audio: PromptFile | None) -> str:
        """Play ``audio`` (the turn's ``prompts`` in one file) and collect the answer in
        the same ``GET DATA``."""
        spec = listen.dtmf
        if audio is None:
            self._listening(listen)
            return await self._get_data(
                "", listen.timeout_ms, spec.max_digits, spec.terminator, first=True
            )
        name = self._asterisk_name(audio.path)
        started = time.monotonic()
        self._listening(listen)
        try:
            keys = await self._get_data(
                name, listen.timeout_ms, spec.max_digits, spec.terminator, first=True
            )
        except AgiHangup:
            for play, _prompt in prompts:
                self.report(
                    PromptPlayed(
                        self.session.env.uniqueid, play.text, play.language, name, "", False
                    )
                )
            raise
        # GET DATA does not say where a key cut the prompt: judged by the time it took
        # (no key: the prompt played to its end and the wait for a key timed out).
        played_s = audio.duration_s
        if keys:
            played_s = min(time.monotonic() - started, played_s)
        cut = played_s < audio.duration_s
        offset = 0.0
        for play, prompt in prompts:
            heard = min(max(played_s - offset, 0.0), prompt.duration_s)
            whole = heard >= prompt.duration_s
            self.report(
                PromptPlayed(
                    self.session.env.uniqueid, play.text, play.language, name,
                    "" if whole or not cut else keys[0], whole, int(heard * 8000),
                )
            )  # fmt: skip
            offset += prompt.duration_s
        return keys

    async def listen(self, listen: Listen, prompts: Prompts, typed: str) -> Event:
        if listen.voice_message is not None:
            return await self._voice_message(listen, prompts, typed)
        digits, self.ahead = typed + self.ahead, ""
        spec = listen.dtmf
        if not digits:
            prompts, question, digits = await self._question(prompts)
        if not digits:
            digits = await self._ask(listen, prompts, question)
            if not digits:
                return NoInput(at=time.monotonic())
        elif len(digits) < spec.max_digits and not (
            spec.terminator and digits.endswith(spec.terminator)
        ):
            # Keys typed ahead, over an earlier prompt: only the rest is read here.
            self._listening(listen)
            more = spec.max_digits - len(digits)
            digits += await self._get_data("", INTER_DIGIT_MS, more, spec.terminator, first=False)
        else:
            self._listening(listen)  # the answer is complete: nothing more is read
        if spec.terminator and len(digits) == spec.max_digits:
            # A caller who keys all the digits and then the terminator ("#") means one
            # answer: take the terminator with it rather than as the next step's answer.
            after = await self._digit(TERMINATOR_GRACE_MS)
            if after == spec.terminator:
                digits += after
            else:
                self.ahead = after
        return DtmfInput(digits, at=time.monotonic())

    async def _voice_message(self, listen: Listen, prompts: Prompts, typed: str) -> Event:
        """A free-form answer by keypad: the caller speaks after the tone and Asterisk
        records it (``#``, ``silence_s`` of silence or ``max_s`` end it). The way to a
        person (``listen.dtmf.accept``, "0") also ends it: the caller is handed over and
        the partial message is discarded — no complaint is filed with it, the caller
        tells the person themselves, and a patient's voice is not kept for nothing (the
        hand-over's findings say what the caller had chosen so far)."""
        spec = listen.voice_message
        assert spec is not None
        keys, self.ahead = typed + self.ahead, ""
        # Only the way to a person cuts these prompts: a caller keying "#" early must
        # still hear when to speak.
        for prompt in prompts:
            if keys:
                break
            keys = await self.play(*prompt, escape=listen.dtmf.accept)
        if keys:
            return DtmfInput(keys, at=time.monotonic())
        to_person = "".join(k for k in listen.dtmf.accept if k != _END_MESSAGE)
        escape = _END_MESSAGE + to_person
        recording = self.voice_messages.recording_file(self.session.env.uniqueid)
        self.report(Listening(self.session.env.uniqueid, listen.step, time.monotonic()))
        try:
            response = await self.session.command(
                "RECORD FILE",
                self.voice_messages.asterisk_name(recording),
                "wav",
                escape,
                spec.max_s * 1000,
                "BEEP",
                f"s={spec.silence_s}",
            )
        except AgiHangup:
            await self.voice_messages.discard(recording)
            raise
        if response.result_int < 0:
            await self.voice_messages.discard(recording)
            if response.data == "hangup" or self.session.hung_up:
                self.session.hung_up = True
                raise AgiHangup("channel hung up during RECORD FILE")
            log.error("RECORD FILE failed (%s): is the monitor directory writable?", response)
            return NoInput(at=time.monotonic())
        if response.data == "dtmf" and 0 < response.result_int < 128:
            key = chr(response.result_int)
            if key in to_person:
                await self.voice_messages.discard(recording)
                return DtmfInput(key, at=time.monotonic())
        kept = await self.voice_messages.keep(recording)
        if kept is None:
            return NoInput(at=time.monotonic())
        return VoiceMessage(str(kept.path), kept.seconds, at=time.monotonic())


class SpeechMedia:
    """Prompts and answers over the call's AudioSocket: speech (vosk) and keys, with
    barge-in by voice or key."""

    def __init__(
        self,
        call: AudioCall,
        hub: AudioHub,
        uniqueid: str,
        report: Report,
        voice_messages: VoiceMessageStore,
    ) -> None:
        self.call = call
        self.hub = hub
        self.uniqueid = uniqueid
        self.report = report
        self.voice_messages = voice_messages

    def _report(self, play: Play, prompt: PromptFile, completed: bool, played_s: float) -> None:
        samples = int(played_s * 8000)
        file = str(prompt.path)
        self.report(
            PromptPlayed(self.uniqueid, play.text, play.language, file, "", completed, samples)
        )

    async def play(self, play: Play, prompt: PromptFile) -> str:
        result = await self.hub.play(self.call.call_id, prompt.path, barge_in=False)
        completed = result.end is PlaybackEnd.COMPLETED
        self._report(play, prompt, completed, result.played_s)
        if self.call.closed.is_set():
            raise CallGone(f"audio closed during {result.end}")
        return ""

    async def listen(self, listen: Listen, prompts: Prompts, typed: str) -> Event:
        if typed:
            return DtmfInput(typed, at=time.monotonic())
        grammar = Grammar.of(None if listen.free_form else listen.grammar)
        # The turn's prompts as one stream, so that speaking or keying over any of them
        # cuts them all short and is heard as the answer.
        audio = None
        if prompts:
            parts = await asyncio.gather(
                *(asyncio.to_thread(read_prompt, f.path) for _p, f in prompts)
            )
            audio = b"".join(parts)
        self.report(Listening(self.uniqueid, listen.step, time.monotonic()))
        try:
            result = await self.hub.listen(
                self.call.call_id,
                grammar,
                listen.timeout_ms / 1000,
                prompt=audio,
                barge_in=True,
                max_digits=listen.dtmf.max_digits,
                digit_timeout_s=INTER_DIGIT_MS / 1000,
                keep_audio=listen.voice_message is not None,
            )
        except CallerHungUp as exc:
            raise CallGone(str(exc)) from exc
        for play, prompt in prompts:
            self._report(play, prompt, not result.barged_in, 0.0)
        event = speech_event(result)
        if listen.voice_message is not None and isinstance(event, SpeechResult) and event.text:
            # Keep the words' audio too, next to their transcription.
            audio = bytes(self.call.heard_audio)
            kept = await self.voice_messages.keep_audio(audio, self.uniqueid)
            if kept is not None:
                recording = VoiceMessage(str(kept.path), kept.seconds, at=event.at)
                event = dataclasses.replace(event, recording=recording)
        return event


def speech_event(result: RecognitionResult) -> Event:
    """The engine's event for what the recognizer made of a turn."""
    now = time.monotonic()
    if result.outcome is Outcome.KEYS:
        return DtmfInput(result.digits, at=now)
    if result.outcome is Outcome.NO_INPUT:
        return NoInput(at=now)
    if result.matched or result.text:
        alternatives: tuple[Alternative, ...] = ()
        return SpeechResult(result.text, result.confidence, alternatives, at=now)
    return SpeechResult("", 0.0, at=now)  # noise or an unmatched phrase: a no-match


@dataclass
class _Call:
    """One call's running state in the adapter."""

    uniqueid: str
    channel: str
    caller_number: str | None = None  # as received; None when withheld or tampered
    ivr_session: JournalledSession | None = None
    typed: str = ""
    next_context: str | None = None
    next_variables: dict[str, str] = field(default_factory=dict)
    transient: list[Path] = field(default_factory=list)
    voice_messages: list[Path] = field(default_factory=list)  # kept, not (yet) filed


#: Channel variables a hand-over sets on the caller before the dialplan takes them on
#: (e.g. the recording notice: recordings.announcement).
HandoverVariables = Callable[[Handover], Awaitable[Mapping[str, str]]]


class IvrCallApp:
    """The FastAGI handler that runs the flows on live calls; one serves every call."""

    def __init__(
        self,
        *,
        engine: FlowEngine,
        executor: ActionExecutor,
        identifier: CallerIdentifier,
        prompts: PromptCache,
        renderer: PromptRenderer,
        layout: InstanceLayout,
        journal: IvrJournal,
        bus: EventBus,
        hospital_names: Mapping[Language, str],
        handover_context: str,
        default_language: Language,
        voice_messages: VoiceMessageStore,
        hub: AudioHub | None = None,
        handover_variables: HandoverVariables | None = None,
    ) -> None:
        self.engine = engine
        self.executor = executor
        self.identifier = identifier
        self.prompts = prompts
        self.renderer = renderer
        self.layout = layout
        self.journal = journal
        self.bus = bus
        self.hospital = {language.value: name for language, name in hospital_names.items()}
        self.handover_context = handover_context
        self.default_language = default_language
        self.voice_messages = voice_messages
        self.hub = hub
        self.handover_variables = handover_variables

    async def __call__(self, session: AgiSession) -> None:
        call = _Call(session.env.uniqueid, session.env.channel)
        try:
            await session.answer()
            started = await self._call_started(session)
            call.caller_number = started.caller_number
            if self.hub is None:
                await self._run(session, call, started, self._keypad(session, call))
            else:
                await self._run_with_speech(session, call, started, self.hub)
        except asyncio.CancelledError:
            # Hotline is stopping (its FastAGI server cancels the calls' tasks). The AGI
            # link closes when this returns and the dialplan's fallback takes the caller:
            # a clean end, not a failure. Re-raised, the cancelled connection task would
            # be logged by asyncio with a traceback.
            log.info("IVR %s: Hotline stopping; the dialplan takes the caller", call.uniqueid)
            return
        finally:
            for path in call.transient:
                path.unlink(missing_ok=True)
            if call.voice_messages:  # recorded, but no complaint was filed with them
                await asyncio.shield(self.voice_messages.discard(*call.voice_messages))
        if call.next_context is not None and not session.hung_up:
            for name, value in call.next_variables.items():
                await session.set_variable(name, value)
            # Set last: if anything above failed, the dialplan's fallback takes the caller.
            await session.set_variable("HOTLINE_NEXT", call.next_context)

    async def _run_with_speech(
        self, session: AgiSession, call: _Call, started: CallStarted, hub: AudioHub
    ) -> None:
        try:
            async with audio_session(session, hub) as audio:
                media = SpeechMedia(audio, hub, call.uniqueid, self._report, self.voice_messages)
                await self._run(session, call, started, media)
                return
        except AudioNotConnected as exc:
            if session.hung_up:
                raise AgiHangup("caller hung up before the audio connected") from exc
            log.warning("IVR %s: no speech audio (%s); keypad only", call.uniqueid, exc)
        await self._run(session, call, started, self._keypad(session, call))

    def _keypad(self, session: AgiSession, call: _Call) -> KeypadMedia:
        async def join(parts: Sequence[PromptFile]) -> PromptFile:
            if not any(part.path in call.transient for part in parts):
                return await self.prompts.joined(parts)
            dest = self._transient_file(call)
            return await self.prompts.joined(parts, dest)

        return KeypadMedia(session, self.layout, self._report, self.voice_messages, join)

    def _report(self, event: PromptPlayed | Listening) -> None:
        topic = PROMPT_PLAYED_TOPIC if isinstance(event, PromptPlayed) else LISTENING_TOPIC
        self.bus.publish(topic, event)

    async def _call_started(self, session: AgiSession) -> CallStarted:
        env = session.env
        patient = None
        if not env.tampered and not presentation_restricted(env):
            patient = (await self.identifier.identify(env.caller_number)).owner
        language = None  # the engine's default language
        name = None
        if patient is not None:
            language = patient.preferred_language or self.default_language.value
            name = speech_text.speakable_name(patient.display_name, Language(language))
            await session.set_variable("HOTLINE_PATIENT_ID", str(patient.patient_id))
        withheld = env.tampered or presentation_restricted(env)
        return CallStarted(
            caller_number=None if withheld else env.caller_number or None,
            patient_id=None if patient is None else str(patient.patient_id),
            patient_name=name,
            language=language,
            hospital=self.hospital,
            at=time.monotonic(),
        )

    async def _run(
        self, session: AgiSession, call: _Call, started: CallStarted, media: Media
    ) -> None:
        state = self.engine.new_session()
        state, effects = self.engine.next(state, started)
        self._open_session(call, state.language, started.patient_id)
        try:
            while effects:
                event = await self._carry_out(call, effects, media)
                if event is None:
                    break
                state, effects = self.engine.next(state, event)
        except (AgiHangup, CallGone):
            state, effects = self.engine.next(state, CallerHangup(at=time.monotonic()))
            self._record(call, [e for e in effects if isinstance(e, RecordTurn)])
            await self._end(call, "caller_hangup", self.engine.findings(state, "caller_hangup"))
            raise AgiHangup(f"caller {call.uniqueid} hung up during the IVR") from None
        except asyncio.CancelledError:
            await self._end(call, HOTLINE_STOPPED, self.engine.findings(state, HOTLINE_STOPPED))
            raise
        outcome = state.outcome or "ended"
        await self._end(call, outcome, self.engine.findings(state, outcome))

    async def _carry_out(self, call: _Call, effects: list[Effect], media: Media) -> Event | None:
        """Carry out one batch of effects; the event that answers it (None: the IVR is
        done with this call)."""
        turns = [e for e in effects if isinstance(e, RecordTurn)]
        self._record(call, turns)
        plays: list[Play] = []
        for effect in effects:
            if isinstance(effect, Play):
                plays.append(effect)
            elif isinstance(effect, Listen):
                # The answer may cut short every prompt of the turn that allows it: the
                # barge-in prompts right before the listen.
                cut = len(plays)
                while cut > 0 and plays[cut - 1].barge_in:
                    cut -= 1
                tail, plays = plays[cut:], plays[:cut]
                await self._play_all(call, plays, media)
                prompts: Prompts = []
                if not call.typed:
                    prompts = [(play, await self._file(call, play)) for play in tail]
                typed, call.typed = call.typed, ""
                event = await media.listen(effect, prompts, typed)
                if isinstance(event, VoiceMessage):
                    call.voice_messages.append(Path(event.path))
                elif isinstance(event, SpeechResult) and event.recording is not None:
                    call.voice_messages.append(Path(event.recording.path))
                return event
            elif isinstance(effect, RunAction):
                await self._play_all(call, plays, media)
                plays = []
                result = await self.executor.run(effect)
                if effect.name == "open_complaint" and result.outcome == "opened":
                    filed = Path(effect.params.get("voice_message") or "-")
                    call.voice_messages = [p for p in call.voice_messages if p != filed]
                return result
            elif isinstance(effect, Transfer):
                await self._play_all(call, plays, media)
                await self._transfer(call, effect)
                return None
            elif isinstance(effect, Hangup):
                await self._play_all(call, plays, media)
                call.next_context = AFTER_GOODBYE
                return None
        await self._play_all(call, plays, media)
        return None

    async def _play_all(self, call: _Call, plays: list[Play], media: Media) -> None:
        for play in plays:
            if call.typed and play.barge_in:
                continue  # the caller already keyed ahead: don't make them listen
            key = await media.play(play, await self._file(call, play))
            call.typed += key
        plays.clear()

    async def _file(self, call: _Call, play: Play) -> PromptFile:
        voice = _voice_of(play.language)
        if play.sensitive:
            # What the caller keyed at a sensitive step is never kept on disk.
            dest = self._transient_file(call)
            await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
            rendered = await self.renderer.render(play.text, voice, dest)
            name = self.renderer.voice_for(voice)
            return PromptFile(rendered.path, play.text, name, rendered.duration_s)
        return await self.prompts.get(play.text, voice)

    def _transient_file(self, call: _Call) -> Path:
        """A file for this call only, deleted when the call leaves the IVR."""
        dest = self.prompts.cache_dir / "transient" / f"{uuid.uuid4().hex}.wav"
        call.transient.append(dest)
        return dest

    async def _transfer(self, call: _Call, transfer: Transfer) -> None:
        findings = transfer.findings
        await self._end(call, "to_agent", findings)
        handover = Handover(
            uniqueid=call.uniqueid,
            channel=call.channel,
            queue=transfer.queue,
            reason=transfer.reason,
            skill=transfer.skill,
            language=findings.language,
            findings=findings,
            at=dt.datetime.now(dt.UTC),
            caller_number=call.caller_number,
        )
        if self.handover_variables is not None:
            call.next_variables = dict(await self.handover_variables(handover))
        self.bus.publish(HANDOVER_TOPIC, handover)
        call.next_context = self.handover_context

    # -- the store --

    def _open_session(self, call: _Call, language: str, patient_id: str | None) -> None:
        # The flow language the caller is served in, whichever it is (the Korean test
        # flow's "ko" included): not a patient's PreferredLanguage.
        pid = int(patient_id) if patient_id and patient_id.isdigit() else None
        call.ivr_session = self.journal.open(
            linkedid=call.uniqueid, flow="main", language=language, patient_id=pid
        )

    def _record(self, call: _Call, turns: list[RecordTurn]) -> None:
        """Queue the turns' rows: the caller's next prompt does not wait for them (the
        journal stores every call's rows together; the session's end waits for them)."""
        if turns and call.ivr_session is not None:
            self.journal.add_turns(
                call.ivr_session,
                [
                    TurnRow(
                        t.step, t.prompt, t.heard, t.dtmf, t.confidence, t.action, t.duration_ms
                    )
                    for t in turns
                ],
            )

    async def _end(self, call: _Call, outcome: str, findings: Findings) -> None:
        if call.ivr_session is None:
            return
        session, call.ivr_session = call.ivr_session, None
        raw = findings.patient_id
        await self.journal.end(
            session,
            outcome=outcome[:32],
            identity_verified=findings.identity is Identity.VERIFIED,
            patient_id=int(raw) if raw and raw.isdigit() else None,
            findings=findings.to_json(),
        )


def _voice_of(language: str) -> Language | str:
    try:
        return Language(language)
    except ValueError:
        return language  # a flow language without a Language member (ko): its voice name
