"""The offer call's AMI action and texts (pure)."""

# Chinese text is written with full-width punctuation, which RUF001 flags.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from crm_store.enums import DialerCallResult
from cti.ami import check_action_values
from cti.dialer import texts
from cti.dialer.config import DialerPolicy
from cti.dialer.originate import (
    OFFER_CONTEXT,
    REMINDER_CONTEXT,
    BadDialString,
    dial_channel,
    dialer_originate_action,
    unanswered_result,
)
from cti.settings import Language


def test_originate_action_places_the_offer_call() -> None:
    action = dialer_originate_action(
        channel_template="PJSIP/{number}@trunk",
        number_e164="+8613800138000",
        call_id=42,
        ring_timeout_s=30,
        caller_id="Hospital <10000>",
    )
    check_action_values(action)
    assert action["Channel"] == "PJSIP/+8613800138000@trunk"
    assert action["Context"] == OFFER_CONTEXT
    assert action["Timeout"] == "30000"
    assert action["Variable"] == ["HOTLINE_OFFER=42"]
    assert dial_channel("Local/{digits}@sim", "+8613800138000") == "Local/8613800138000@sim"
    reminder = dialer_originate_action(
        channel_template="PJSIP/{number}@trunk",
        number_e164="+8613800138000",
        call_id=7,
        ring_timeout_s=30,
        caller_id="Hospital <10000>",
        context=REMINDER_CONTEXT,
    )
    assert (reminder["Context"], reminder["Variable"]) == (REMINDER_CONTEXT, ["HOTLINE_REMINDER=7"])


@pytest.mark.parametrize(
    "number", ["13800138000", "+86138\r\nAction: Hangup", "+86 138", "", "+0123456789"]
)
def test_only_e164_numbers_reach_the_action(number: str) -> None:
    with pytest.raises(BadDialString):
        dial_channel("PJSIP/{number}@trunk", number)


def test_template_and_caller_id_are_checked() -> None:
    with pytest.raises(BadDialString):
        dial_channel("PJSIP/trunk", "+8613800138000")
    with pytest.raises(BadDialString):
        dialer_originate_action(
            channel_template="PJSIP/{number}@trunk",
            number_e164="+8613800138000",
            call_id=1,
            ring_timeout_s=30,
            caller_id="x\r\nAction: Hangup",
        )
    with pytest.raises(ValidationError):
        DialerPolicy(channel="PJSIP/trunk")


@pytest.mark.parametrize(
    ("response", "result"),
    [
        ({"Response": "Success", "Reason": "4"}, None),
        ({"Response": "Failure", "Reason": "3"}, DialerCallResult.NO_ANSWER),
        ({"Response": "Failure", "Reason": "5"}, DialerCallResult.BUSY),
        ({"Response": "Failure", "Reason": "8"}, DialerCallResult.BUSY),
        ({"Response": "Failure", "Reason": "0"}, DialerCallResult.FAILED),
        ({"Response": "Failure"}, DialerCallResult.FAILED),
    ],
)
def test_unanswered_calls_are_classified(
    response: dict[str, str], result: DialerCallResult | None
) -> None:
    assert unanswered_result(response) is result


def test_offer_text_says_doctor_department_day_and_time_in_the_patients_language() -> None:
    offer = texts.SlotOffer(
        doctor_name="Li\r\n<speak>",
        department_name="cardiology",
        starts_at=dt.datetime(2027, 6, 3, 2, 30, tzinfo=dt.UTC),  # 10:30 in Shanghai
        timezone="Asia/Shanghai",
    )
    english = texts.offer_text(Language.ENGLISH, offer, "City Hospital")
    assert "Dr. Li speak, cardiology, Thursday, 3rd June, at 10:30 AM" in english
    assert "press 1" in english and "press 2" in english
    chinese = texts.offer_text(
        Language.MANDARIN,
        texts.SlotOffer("李医生", "心内科", offer.starts_at, "Asia/Shanghai"),
        "热线总医院",
    )
    assert "心内科，李医生，6月3日 星期四，上午10点30分" in chinese
    assert "接受请按1" in chinese
    assert "A2B" not in texts.accepted_text(Language.ENGLISH, "A2B3C4D5E")
