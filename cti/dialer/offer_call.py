"""The offer call itself: the FastAGI app behind ``AGI(…/dialer-offer,<offer>,<AMD>)``.

Asterisk runs it once the patient's phone has answered and AMD has listened. A machine
hears nothing (no patient data on a voicemail) and the call ends; a person hears the
offer and presses 1 to take it — booked atomically, or told it was just taken — or 2
to decline. Every ending is written to the store and published on the bus as
``dialer.call_finished`` (and every text played as ``dialer.prompt``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from crm_store.enums import DialerCallResult
from crm_store.errors import InvalidTransition
from crm_store.repositories.dialer import AcceptOutcome, DialerRepository, OfferDetails
from cti.dialer import texts
from cti.dialer.voice import DialerCallApp, first_words, parse_call_args, spoken_answers
from cti.errors import AgiHangup
from cti.fastagi import AgiSession
from cti.settings import Language

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CallFinished:
    """Published as ``dialer.call_finished`` when an offer call's result is known."""

    offer_id: int
    result: DialerCallResult
    appointment_id: int | None = None


class OfferCallApp(DialerCallApp):
    async def __call__(self, session: AgiSession) -> None:
        args = parse_call_args(session.env.arguments)
        if args is None:
            log.warning("dialer-offer AGI without a valid offer id")
            await session.hangup()
            return
        offer_id = args.call_id
        details = await self.store.read(lambda s: DialerRepository(s).offer_details(offer_id))
        if details is None or details.result is not DialerCallResult.PENDING:
            log.warning("dialer-offer AGI for offer %s, which is not a call in flight", offer_id)
            await session.hangup()
            return
        now = self.clock()
        await self.store.write(lambda s: DialerRepository(s).mark_answered(offer_id, now=now))
        if args.amd_status == "MACHINE":
            await self._finish(offer_id, DialerCallResult.MACHINE, f"AMD {args.amd_cause}")
            await session.hangup()
            return
        try:
            await self._converse(session, details)
        except AgiHangup:
            await self._finish(offer_id, DialerCallResult.NO_INPUT, "hung up")

    async def _converse(self, session: AgiSession, details: OfferDetails) -> None:
        language = Language(details.language.value)
        offer = self.slot_words(language, details)
        # Spoken yes/no only where a recogniser can hear them; the question names them.
        answers = self.voice.understood(spoken_answers(self.policy, language))
        words = first_words(answers)
        text = texts.offer_text(language, offer, self.hospital_names[language], spoken=words)
        choice = await self.voice.ask(
            session, "offer", details.offer_id, text, language, spoken=answers
        )
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
        await self.voice.say(session, "offer", details.offer_id, reply, language)
        await session.hangup()

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
