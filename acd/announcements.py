"""What a waiting caller hears, and when. Pure.

Callers hold to music. After ``first_after_s`` they hear how many callers are ahead of
them and the expected wait, then again every ``every_s`` — but only what is worth hearing:
a position when someone is ahead, an expected wait when it is finite and long enough to
matter (under ``min_wait_s`` it will be over before the sentence is), and, to callers whose
number can be called back, how to ask for a callback. Nothing meaningful: nothing is said.
The texts exist in Mandarin and English (``zh`` / ``en``), rendered like every other prompt
(:mod:`ivr.prompts`).
"""

# Chinese text is written with full-width punctuation, which RUF001 flags.
# ruff: noqa: RUF001

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from acd.errors import InvalidModel


@dataclass(frozen=True, slots=True)
class AnnouncementPolicy:
    first_after_s: float = 30.0
    every_s: float = 60.0
    min_wait_s: float = 60.0  # an estimate below this is not announced
    max_wait_s: float = 2 * 3600.0  # beyond this the estimate means nothing: not announced

    def __post_init__(self) -> None:
        if self.first_after_s < 0 or self.every_s <= 0:
            raise InvalidModel("announcements need first_after_s >= 0 and every_s > 0")


@dataclass(frozen=True, slots=True)
class Announcement:
    """What to tell one caller: callers ahead, expected minutes, the callback offer."""

    ahead: int | None
    minutes: int | None
    expected_wait_s: float | None
    callback_offer: bool


def announcement_due(
    policy: AnnouncementPolicy, waited_s: float, last_announced_at_waited_s: float | None
) -> bool:
    """Whether a caller who has waited ``waited_s`` is due an announcement."""
    if last_announced_at_waited_s is None:
        return waited_s >= policy.first_after_s
    return waited_s - last_announced_at_waited_s >= policy.every_s


def announcement(
    policy: AnnouncementPolicy, *, ahead: int, expected_wait_s: float, callback_offer: bool
) -> Announcement | None:
    """The announcement for a caller with ``ahead`` callers before them, or None when
    nothing in it is worth hearing."""
    meaningful_wait = (
        math.isfinite(expected_wait_s) and policy.min_wait_s <= expected_wait_s <= policy.max_wait_s
    )
    minutes = max(1, round(expected_wait_s / 60)) if meaningful_wait else None
    said_ahead = ahead if ahead >= 1 else None
    if said_ahead is None and minutes is None and not callback_offer:
        return None
    return Announcement(
        said_ahead, minutes, expected_wait_s if meaningful_wait else None, callback_offer
    )


_AHEAD: Mapping[str, str] = MappingProxyType(
    {"zh": "您前面还有{n}位来电者。", "en": "There {verb} {n} {callers} ahead of you."}
)
_MINUTES: Mapping[str, str] = MappingProxyType(
    {"zh": "预计等待约{m}分钟。", "en": "Your expected wait is about {m} {minutes}."}
)
_OFFER: Mapping[str, str] = MappingProxyType(
    {
        "zh": "如需我们回电，并保留您的排队位置，请按1。",
        "en": "To be called back without losing your place, press 1.",
    }
)
_CALLBACK_ASK: Mapping[str, str] = MappingProxyType(
    {
        "zh": "我们将回电至 {digits}。确认回电请按1，继续等候请按2。",
        "en": "We can call you back on {digits}. To confirm, press 1. To keep holding, press 2.",
    }
)
_CALLBACK_CONFIRMED: Mapping[str, str] = MappingProxyType(
    {
        "zh": "轮到您时，我们将回电至 {digits}。您的排队位置已保留。再见。",
        "en": "When it is your turn, we will call you back on {digits}. "
        "Your place is kept. Goodbye.",
    }
)
_CALLBACK_REFUSED: Mapping[str, str] = MappingProxyType(
    {
        "zh": "很抱歉，您的号码无法识别，不能回电。请继续等候。",
        "en": "Sorry, we cannot call back a withheld or unrecognised number. Please keep holding.",
    }
)
#: Messages an overflow rule may play (``OverflowRule.target`` of kind MESSAGE).
OVERFLOW_MESSAGES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "busy": MappingProxyType(
            {
                "zh": "所有坐席都在忙，请稍后再拨。",
                "en": "All our agents are busy. Please call again later.",
            }
        ),
        "closed": MappingProxyType(
            {
                "zh": "热线现在不在服务时间，请在工作时间来电。",
                "en": "The hotline is closed now. Please call again during opening hours.",
            }
        ),
    }
)


def _lang(language: str) -> str:
    return "en" if language == "en" else "zh"


def announcement_text(item: Announcement, language: str) -> str:
    """The sentence(s) the caller hears, in ``language`` (``zh`` unless ``en``)."""
    lang = _lang(language)
    parts: list[str] = []
    if item.ahead is not None:
        n = item.ahead
        parts.append(
            _AHEAD[lang].format(
                n=n, verb="is" if n == 1 else "are", callers="caller" if n == 1 else "callers"
            )
        )
    if item.minutes is not None:
        m = item.minutes
        parts.append(_MINUTES[lang].format(m=m, minutes="minute" if m == 1 else "minutes"))
    if item.callback_offer:
        parts.append(_OFFER[lang])
    return ("" if lang == "zh" else " ").join(parts)


def callback_ask_text(digits: str, language: str) -> str:
    """The number read back with the question: 1 confirms the callback, 2 keeps holding."""
    return _CALLBACK_ASK[_lang(language)].format(digits=digits)


def callback_confirmed_text(digits: str, language: str) -> str:
    return _CALLBACK_CONFIRMED[_lang(language)].format(digits=digits)


def callback_refused_text(language: str) -> str:
    return _CALLBACK_REFUSED[_lang(language)]


def overflow_message_text(message: str, language: str) -> str:
    """The text of overflow message ``message``; KeyError for a message not in
    :data:`OVERFLOW_MESSAGES` (configuration is checked against it)."""
    return OVERFLOW_MESSAGES[message][_lang(language)]


__all__ = [
    "OVERFLOW_MESSAGES",
    "Announcement",
    "AnnouncementPolicy",
    "announcement",
    "announcement_due",
    "announcement_text",
    "callback_ask_text",
    "callback_confirmed_text",
    "callback_refused_text",
    "overflow_message_text",
]
