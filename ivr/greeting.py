"""The first thing a caller hears: a greeting by name when their number is known.

This is the FastAGI app behind ``AGI(agi://…/inbound)``. It answers, identifies the
caller by caller ID, greets them in their language (by name only when exactly one
patient owns the number, so a shared family phone never hears the wrong name), and
hands the call back to the dialplan, which sends it on to the agents' queue.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from cti.asterisk.provisioner import InstanceLayout
from cti.bus import EventBus
from cti.caller_identification import CallerIdentifier
from cti.errors import AgiHangup
from cti.fastagi import AgiEnvironment, AgiSession
from cti.settings import Language
from ivr import speech_text
from ivr.prompts import PromptCache

log = logging.getLogger(__name__)

#: Where the dialplan sends the caller after the greeting (context,exten,priority).
AFTER_GREETING = "hotline-agents,s,1"


@dataclass(frozen=True, slots=True)
class PromptPlayed:
    """Published on the bus as ``ivr.prompt_played`` for every prompt a caller hears."""

    uniqueid: str
    text: str
    language: Language
    asterisk_file: str
    interrupted_by: str  # the key that cut it short, "" if none
    completed: bool  # False when the caller hung up during it
    samples_played: int = 0  # as Asterisk reports it (8000 a second)


def presentation_restricted(env: AgiEnvironment) -> bool:
    """Whether the caller asked for their number to be withheld (AST_PRES_RESTRICTED)."""
    try:
        return int(env.get("agi_callingpres", "0")) & 0x60 == 0x20
    except ValueError:
        return False


class GreetingApp:
    def __init__(
        self,
        *,
        identifier: CallerIdentifier,
        prompts: PromptCache,
        layout: InstanceLayout,
        bus: EventBus,
        default_language: Language,
        hospital_names: Mapping[Language, str],
    ) -> None:
        self.identifier = identifier
        self.prompts = prompts
        self.layout = layout
        self.bus = bus
        self.default_language = default_language
        self.hospital_names = hospital_names

    async def __call__(self, session: AgiSession) -> None:
        env = session.env
        await session.answer()
        # Greet by name only the owner of the number, and not when they withheld it or
        # when the AGI environment shows signs of injected lines.
        if env.tampered or presentation_restricted(env):
            patient = None
        else:
            patient = (await self.identifier.identify(env.caller_number)).owner
        language = self.default_language
        if patient is not None:
            try:
                language = Language(patient.preferred_language)
            except ValueError:
                pass
        hospital = self.hospital_names[language]
        if patient is not None:
            text = speech_text.greeting_known(language, patient.display_name, hospital)
            await session.set_variable("HOTLINE_PATIENT_ID", str(patient.patient_id))
        else:
            text = speech_text.greeting_unknown(language, hospital)
        await self._say(session, text, language)
        await session.set_variable("HOTLINE_NEXT", AFTER_GREETING)

    async def _say(self, session: AgiSession, text: str, language: Language) -> None:
        prompt = await self.prompts.get(text, language)
        asterisk_file = str(self.layout.to_asterisk(prompt.path).with_suffix(""))
        uniqueid = session.env.uniqueid
        try:
            playback = await session.stream_file(asterisk_file, escape_digits="0123456789*#")
        except AgiHangup:
            self.bus.publish(
                "ivr.prompt_played",
                PromptPlayed(uniqueid, text, language, asterisk_file, "", completed=False),
            )
            raise
        self.bus.publish(
            "ivr.prompt_played",
            PromptPlayed(
                uniqueid, text, language, asterisk_file, playback.digit, True, playback.samples
            ),
        )
