"""The dialer's policy settings: when, how often and how many patients may be phoned.

A pydantic model so it nests in :class:`cti.settings.Settings` (``HOTLINE_DIALER__…``
environment variables or a ``[dialer]`` table in the TOML file) and is validated once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crm_store.phone_numbers import normalise


def check_timezone(value: str) -> str:
    """An IANA time zone name, or ValueError (pydantic validator)."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None
    return value


class DialerPolicy(BaseModel):
    """Calling rules for slot offers. Times of day and days are the hospital's own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Off until a site switches it on: an outbound dialer phones patients.
    enabled: bool = False
    timezone: str = "Asia/Shanghai"
    # Calling window: [calling_start, calling_end) on the listed ISO weekdays (1 = Monday).
    calling_days: frozenset[int] = frozenset({1, 2, 3, 4, 5, 6})
    calling_start: dt.time = dt.time(9, 0)
    calling_end: dt.time = dt.time(19, 0)
    # Per patient, across every slot: at most this many calls in ``attempt_window``,
    # and never two within ``attempt_spacing`` of each other.
    max_attempts_per_patient: int = Field(default=2, ge=1, le=10)
    attempt_window: dt.timedelta = dt.timedelta(hours=24)
    attempt_spacing: dt.timedelta = dt.timedelta(minutes=30)
    # How many patients are phoned at once for one slot, and in total (outbound lines).
    parallel_offers_per_slot: int = Field(default=3, ge=1, le=20)
    total_lines: int = Field(default=10, ge=1, le=500)
    # How long one offer call may take from dialling to the patient's answer key.
    offer_hold: dt.timedelta = dt.timedelta(minutes=2)
    # A slot starting sooner than this is no longer offered (the patient could not come).
    min_lead_time: dt.timedelta = dt.timedelta(hours=2)
    # After refusing an offer a patient is not phoned again for this long.
    refusal_cooldown: dt.timedelta = dt.timedelta(days=7)
    # Numbers never to phone, in any format the store understands (kept as E.164).
    do_not_call: frozenset[str] = frozenset()
    # Telephony: the Originate channel for a patient's number ({number}: E.164,
    # {digits}: without "+"), how long it rings, the caller ID shown, and how often the
    # dialer looks for freed slots (it is also woken by every call that ends).
    channel: str = "PJSIP/{number}@trunk"
    ring_timeout: dt.timedelta = dt.timedelta(seconds=30)
    caller_id: str = Field(default="Hospital <10000>", max_length=80)
    poll_interval: dt.timedelta = dt.timedelta(seconds=5)
    # Day-before appointment reminders (confirm, or cancel — which frees the place for
    # refill), under the same calling hours, attempts, lines and do-not-call list.
    reminders: bool = False
    # Post-visit follow-up survey the day after an attended visit, for these departments
    # (their codes); none: no follow-ups.
    follow_up_departments: frozenset[str] = frozenset()
    # Spoken answers on offer calls ("say yes or press 1"), used only when Hotline has a
    # recogniser (Settings.vosk_model_path): the words for yes and for no in each patient
    # language, which must be in the model's vocabulary. No words for a language: that
    # language's offers are keypad only. Keys 1 and 2 always work.
    speech_yes_zh: tuple[str, ...] = ("是", "好", "要")
    speech_no_zh: tuple[str, ...] = ("不", "不要")
    speech_yes_en: tuple[str, ...] = ("yes",)
    speech_no_en: tuple[str, ...] = ("no",)
    # For the operators' figures: revenue recovered per refilled slot.
    average_fee: float = Field(default=50.0, ge=0)
    fee_currency: str = Field(default="CNY", min_length=3, max_length=3)

    _known_timezone = field_validator("timezone")(check_timezone)

    @field_validator("calling_days")
    @classmethod
    def _iso_weekdays(cls, value: frozenset[int]) -> frozenset[int]:
        if not value or not value <= set(range(1, 8)):
            raise ValueError("calling_days must be ISO weekdays 1 (Monday) to 7 (Sunday)")
        return value

    @field_validator("do_not_call")
    @classmethod
    def _e164_numbers(cls, value: frozenset[str]) -> frozenset[str]:
        numbers = set()
        for raw in value:
            number = normalise(raw)
            if number.e164 is None:
                raise ValueError(f"do-not-call entry {raw!r} is not a phone number")
            numbers.add(number.e164)
        return frozenset(numbers)

    @field_validator("channel")
    @classmethod
    def _dialable_template(cls, value: str) -> str:
        from cti.dialer.originate import dial_channel  # the same check Originate makes

        dial_channel(value, "+8613800138000")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> DialerPolicy:
        if self.calling_end <= self.calling_start:
            raise ValueError("calling_end must be after calling_start (same day)")
        names = ("attempt_window", "attempt_spacing", "offer_hold", "min_lead_time")
        for name in (*names, "ring_timeout", "poll_interval"):
            if getattr(self, name) <= dt.timedelta(0):
                raise ValueError(f"{name} must be positive")
        return self

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)
