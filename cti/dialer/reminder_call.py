"""Calls about a patient's own appointment, as FastAGI apps:

* ``AGI(…/dialer-reminder,<call>,<AMD>)`` — the day before: a person hears the
  appointment and presses 1 to confirm or 2 to cancel (the place then goes to the
  waitlist through the refill);
* ``AGI(…/dialer-follow-up,<call>,<AMD>)`` — after the visit: a short keypad survey
  whose answers are stored.

A machine hears nothing personal. Every ending is stored and published as
``dialer.reminder_finished``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from crm_store.enums import ReminderResult
from crm_store.errors import InvalidTransition
from crm_store.repositories.reminders import ReminderDetails, ReminderRepository
from cti.dialer import texts
from cti.dialer.voice import DialerCallApp, parse_call_args
from cti.errors import AgiHangup
from cti.fastagi import AgiSession
from cti.settings import Language

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReminderFinished:
    """Published as ``dialer.reminder_finished`` when a reminder call's result is known."""

    call_id: int
    result: ReminderResult


class ReminderCallApp(DialerCallApp):
    async def __call__(self, session: AgiSession) -> None:
        args = parse_call_args(session.env.arguments)
        if args is None:
            log.warning("dialer-reminder AGI without a valid call id")
            await session.hangup()
            return
        call_id = args.call_id
        details = await self.store.read(lambda s: ReminderRepository(s).details(call_id))
        if details is None or details.result is not ReminderResult.PENDING:
            log.warning("dialer-reminder AGI for call %s, which is not in flight", call_id)
            await session.hangup()
            return
        if args.amd_status == "MACHINE":
            await self.finish(call_id, ReminderResult.MACHINE, f"AMD {args.amd_cause}")
            await session.hangup()
            return
        try:
            await self._converse(session, details)
        except AgiHangup:
            await self.finish(call_id, ReminderResult.NO_INPUT, "hung up")

    async def _converse(self, session: AgiSession, details: ReminderDetails) -> None:
        language = Language(details.language.value)
        appointment = self.slot_words(language, details)
        text = texts.reminder_text(language, appointment, self.hospital_names[language])
        choice = await self.voice.ask(session, "reminder", details.call_id, text, language)
        if choice == "1":
            await self.finish(details.call_id, ReminderResult.CONFIRMED, None)
            reply = texts.confirmed_text(language)
        elif choice == "2":
            now = self.clock()
            try:
                closed = await self.store.write(
                    lambda s: ReminderRepository(s).cancel_appointment(details.call_id, now=now)
                )
            except InvalidTransition:
                closed = False
            if closed:
                self.bus.publish(
                    "dialer.reminder_finished",
                    ReminderFinished(details.call_id, ReminderResult.CANCELLED),
                )
            reply = texts.reminder_cancelled_text(language)
        else:
            await self.finish(details.call_id, ReminderResult.NO_INPUT, None)
            reply = texts.reminder_no_choice_text(language)
        await self.voice.say(session, "reminder", details.call_id, reply, language)
        await session.hangup()

    async def finish(self, call_id: int, result: ReminderResult, detail: str | None) -> None:
        now = self.clock()
        closed = await self.store.write(
            lambda s: ReminderRepository(s).finish(call_id, result, now=now, detail=detail)
        )
        if closed:
            self.bus.publish("dialer.reminder_finished", ReminderFinished(call_id, result))


class FollowUpCallApp(ReminderCallApp):
    async def _converse(self, session: AgiSession, details: ReminderDetails) -> None:
        language = Language(details.language.value)
        visit = self.slot_words(language, details)
        call_id = details.call_id
        intro = texts.follow_up_intro_text(language, visit, self.hospital_names[language])
        await self.voice.say(session, "follow_up", call_id, intro, language)
        answers: dict[str, int] = {}
        for question in texts.SURVEY:
            choice = await self.voice.ask(
                session, "follow_up", call_id, question.text(language), language, question.keys
            )
            if not choice:
                break  # no answer: keep what was answered, ask nothing more
            answers[question.key] = int(choice)
        complete = len(answers) == len(texts.SURVEY)
        now = self.clock()
        closed = await self.store.write(
            lambda s: ReminderRepository(s).record_answers(
                call_id, answers, complete=complete, now=now
            )
        )
        if closed:
            result = ReminderResult.COMPLETED if complete else ReminderResult.NO_INPUT
            self.bus.publish("dialer.reminder_finished", ReminderFinished(call_id, result))
        reply = texts.follow_up_thanks_text(language)
        await self.voice.say(session, "follow_up", call_id, reply, language)
        await session.hangup()
