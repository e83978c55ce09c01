"""The IVR: flows run per call over FastAGI, speech in (vosk) and out (pyttsx3 prompts).

Public surface of speech out: :class:`PromptCache` hands out rendered 8 kHz prompt files,
:mod:`ivr.speech_text` makes names, dates, times and reference numbers speakable.
"""

from ivr.prompts import (
    VOICES,
    InvalidPromptText,
    PromptCache,
    PromptError,
    PromptFile,
    PromptRenderer,
    PromptRenderError,
    UnknownVoice,
)

__all__ = [
    "VOICES",
    "InvalidPromptText",
    "PromptCache",
    "PromptError",
    "PromptFile",
    "PromptRenderError",
    "PromptRenderer",
    "UnknownVoice",
]
