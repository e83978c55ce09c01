"""The IVR on live calls: the FastAGI app behind ``AGI(agi://…/inbound)``.

One :class:`~ivr.flows.FlowEngine` session per call. The app answers, identifies the
caller by caller ID (greeting by name only the number's single owner, never a withheld
or tampered caller ID), then feeds the engine events and carries out its effects:

- ``Play``: the prompt cache's 8 kHz file (a sensitive prompt — a date of birth read
  back — is rendered to a transient file and deleted after playing);
- ``Listen``: keys over AGI (``WAIT FOR DIGIT``), or speech and keys over AudioSocket
  when a speech hub is configured and the call's audio connects;
- ``RunAction``: :class:`~ivr.action_executor.ActionExecutor` (never raises);
- ``RecordTurn``: a row in the store's IVR session;
- ``Transfer``: the findings on the IVR session, one :class:`~cti.handover.Handover` on
  the bus, and ``HOTLINE_NEXT`` set to the context the composition root chose;
- ``Hangup``: the goodbye was said; ``HOTLINE_NEXT`` sends the call to hang up.

A caller who hangs up mid-flow ends the session (outcome ``caller_hangup``); booking
actions only run after the caller's "yes", and each is one transaction, so nothing is
left half-made. Should the adapter itself fail, the AGI ends without ``HOTLINE_NEXT``
and the dialplan's fallback queue takes the caller (dialplans/hotline.conf).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from crm_store.enums import PreferredLanguage
from crm_store.gateway import StoreGateway
from crm_store.repositories.ivr import IvrRepository
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
)
from ivr.flows import (
    Alternative,
    CallerHangup,
    CallStarted,
    DtmfInput,
    Effect,
    Event,
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
)
from ivr.prompts import PromptCache, PromptRenderer
from ivr.recognition import Grammar, Outcome, RecognitionResult

log = logging.getLogger(__name__)

#: Where the dialplan sends a caller the flow said goodbye to.
AFTER_GOODBYE = "hotline-hangup,s,1"
#: Keys that may cut a prompt short.
ESCAPE_DIGITS = "0123456789*#"
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

    async def play(self, play: Play, file: Path) -> str:
        """Play ``file``; return the key that cut it short ("" if none)."""
        ...

    async def listen(self, listen: Listen, prompt: tuple[Play, Path] | None, typed: str) -> Event:
        """Play ``prompt`` (if any) and collect the answer (``typed``: keys already
        pressed during earlier prompts)."""
        ...


Report = Callable[[PromptPlayed | Listening], None]


class KeypadMedia:
    """Prompts by ``STREAM FILE``, keys by ``WAIT FOR DIGIT``: no speech."""

    def __init__(self, session: AgiSession, layout: InstanceLayout, report: Report) -> None:
        self.session = session
        self.layout = layout
        self.report = report
        self.ahead = ""  # a key pressed after a full answer: the next answer's first

    def _asterisk_name(self, file: Path) -> str:
        return str(self.layout.to_asterisk(file).with_suffix(""))

    async def play(self, play: Play, file: Path) -> str:
        escape = ESCAPE_DIGITS if play.barge_in else ""
        name = self._asterisk_name(file)
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

    async def listen(self, listen: Listen, prompt: tuple[Play, Path] | None, typed: str) -> Event:
        digits, self.ahead = typed + self.ahead, ""
        uniqueid = self.session.env.uniqueid
        answerable = prompt is None or prompt[0].barge_in
        if answerable:
            self.report(Listening(uniqueid, listen.step, time.monotonic()))
        if not digits and prompt is not None:
            digits = await self.play(*prompt)
        if not answerable:
            self.report(Listening(uniqueid, listen.step, time.monotonic()))
        if not digits:
            digits = await self._digit(listen.timeout_ms)
            if not digits:
                return NoInput(at=time.monotonic())
        spec = listen.dtmf
        while len(digits) < spec.max_digits and not (
            spec.terminator and digits.endswith(spec.terminator)
        ):
            more = await self._digit(INTER_DIGIT_MS)
            if not more:
                break
            digits += more
        if spec.terminator and len(digits) == spec.max_digits:
            # A caller who keys all the digits and then the terminator ("#") means one
            # answer: take the terminator with it rather than as the next step's answer.
            more = await self._digit(TERMINATOR_GRACE_MS)
            if more == spec.terminator:
                digits += more
            else:
                self.ahead = more
        return DtmfInput(digits, at=time.monotonic())


class SpeechMedia:
    """Prompts and answers over the call's AudioSocket: speech (vosk) and keys, with
    barge-in by voice or key."""

    def __init__(self, call: AudioCall, hub: AudioHub, uniqueid: str, report: Report) -> None:
        self.call = call
        self.hub = hub
        self.uniqueid = uniqueid
        self.report = report

    def _report(self, play: Play, file: Path, completed: bool, played_s: float) -> None:
        samples = int(played_s * 8000)
        self.report(
            PromptPlayed(self.uniqueid, play.text, play.language, str(file), "", completed, samples)
        )

    async def play(self, play: Play, file: Path) -> str:
        result = await self.hub.play(self.call.call_id, file, barge_in=False)
        completed = result.end is PlaybackEnd.COMPLETED
        self._report(play, file, completed, result.played_s)
        if self.call.closed.is_set():
            raise CallGone(f"audio closed during {result.end}")
        return ""

    async def listen(self, listen: Listen, prompt: tuple[Play, Path] | None, typed: str) -> Event:
        if typed:
            return DtmfInput(typed, at=time.monotonic())
        grammar = Grammar.of(None if listen.free_form else listen.grammar)
        self.report(Listening(self.uniqueid, listen.step, time.monotonic()))
        try:
            result = await self.hub.listen(
                self.call.call_id,
                grammar,
                listen.timeout_ms / 1000,
                prompt=None if prompt is None else prompt[1],
                barge_in=True,
                max_digits=listen.dtmf.max_digits,
                digit_timeout_s=INTER_DIGIT_MS / 1000,
            )
        except CallerHungUp as exc:
            raise CallGone(str(exc)) from exc
        if prompt is not None:
            self._report(*prompt, not result.barged_in, 0.0)
        return speech_event(result)


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
    ivr_session: int | None = None
    typed: str = ""
    pending_prompt: list[tuple[Play, Path, bool]] = field(default_factory=list)
    next_context: str | None = None
    transient: list[Path] = field(default_factory=list)


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
        store: StoreGateway,
        bus: EventBus,
        hospital_names: Mapping[Language, str],
        handover_context: str,
        default_language: Language,
        hub: AudioHub | None = None,
    ) -> None:
        self.engine = engine
        self.executor = executor
        self.identifier = identifier
        self.prompts = prompts
        self.renderer = renderer
        self.layout = layout
        self.store = store
        self.bus = bus
        self.hospital = {language.value: name for language, name in hospital_names.items()}
        self.handover_context = handover_context
        self.default_language = default_language
        self.hub = hub

    async def __call__(self, session: AgiSession) -> None:
        await session.answer()
        started = await self._call_started(session)
        call = _Call(session.env.uniqueid, session.env.channel, started.caller_number)
        try:
            if self.hub is None:
                await self._run(session, call, started, self._keypad(session))
            else:
                await self._run_with_speech(session, call, started, self.hub)
        finally:
            for path in call.transient:
                path.unlink(missing_ok=True)
        if call.next_context is not None and not session.hung_up:
            # Set last: if anything above failed, the dialplan's fallback takes the caller.
            await session.set_variable("HOTLINE_NEXT", call.next_context)

    async def _run_with_speech(
        self, session: AgiSession, call: _Call, started: CallStarted, hub: AudioHub
    ) -> None:
        try:
            async with audio_session(session, hub) as audio:
                media = SpeechMedia(audio, hub, call.uniqueid, self._report)
                await self._run(session, call, started, media)
                return
        except AudioNotConnected as exc:
            if session.hung_up:
                raise AgiHangup("caller hung up before the audio connected") from exc
            log.warning("IVR %s: no speech audio (%s); keypad only", call.uniqueid, exc)
        await self._run(session, call, started, self._keypad(session))

    def _keypad(self, session: AgiSession) -> KeypadMedia:
        return KeypadMedia(session, self.layout, self._report)

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
        call.ivr_session = await self._start_session(call, state.language, started.patient_id)
        try:
            while effects:
                event = await self._carry_out(call, effects, media)
                if event is None:
                    break
                state, effects = self.engine.next(state, event)
        except (AgiHangup, CallGone):
            state, effects = self.engine.next(state, CallerHangup(at=time.monotonic()))
            await self._record(call, [e for e in effects if isinstance(e, RecordTurn)])
            await self._end(call, "caller_hangup", state.identity, state.slots)
            raise AgiHangup(f"caller {call.uniqueid} hung up during the IVR") from None
        await self._end(call, state.outcome or "ended", state.identity, state.slots)

    async def _carry_out(self, call: _Call, effects: list[Effect], media: Media) -> Event | None:
        """Carry out one batch of effects; the event that answers it (None: the IVR is
        done with this call)."""
        turns = [e for e in effects if isinstance(e, RecordTurn)]
        await self._record(call, turns)
        plays: list[Play] = []
        for effect in effects:
            if isinstance(effect, Play):
                plays.append(effect)
            elif isinstance(effect, Listen):
                # The last prompt before a listen is the one the answer may cut short.
                last = plays.pop() if plays else None
                await self._play_all(call, plays, media)
                prompt = None
                if last is not None and not call.typed:
                    prompt = (last, await self._file(call, last))
                typed, call.typed = call.typed, ""
                return await media.listen(effect, prompt, typed)
            elif isinstance(effect, RunAction):
                await self._play_all(call, plays, media)
                plays = []
                return await self.executor.run(effect)
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

    async def _file(self, call: _Call, play: Play) -> Path:
        language = play.language
        if play.sensitive:
            # What the caller keyed at a sensitive step is never kept on disk.
            dest = self.prompts.cache_dir / "transient" / f"{uuid.uuid4().hex}.wav"
            await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
            call.transient.append(dest)
            rendered = await self.renderer.render(play.text, _voice_of(language), dest)
            return rendered.path
        prompt = await self.prompts.get(play.text, _voice_of(language))
        return prompt.path

    async def _transfer(self, call: _Call, transfer: Transfer) -> None:
        findings = transfer.findings
        await self._end(call, "to_agent", findings.identity, {"patient_id": findings.patient_id})
        self.bus.publish(
            HANDOVER_TOPIC,
            Handover(
                uniqueid=call.uniqueid,
                channel=call.channel,
                queue=transfer.queue,
                reason=transfer.reason,
                skill=transfer.skill,
                language=findings.language,
                findings=findings,
                at=dt.datetime.now(dt.UTC),
                caller_number=call.caller_number,
            ),
        )
        call.next_context = self.handover_context

    # -- the store --

    async def _start_session(self, call: _Call, language: str, patient_id: str | None) -> int:
        try:
            stored = PreferredLanguage(language)
        except ValueError:  # a test-only flow language (ko) is stored as the default
            stored = PreferredLanguage(self.default_language.value)
        pid = int(patient_id) if patient_id and patient_id.isdigit() else None
        return await self.store.write(
            lambda s: IvrRepository(s).start_session(
                linkedid=call.uniqueid, flow="main", language=stored, patient_id=pid
            )
        )

    async def _record(self, call: _Call, turns: list[RecordTurn]) -> None:
        if not turns or call.ivr_session is None:
            return
        session_id = call.ivr_session

        def add(s: Session) -> None:
            repository = IvrRepository(s)
            for turn in turns:
                repository.add_turn(
                    session_id,
                    step=turn.step,
                    prompt=turn.prompt,
                    heard=turn.heard,
                    dtmf=turn.dtmf,
                    confidence=turn.confidence,
                    chosen_action=turn.action,
                    duration_ms=turn.duration_ms,
                )

        await self.store.write(add)

    async def _end(
        self, call: _Call, outcome: str, identity: Identity, slots: Mapping[str, str | None]
    ) -> None:
        if call.ivr_session is None:
            return
        session_id, call.ivr_session = call.ivr_session, None
        raw = slots.get("patient_id")
        pid = int(raw) if raw and raw.isdigit() else None
        await self.store.write(
            lambda s: IvrRepository(s).end_session(
                session_id,
                outcome=outcome[:32],
                identity_verified=identity is Identity.VERIFIED,
                patient_id=pid,
            )
        )


def _voice_of(language: str) -> Language | str:
    try:
        return Language(language)
    except ValueError:
        return language  # a flow language without a Language member (ko): its voice name
