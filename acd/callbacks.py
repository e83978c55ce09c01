"""Callbacks: which caller numbers can be called back, and how Asterisk dials them. Pure.

A caller holding in ``[hotline-wait]`` may press 1 to be called back instead. Their
:class:`~acd.model.WaitingCall` stays in the queue (:meth:`~acd.model.WaitingCall.with_callback`)
and keeps its place; when its turn comes the ACD rings an agent into
``[hotline-acd-callback]`` (dialplans/hotline.conf), which dials the patient with the dial
string built here and bridges them. A patient who does not answer is tried again after
``retry_after_s``, at most ``max_attempts`` times in all; then the callback has failed.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from acd.errors import InvalidModel, UnsafeDialValue
from crm_store.phone_numbers import normalise

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_CALLBACK_DIAL = re.compile(
    r"(PJSIP/[A-Za-z0-9_.+-]{1,64}(@[A-Za-z0-9_.-]{1,64})?"
    r"|Local/[A-Za-z0-9_.+-]{1,64}@[A-Za-z0-9_-]{1,64})"
)


class CallbackOutcome(str, enum.Enum):
    CONNECTED = "connected"  # the patient answered and talked with the agent
    NOT_REACHED = "not_reached"  # the patient did not answer; another attempt follows
    FAILED = "failed"  # no attempt left (or the number cannot be dialled)


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    """How callbacks are placed. ``dial_template`` names the patient's phone with
    ``{number}`` (E.164, ``+86138...``) or ``{digits}`` (without the ``+``), e.g.
    ``PJSIP/{number}@carrier`` in production, ``Local/{digits}@patient-sim`` in tests."""

    dial_template: str
    max_attempts: int = 3
    retry_after_s: float = 300.0
    ring_s: int = 30

    def __post_init__(self) -> None:
        if "{number}" not in self.dial_template and "{digits}" not in self.dial_template:
            raise InvalidModel(
                f"callback dial template {self.dial_template!r} names no number; "
                "put {number} or {digits} where the patient's number goes"
            )
        dial_string(self, "+8613800138000")  # the template itself must give a safe string
        if self.max_attempts < 1:
            raise InvalidModel(f"callback max_attempts is {self.max_attempts}; use 1 or more")
        if self.retry_after_s < 0 or self.ring_s < 1:
            raise InvalidModel("callback retry_after_s must be >= 0 and ring_s >= 1")


def callback_number(raw: str, presentation: str = "", region: str = "CN") -> str | None:
    """The E.164 number to call a caller back on, or None when their caller ID is withheld
    (presentation ``prohib_*``) or is not a valid number."""
    if presentation.lower().startswith("prohib"):
        return None
    number = normalise(raw, region)
    return number.e164 if number.is_valid else None


def dial_string(policy: CallbackPolicy, e164: str) -> str:
    """The channel Asterisk dials for ``e164`` (checked: it goes into an AMI action)."""
    if not _E164.fullmatch(e164):
        raise UnsafeDialValue("callback number", e164)
    value = policy.dial_template.format(number=e164, digits=e164[1:])
    if not _CALLBACK_DIAL.fullmatch(value):
        raise UnsafeDialValue("callback dial string", value)
    return value


def spoken_digits(e164: str, region: str = "CN") -> str:
    """The number as a caller says it (national form, digit by digit): what they hear back."""
    national = normalise(e164, region).national or e164
    return " ".join(ch for ch in national if ch.isdigit())


__all__ = [
    "CallbackOutcome",
    "CallbackPolicy",
    "callback_number",
    "dial_string",
    "spoken_digits",
]
