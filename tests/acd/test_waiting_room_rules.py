"""The waiting room's pure rules: what callers hear and when, which numbers can be called
back and how they are dialled, the expected-wait error, and queues from settings."""

# Chinese text is written with full-width punctuation, which RUF001 flags.
# ruff: noqa: RUF001

from __future__ import annotations

import math

import pytest

from acd.announcements import (
    OVERFLOW_MESSAGES,
    Announcement,
    AnnouncementPolicy,
    announcement,
    announcement_due,
    announcement_text,
    callback_ask_text,
    callback_confirmed_text,
    overflow_message_text,
)
from acd.callbacks import CallbackPolicy, callback_number, dial_string, spoken_digits
from acd.config import queue_from_setting
from acd.errors import InvalidModel, UnsafeDialValue
from acd.model import OverflowKind
from acd.wait_error import wait_error
from cti.settings import AcdQueueSetting

POLICY = AnnouncementPolicy(first_after_s=30, every_s=60, min_wait_s=60)


def test_first_announcement_after_the_delay_then_every_interval():
    assert not announcement_due(POLICY, 29.9, None)
    assert announcement_due(POLICY, 30.0, None)
    assert not announcement_due(POLICY, 89.0, 30.0)
    assert announcement_due(POLICY, 90.0, 30.0)


def test_first_in_line_with_a_short_wait_hears_nothing():
    assert announcement(POLICY, ahead=0, expected_wait_s=40, callback_offer=False) is None
    assert announcement(POLICY, ahead=0, expected_wait_s=0, callback_offer=False) is None


def test_nobody_staffed_gives_no_wait_figure():
    item = announcement(POLICY, ahead=3, expected_wait_s=math.inf, callback_offer=False)
    assert item == Announcement(3, None, None, False)


def test_a_meaningful_wait_is_said_in_whole_minutes():
    item = announcement(POLICY, ahead=2, expected_wait_s=200, callback_offer=True)
    assert item == Announcement(2, 3, 200, True)
    assert announcement_text(item, "en") == (
        "There are 2 callers ahead of you. Your expected wait is about 3 minutes. "
        "To be called back without losing your place, press 1."
    )
    assert announcement_text(item, "zh") == (
        "您前面还有2位来电者。预计等待约3分钟。如需我们回电，并保留您的排队位置，请按1。"
    )


def test_the_callback_offer_alone_is_worth_saying():
    item = announcement(POLICY, ahead=0, expected_wait_s=10, callback_offer=True)
    assert item == Announcement(None, None, None, True)
    one = announcement(POLICY, ahead=1, expected_wait_s=60, callback_offer=False)
    assert one is not None
    assert announcement_text(one, "en") == (
        "There is 1 caller ahead of you. Your expected wait is about 1 minute."
    )


@pytest.mark.parametrize(
    ("raw", "presentation", "expected"),
    [
        ("13800138000", "allowed_not_screened", "+8613800138000"),
        ("+86 138 0013 8000", "", "+8613800138000"),
        ("13800138000", "prohib_not_screened", None),  # withheld by the caller
        ("", "", None),
        ("anonymous", "", None),
        ("12", "", None),
        ("138;00\r\n", "", None),
    ],
)
def test_only_a_valid_shown_number_can_be_called_back(raw, presentation, expected):
    assert callback_number(raw, presentation, "CN") == expected


def test_dial_string_from_the_template_and_nothing_else():
    policy = CallbackPolicy("PJSIP/{number}@carrier")
    assert dial_string(policy, "+8613800138000") == "PJSIP/+8613800138000@carrier"
    local = CallbackPolicy("Local/{digits}@patient-sim")
    assert dial_string(local, "+8613800138000") == "Local/8613800138000@patient-sim"
    with pytest.raises(UnsafeDialValue):
        dial_string(policy, "+86138&PJSIP/evil")
    with pytest.raises(InvalidModel):
        CallbackPolicy("PJSIP/fixed@carrier")
    with pytest.raises(UnsafeDialValue):
        CallbackPolicy("PJSIP/{number}@carrier,,D(1)")
    with pytest.raises(InvalidModel):
        CallbackPolicy("PJSIP/{number}@carrier", max_attempts=0)


def test_the_number_is_read_back_digit_by_digit_in_national_form():
    digits = spoken_digits("+8613800138000", "CN")
    assert digits == "1 3 8 0 0 1 3 8 0 0 0"
    assert digits in callback_confirmed_text(digits, "en")


def test_the_number_read_back_asks_1_to_confirm_and_2_to_keep_holding_in_both_languages():
    digits = "1 3 8"
    zh, en = callback_ask_text(digits, "zh"), callback_ask_text(digits, "en")
    assert digits in zh and "按1" in zh and "按2" in zh
    assert digits in en and "press 1" in en and "press 2" in en


def test_overflow_messages_exist_in_both_languages():
    for message in OVERFLOW_MESSAGES:
        assert overflow_message_text(message, "zh") and overflow_message_text(message, "en")
    with pytest.raises(KeyError):
        overflow_message_text("no-such-message", "zh")


def test_expected_wait_error_gives_mean_absolute_error_and_bias():
    report = wait_error([(60.0, 90.0), (120.0, 60.0), (30.0, 30.0)])
    assert report.calls == 3
    assert report.mean_absolute_error_s == 30.0
    assert report.bias_s == -10.0
    assert "3 calls" in report.describe()
    assert wait_error([]).calls == 0


def test_queue_settings_become_queues_with_their_overflow_rule():
    to_queue = queue_from_setting(
        AcdQueueSetting(
            name="general", skill="general", language="zh", max_waiting=5, overflow_to_queue="b"
        )
    )
    assert to_queue.max_waiting == 5 and to_queue.overflow is not None
    assert (to_queue.overflow.kind, to_queue.overflow.target) == (OverflowKind.QUEUE, "b")
    message = queue_from_setting(
        AcdQueueSetting(
            name="night",
            skill="general",
            language="zh",
            max_wait_s=120,
            overflow_message="closed",
            overflow_then_fallback=True,
        )
    )
    assert message.overflow is not None and message.overflow.then_fallback
    assert queue_from_setting(AcdQueueSetting(name="q", skill="s", language="zh")).overflow is None
    with pytest.raises(ValueError, match="choose one"):
        AcdQueueSetting(
            name="q", skill="s", language="zh", overflow_to_queue="b", overflow_message="busy"
        )
