"""The offer call itself: the FastAGI app behind ``AGI(…/dialer-offer,<offer>,<AMD>)``.

Asterisk runs it once the patient's phone has answered and AMD has listened. A machine
hears nothing (no patient data on a voicemail) and the call ends; a person hears the
offer and presses 1 to take it — booked atomically, or told it was just taken — or 2
to decline. Every ending is written to the store and published on the bus as
``dialer.call_finished``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from crm_store.enums import DialerCallResult
from crm_store.errors import InvalidTransition
from crm_store.gateway import StoreGateway
from crm_store.models import utcnow
from crm_store.repositories.dialer import AcceptOutcome, DialerRepository, OfferDetails
from cti.asterisk.provisioner import InstanceLayout
from cti.bus import EventBus
from cti.dialer import texts
from cti.dialer.config import DialerPolicy
from cti.errors import AgiHangup
from cti.fastagi import AgiSession
from cti.settings import Language
from ivr.prompts import PromptCache

log = logging.getLogger(__name__)

#: How long the patient has to press a key after the offer has been said, and how often
#: the offer is said before the call ends without a choice.
CHOICE_WAIT_MS = 5000
OFFER_REPEATS = 2


@dataclass(frozen=True, slots=True)
class CallFinished:
    """Published as ``dialer.call_finished`` when an offer call's result is known."""

    offer_id: int
    result: DialerCallResult
    appointment_id: int | None = None


@dataclass(frozen=True, slots=True)
class OfferPrompt:
    """Published as ``dialer.prompt`` for every text an offer call plays."""

    offer_id: int
    text: str
    interrupted_by: str


class OfferCallApp:
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
        self.prompts = prompts
        self.layout = layout
        self.bus = bus
        self.policy = policy
        self.hospital_names = hospital_names
        self.clock = clock

    async def __call__(self, session: AgiSession) -> None:
        args = session.env.arguments
        # The offer id came from our own Originate, but it travels through the dialplan:
        # take digits only.
        if not args or not re.fullmatch(r"[0-9]{1,12}", args[0]):
            log.warning("dialer-offer AGI without a valid offer id: %r", args[:1])
            await session.hangup()
            return
        offer_id = int(args[0])
        amd_status = args[1] if len(args) > 1 else ""
        amd_cause = args[2] if len(args) > 2 else ""
        details = await self.store.read(lambda s: DialerRepository(s).offer_details(offer_id))
        if details is None or details.result is not DialerCallResult.PENDING:
            log.warning("dialer-offer AGI for offer %s, which is not a call in flight", offer_id)
            await session.hangup()
            return
        now = self.clock()
        await self.store.write(lambda s: DialerRepository(s).mark_answered(offer_id, now=now))
        if amd_status == "MACHINE":
            await self._finish(offer_id, DialerCallResult.MACHINE, f"AMD {amd_cause}")
            await session.hangup()
            return
        try:
            await self._converse(session, details)
        except AgiHangup:
            await self._finish(offer_id, DialerCallResult.NO_INPUT, "hung up")

    async def _converse(self, session: AgiSession, details: OfferDetails) -> None:
        language = Language(details.language.value)
        zh = language is Language.MANDARIN
        offer = texts.SlotOffer(
            doctor_name=details.doctor_name_zh if zh else details.doctor_name_en,
            department_name=details.department_name_zh if zh else details.department_name_en,
            starts_at=details.starts_at,
            timezone=self.policy.timezone,
        )
        text = texts.offer_text(language, offer, self.hospital_names[language])
        choice = ""
        for _ in range(OFFER_REPEATS):
            choice = await self._say(session, details.offer_id, text, language, "12")
            if not choice:
                response = await session.command("WAIT FOR DIGIT", CHOICE_WAIT_MS)
                choice = chr(response.result_int) if response.result_int > 0 else ""
            if choice in ("1", "2"):
                break
        if choice == "1":
            now = self.clock()
            outcome: AcceptOutcome = await self.store.write(
                lambda s: DialerRepository(s).accept(details.offer_id, now=now)
            )
            self.bus.publish(
                "dialer.call_finished",
                CallFinished(details.offer_id, outcome.result, outcome.appointment_id),
            )
            if outcome.reference is not None:
                reply = texts.accepted_text(language, outcome.reference)
            else:
                reply = texts.taken_text(language)
        elif choice == "2":
            await self._finish(details.offer_id, DialerCallResult.DECLINED, None)
            reply = texts.declined_text(language)
        else:
            await self._finish(details.offer_id, DialerCallResult.NO_INPUT, None)
            reply = texts.no_choice_text(language)
        await self._say(session, details.offer_id, reply, language, "")
        await session.hangup()

    async def _say(
        self, session: AgiSession, offer_id: int, text: str, language: Language, keys: str
    ) -> str:
        prompt = await self.prompts.get(text, language)
        asterisk_file = str(self.layout.to_asterisk(prompt.path).with_suffix(""))
        playback = await session.stream_file(asterisk_file, escape_digits=keys)
        self.bus.publish("dialer.prompt", OfferPrompt(offer_id, text, playback.digit))
        return playback.digit

    async def _finish(self, offer_id: int, result: DialerCallResult, detail: str | None) -> None:
        now = self.clock()
        try:
            closed = await self.store.write(
                lambda s: DialerRepository(s).finish_call(offer_id, result, now=now, detail=detail)
            )
        except InvalidTransition:
            closed = False
        if closed:
            self.bus.publish("dialer.call_finished", CallFinished(offer_id, result))
