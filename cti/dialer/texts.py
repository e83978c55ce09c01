"""What a patient hears on an offer call, per language (pure; no audio here).

Names of doctors and departments come from the store (typed by staff) and are cleaned
by :func:`ivr.speech_text.clean_spoken_text` before they reach the speech engine.
"""

# Chinese text is written with full-width punctuation, which RUF001 flags.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from cti.settings import Language
from ivr import speech_text

MAX_NAME_CHARS = 40


@dataclass(frozen=True)
class SlotOffer:
    """The slot on offer, as said to the patient."""

    doctor_name: str
    department_name: str
    starts_at: dt.datetime  # aware
    timezone: str


def _clean(raw: str) -> str:
    return speech_text.clean_spoken_text(raw, MAX_NAME_CHARS)


def offer_text(language: Language, offer: SlotOffer, hospital: str) -> str:
    """ "Hello, this is <hospital>. An appointment has come free: Dr. Li, cardiology,
    Thursday, 4th March, 10:30 AM. To take it, press 1. To decline, press 2." """
    local = offer.starts_at.astimezone(zoneinfo.ZoneInfo(offer.timezone))
    day = speech_text.date_text(local.date(), language)
    time = speech_text.time_text(local.time(), language)
    doctor, department, hospital = (
        _clean(offer.doctor_name),
        _clean(offer.department_name),
        _clean(hospital),
    )
    if language is Language.MANDARIN:
        return (
            f"您好，这里是{hospital}。您在候补名单上的预约有空位了：{department}，{doctor}，"
            f"{day}，{time}。接受请按1，不需要请按2。"
        )
    return (
        f"Hello, this is {hospital}. An appointment you are waiting for has come free: "
        f"Dr. {doctor}, {department}, {day}, at {time}. To take it, press 1. "
        "To decline, press 2."
    )


def accepted_text(language: Language, reference: str) -> str:
    spoken = speech_text.reference_text(reference, language)
    if language is Language.MANDARIN:
        return f"预约成功。您的预约号是{spoken}。再见。"
    return f"It is booked. Your reference is {spoken}. Goodbye."


def taken_text(language: Language) -> str:
    if language is Language.MANDARIN:
        return "抱歉，这个号刚刚被其他患者预约了。您仍在候补名单上。再见。"
    return (
        "Sorry, that appointment was just taken by another patient. "
        "You stay on the waiting list. Goodbye."
    )


def declined_text(language: Language) -> str:
    if language is Language.MANDARIN:
        return "好的，您仍在候补名单上。再见。"
    return "Thank you. You stay on the waiting list. Goodbye."


def no_choice_text(language: Language) -> str:
    if language is Language.MANDARIN:
        return "我们没有收到您的选择。您仍在候补名单上。再见。"
    return "We did not hear a choice. You stay on the waiting list. Goodbye."
