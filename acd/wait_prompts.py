"""The ACD's spoken words (announcements, callback confirmations, overflow messages)
rendered by the IVR's prompt cache into files Asterisk plays."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cti.asterisk import InstanceLayout
from cti.settings import Language
from ivr.prompts import PromptCache


def prompt_player(
    cache: PromptCache, layout: InstanceLayout
) -> Callable[[str, str], Awaitable[str]]:
    """A :data:`acd.service.WaitPrompts`: text and language (``zh``/``en``) in, the rendered
    file as Asterisk names it (without extension) out."""

    async def speak(text: str, language: str) -> str:
        prompt = await cache.get(text, Language.ENGLISH if language == "en" else Language.MANDARIN)
        return str(layout.to_asterisk(prompt.path_without_extension))

    return speak
