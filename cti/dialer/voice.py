"""Speaking on a dialer call over FastAGI: play a text in the patient's language and
read the key they press (shared by offer and reminder calls)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from crm_store.gateway import StoreGateway
from crm_store.models import utcnow
from cti.asterisk.provisioner import InstanceLayout
from cti.bus import EventBus
from cti.dialer import texts
from cti.dialer.config import DialerPolicy
from cti.errors import AgiHangup
from cti.fastagi import AgiSession
from cti.settings import Language
from ivr.audiosocket import AudioHub, AudioNotConnected, CallerHungUp, audio_session
from ivr.prompts import PromptCache
from ivr.recognition import Grammar, Outcome, RecognitionResult

log = logging.getLogger(__name__)

#: How long the patient has to press a key after the question, and how often it is asked.
CHOICE_WAIT_MS = 5000
ASK_TIMES = 2


@dataclass(frozen=True, slots=True)
class DialerPrompt:
    """Published as ``dialer.prompt`` for every text a dialer call plays."""

    kind: str  # "offer" | "reminder"
    call_id: int  # the offer id, or the reminder call id
    text: str
    interrupted_by: str


@dataclass(frozen=True, slots=True)
class CallArgs:
    """The AGI arguments the dialer's contexts pass: call id, AMD status and cause."""

    call_id: int
    amd_status: str
    amd_cause: str


def spoken_answers(policy: DialerPolicy, language: Language) -> dict[str, str]:
    """The words a patient of ``language`` may say instead of a key: word → "1" or "2"
    (empty — keypad only — unless both yes and no words are configured)."""
    if language is Language.MANDARIN:
        yes, no = policy.speech_yes_zh, policy.speech_no_zh
    else:
        yes, no = policy.speech_yes_en, policy.speech_no_en
    if not yes or not no:
        return {}
    return {**{" ".join(w.split()): "1" for w in yes}, **{" ".join(w.split()): "2" for w in no}}


def first_words(answers: Mapping[str, str]) -> tuple[str, str] | None:
    """The first yes word and the first no word, for the question to name."""
    yes = next((w for w, k in answers.items() if k == "1"), None)
    no = next((w for w, k in answers.items() if k == "2"), None)
    return (yes, no) if yes is not None and no is not None else None


def spoken_choice(result: RecognitionResult, answers: Mapping[str, str], keys: str) -> str:
    """The key a turn amounts to: the key pressed, the key of the word said, or ""."""
    if result.outcome is Outcome.KEYS:
        return result.digits[:1] if result.digits[:1] in keys else ""
    if result.matched:
        choice = answers.get(" ".join(result.text.split()), "")
        return choice if choice in keys else ""
    return ""


def parse_call_args(args: Sequence[str]) -> CallArgs | None:
    """The call id came from our own Originate but travels through the dialplan: digits
    only, else None."""
    if not args or not re.fullmatch(r"[0-9]{1,12}", args[0]):
        return None
    return CallArgs(
        int(args[0]), args[1] if len(args) > 1 else "", args[2] if len(args) > 2 else ""
    )


