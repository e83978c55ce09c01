"""Speaking on a dialer call over FastAGI: play a text in the patient's language and
read the key they press (shared by offer and reminder calls)."""

from __future__ import annotations

import datetime as dt
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
from cti.fastagi import AgiSession
from cti.settings import Language
from ivr.prompts import PromptCache

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


def parse_call_args(args: Sequence[str]) -> CallArgs | None:
    """The call id came from our own Originate but travels through the dialplan: digits
    only, else None."""
    if not args or not re.fullmatch(r"[0-9]{1,12}", args[0]):
        return None
    return CallArgs(
        int(args[0]), args[1] if len(args) > 1 else "", args[2] if len(args) > 2 else ""
    )


class CallVoice:
    def __init__(self, *, prompts: PromptCache, layout: InstanceLayout, bus: EventBus) -> None:
        self.prompts = prompts
        self.layout = layout
        self.bus = bus

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
    ) -> str:
        """Say the question (up to :data:`ASK_TIMES` times) until the patient presses one
        of ``keys``; returns that key, or "" (no choice)."""
        for _ in range(ASK_TIMES):
            choice = await self.say(session, kind, call_id, text, language, keys)
            if not choice:
                response = await session.command("WAIT FOR DIGIT", CHOICE_WAIT_MS)
                choice = chr(response.result_int) if response.result_int > 0 else ""
            if choice and choice in keys:
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
    ) -> None:
        self.store = store
        self.voice = CallVoice(prompts=prompts, layout=layout, bus=bus)
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
