"""The AMI side of an offer call, as plain data: the Originate action that places it,
and what Asterisk's OriginateResponse says about a call that was never answered."""

from __future__ import annotations

import re
from collections.abc import Mapping

from crm_store.enums import DialerCallResult

#: Contexts in dialplans/dialer.conf that an answered dialer call enters, and the channel
#: variable carrying the call's id there.
OFFER_CONTEXT = "hotline-dialer-offer"
REMINDER_CONTEXT = "hotline-dialer-reminder"
FOLLOW_UP_CONTEXT = "hotline-dialer-follow-up"
_CALL_VARIABLE = {
    OFFER_CONTEXT: "HOTLINE_OFFER",
    REMINDER_CONTEXT: "HOTLINE_REMINDER",
    FOLLOW_UP_CONTEXT: "HOTLINE_REMINDER",  # a follow-up is a reminder call of its kind
}

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_TEMPLATE_FIELDS = ("{number}", "{digits}")

# OriginateResponse "Reason" codes (Asterisk's AST_CONTROL_* values as Originate reports
# them): 0 failed, 1 hung up, 3 ringing without answer, 5 busy, 8 congestion.
_REASONS = {
    "0": DialerCallResult.FAILED,
    "1": DialerCallResult.NO_ANSWER,
    "3": DialerCallResult.NO_ANSWER,
    "5": DialerCallResult.BUSY,
    "8": DialerCallResult.BUSY,
}


class BadDialString(ValueError):
    """A number or channel template that must not reach an AMI action."""


def dial_channel(template: str, number_e164: str) -> str:
    """The Originate channel for a patient's number: ``{number}`` is the E.164 form
    (+8613800138000), ``{digits}`` the same without "+". The number must be E.164
    digits — nothing from a caller or a form reaches the action unvalidated."""
    if not _E164.fullmatch(number_e164):
        raise BadDialString(f"{number_e164!r} is not an E.164 number")
    if not any(field in template for field in _TEMPLATE_FIELDS):
        raise BadDialString(f"channel template {template!r} has no {{number}} or {{digits}}")
    return template.replace("{number}", number_e164).replace("{digits}", number_e164[1:])


def dialer_originate_action(
    *,
    channel_template: str,
    number_e164: str,
    call_id: int,
    ring_timeout_s: float,
    caller_id: str,
    context: str = OFFER_CONTEXT,
) -> dict[str, str | list[str]]:
    """Originate a dialer call; once answered it runs ``context`` (an offer or a
    reminder) with the call's id in its channel variable."""
    if not re.fullmatch(r"[0-9A-Za-z +<>\"._-]{0,80}", caller_id):
        raise BadDialString(f"caller ID {caller_id!r} has characters not allowed in it")
    return {
        "Action": "Originate",
        "Channel": dial_channel(channel_template, number_e164),
        "Context": context,
        "Exten": "s",
        "Priority": "1",
        "Async": "true",
        "Timeout": str(int(ring_timeout_s * 1000)),
        "CallerID": caller_id,
        "Variable": [f"{_CALL_VARIABLE[context]}={int(call_id)}"],
    }


def unanswered_result(response: Mapping[str, object]) -> DialerCallResult | None:
    """None when the call was answered (the offer app reports what happened next), else
    why it was not: no answer, busy, or failed."""
    if str(response.get("Response", "")) == "Success":
        return None
    return _REASONS.get(str(response.get("Reason", "")), DialerCallResult.FAILED)