class CallVoice:
    def __init__(
        self,
        *,
        prompts: PromptCache,
        layout: InstanceLayout,
        bus: EventBus,
        hub: AudioHub | None = None,
    ) -> None:
        self.prompts = prompts
        self.layout = layout
        self.bus = bus
        self.hub = hub

    def understood(self, answers: Mapping[str, str]) -> dict[str, str]:
        """The spoken ``answers`` (word → key) the recogniser can hear: words its model
        lacks are dropped (vosk could never return them), and unless every key keeps a
        word the call is keys only ({}); {} too without a recogniser."""
        if self.hub is None or not answers:
            return {}
        recognizer = self.hub.recognizer
        known = {w: k for w, k in answers.items() if not recognizer.unknown_words(Grammar.of([w]))}
        if set(known.values()) != set(answers.values()):
            log.warning("spoken answers %s not in the speech model: keys only", sorted(answers))
            return {}
        return known

    async def say(
        self,
        session: AgiSession,
        kind: str,
        call_id: int,
        text: str,
        language: Language,
        keys: str = "",
    ) -> str:
        """Play ``text``; the key among ``keys`` that cut it short, or ""."""
        prompt = await self.prompts.get(text, language)
        asterisk_file = str(self.layout.to_asterisk(prompt.path).with_suffix(""))
        playback = await session.stream_file(asterisk_file, escape_digits=keys)
        self.bus.publish("dialer.prompt", DialerPrompt(kind, call_id, text, playback.digit))
        return playback.digit

    async def ask(
        self,
        session: AgiSession,
        kind: str,
        call_id: int,
        text: str,
        language: Language,
        keys: str = "12",
        *,
        spoken: Mapping[str, str] | None = None,
    ) -> str:
        """Say the question (up to :data:`ASK_TIMES` times) until the patient presses one
        of ``keys``; returns that key, or "" (no choice). With ``spoken`` (word → key)
        and a recogniser, saying a word counts as its key: the question is then played
        over the call's AudioSocket, interruptible by voice or key; if the audio does
        not connect, keys over AGI as without."""
        if spoken and self.hub is not None:
            try:
                return await self._ask_spoken(
                    session, kind, call_id, text, language, keys, spoken, self.hub
                )
            except AudioNotConnected as exc:
                if session.hung_up:
                    raise AgiHangup("hung up before the audio connected") from exc
                log.warning("dialer %s %s: no speech audio (%s); keys only", kind, call_id, exc)
        for _ in range(ASK_TIMES):
            choice = await self.say(session, kind, call_id, text, language, keys)
            if not choice:
                response = await session.command("WAIT FOR DIGIT", CHOICE_WAIT_MS)
                choice = chr(response.result_int) if response.result_int > 0 else ""
            if choice and choice in keys:
                return choice
        return ""

    async def _ask_spoken(
        self,
        session: AgiSession,
        kind: str,
        call_id: int,
        text: str,
        language: Language,
        keys: str,
        spoken: Mapping[str, str],
        hub: AudioHub,
    ) -> str:
        prompt = await self.prompts.get(text, language)
        grammar = Grammar.of(spoken)
        async with audio_session(session, hub) as audio:
            for _ in range(ASK_TIMES):
                try:
                    result = await hub.listen(
                        audio.call_id,
                        grammar,
                        CHOICE_WAIT_MS / 1000,
                        prompt=prompt.path,
                        barge_in=True,
                    )
                except CallerHungUp as exc:
                    raise AgiHangup(str(exc)) from exc
                cut_by = result.digits or (result.text if result.barged_in else "")
                self.bus.publish("dialer.prompt", DialerPrompt(kind, call_id, text, cut_by))
                choice = spoken_choice(result, spoken, keys)
                if choice:
                    return choice
        return ""


class _SlotWords(Protocol):
    @property
    def starts_at(self) -> dt.datetime: ...
    @property
    def doctor_name_zh(self) -> str: ...
    @property
    def doctor_name_en(self) -> str: ...
    @property
    def department_name_zh(self) -> str: ...
    @property
    def department_name_en(self) -> str: ...


class DialerCallApp:
    """What the offer and reminder FastAGI apps share: their parts and the slot as the
    patient's language says it."""

    def __init__(
        self,
        *,
        store: StoreGateway,
        prompts: PromptCache,
        layout: InstanceLayout,
        bus: EventBus,
        policy: DialerPolicy,
        hospital_names: Mapping[Language, str],
        clock: Callable[[], dt.datetime] = utcnow,
        hub: AudioHub | None = None,
    ) -> None:
        self.store = store
        self.voice = CallVoice(prompts=prompts, layout=layout, bus=bus, hub=hub)
        self.bus = bus
        self.policy = policy
        self.hospital_names = hospital_names
        self.clock = clock

    def slot_words(self, language: Language, slot: _SlotWords) -> texts.SlotOffer:
        zh = language is Language.MANDARIN
        return texts.SlotOffer(
            doctor_name=slot.doctor_name_zh if zh else slot.doctor_name_en,
            department_name=slot.department_name_zh if zh else slot.department_name_en,
            starts_at=slot.starts_at,
            timezone=self.policy.timezone,
        )
